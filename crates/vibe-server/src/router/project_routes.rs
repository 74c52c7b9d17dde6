//! The access table: every route under `/api/v1/projects/{id}`, each method
//! with the least role that may call it, gathered from each domain's
//! `api/<domain>/routes.rs`. `router.rs` registers these and only
//! these, so a project route cannot exist without a stated role, and the access
//! matrix test (`tests/api/access_matrix.rs`) walks the same list: no
//! credential → 401, not a member → 404 with no project data, each role below
//! the minimum → 403, the minimum itself → allowed.
//!
//! The table also enforces them: each method it registers carries its
//! [`MinRole`], which the `ProjectAccess` extractor checks right after the
//! membership, before any body is read. Handlers add only finer rules (whom
//! an admin may grant which role); the WebSocket route, which authenticates
//! from its query string, checks its role itself.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Extension;
use vibe_store::Role;

use crate::api::{
    ai_usage, analytics, audit, broadcasts, campaigns, channels, crm, features, flows, funnels,
    inbox, people, projects, push, retention, revenue, segments, support_analytics, templates,
    tracking,
};
use crate::auth::MinRole;
use crate::state::AppState;

pub const GET: Method = Method::GET;
pub const POST: Method = Method::POST;
pub const PUT: Method = Method::PUT;
pub const PATCH: Method = Method::PATCH;
pub const DELETE: Method = Method::DELETE;

/// Everything a project member may reach: each domain's table
/// (`api/<domain>/routes.rs`), one line per path. A new domain adds its own.
pub fn project_routes() -> Vec<ProjectRoute> {
    [
        projects::routes::routes(),
        tracking::routes::routes(),
        analytics::routes::routes(),
        funnels::routes::routes(),
        people::routes::routes(),
        crm::routes::routes(),
        features::routes::routes(),
        flows::routes::routes(),
        ai_usage::routes::routes(),
        retention::routes::routes(),
        revenue::routes::routes(),
        segments::routes::routes(),
        inbox::routes::routes(),
        broadcasts::routes::routes(),
        channels::routes::routes(),
        audit::routes::routes(),
        support_analytics::routes::routes(),
        templates::routes::routes(),
        push::routes::routes(),
        campaigns::routes::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// One path and what each of its methods requires.
pub struct ProjectRoute {
    /// Relative to `/projects/{id}`; `""` is the project itself.
    pub path: &'static str,
    pub methods: Vec<RouteMethod>,
    router: MethodRouter<AppState>,
}

#[derive(Clone, Debug)]
pub struct RouteMethod {
    pub method: Method,
    pub min_role: Role,
    /// A WebSocket upgrade (a `GET`).
    pub websocket: bool,
}

pub fn at(path: &'static str) -> ProjectRoute {
    ProjectRoute {
        path,
        methods: Vec::new(),
        router: MethodRouter::new(),
    }
}

impl ProjectRoute {
    /// The path as registered under `/api/v1`.
    pub fn nested_path(&self) -> String {
        format!("/projects/{{id}}{}", self.path)
    }

    /// The full request path template, `/api/v1/projects/{id}…`.
    pub fn full_path(&self) -> String {
        format!("/api/v1{}", self.nested_path())
    }

    pub(super) fn into_router(self) -> MethodRouter<AppState> {
        self.router
    }

    /// Registers `handler` for `method` with its least role.
    pub fn on<H: Handler<T, AppState>, T: 'static>(
        self,
        method: Method,
        role: Role,
        handler: H,
    ) -> Self {
        self.register(method, role, false, handler)
    }

    /// A WebSocket upgrade: a `GET` the access matrix test opens as a socket.
    pub fn websocket<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.register(Method::GET, role, true, handler)
    }

    fn register<H: Handler<T, AppState>, T: 'static>(
        mut self,
        method: Method,
        role: Role,
        websocket: bool,
        handler: H,
    ) -> Self {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        self.router = self
            .router
            .on(filter, handler.layer(Extension(MinRole(role))));
        self.methods.push(RouteMethod {
            method,
            min_role: role,
            websocket,
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project route registered straight in `router.rs` would escape the
    /// table and the access matrix test; only the table may name them.
    #[test]
    fn router_registers_project_routes_only_from_the_table() {
        let source = include_str!("../router.rs");
        let offending: Vec<&str> = source
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| l.contains("/projects/{"))
            .collect();
        assert!(
            offending.is_empty(),
            "add these routes to project_routes() in router/project_routes.rs, with their minimum role: {offending:?}"
        );
    }

    #[test]
    fn every_path_and_method_is_listed_once() {
        let routes = project_routes();
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(!r.methods.is_empty(), "{} has no method", r.path);
            for m in &r.methods {
                assert!(
                    seen.insert((r.path, m.method.clone())),
                    "{} {} listed twice",
                    m.method,
                    r.path
                );
            }
        }
    }
}
