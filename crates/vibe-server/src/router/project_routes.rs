//! The access table: every route under `/api/v1/projects/{id}`, each method
//! with the least role that may call it. `router.rs` registers these and only
//! these, so a project route cannot exist without a stated role, and the access
//! matrix test (`tests/api/access_matrix.rs`) walks the same list: no
//! credential → 401, not a member → 404 with no project data, each role below
//! the minimum → 403, the minimum itself → allowed.
//!
//! The handlers enforce the roles (`ProjectAccess::require`); the table says
//! what they must be so the test can hold every handler to it.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use vibe_store::Role::{self, Admin, Viewer};

use crate::api::analytics::{daily, export, metrics};
use crate::api::funnels::{self, conversion};
use crate::api::people::users::{self, sessions};
use crate::api::projects::{self, identity_secret, keys, members, snippet};
use crate::api::tracking::{events, live, online};
use crate::state::AppState;

/// Everything a project member may reach, one line per path.
pub fn project_routes() -> Vec<ProjectRoute> {
    vec![
        at("")
            .get(Viewer, projects::get)
            .patch(Admin, projects::update),
        at("/snippet").get(Viewer, snippet::snippet),
        at("/identity-secret")
            .get(Admin, identity_secret::secret)
            .post(Admin, identity_secret::rotate),
        at("/keys").get(Admin, keys::list).post(Admin, keys::create),
        at("/keys/{key_id}").delete(Admin, keys::revoke),
        at("/members")
            .get(Admin, members::list)
            .post(Admin, members::add),
        at("/members/{account_id}")
            .patch(Admin, members::update)
            .delete(Admin, members::remove),
        at("/online").get(Viewer, online::online),
        at("/live").websocket(live::MIN_ROLE, live::live),
        at("/events").get(Viewer, events::recent),
        at("/metrics").get(Viewer, metrics::metrics),
        at("/stats/daily").get(Viewer, daily::daily),
        at("/funnels")
            .get(Viewer, funnels::list)
            .post(Admin, funnels::create),
        at("/funnels/{fid}")
            .get(Viewer, funnels::get)
            .put(Admin, funnels::update)
            .delete(Admin, funnels::delete),
        at("/funnels/{fid}/conversion").get(Viewer, conversion::get),
        at("/users").get(Viewer, users::list),
        at("/users/{uid}").get(Viewer, users::profile),
        at("/users/{uid}/sessions").get(Viewer, sessions::sessions),
        at("/export/users.csv").get(Viewer, export::users_csv),
        at("/export/metrics.csv").get(Viewer, export::metrics_csv),
    ]
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

fn at(path: &'static str) -> ProjectRoute {
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
    fn on<H: Handler<T, AppState>, T: 'static>(
        mut self,
        method: Method,
        role: Role,
        websocket: bool,
        handler: H,
    ) -> Self {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        self.router = self.router.on(filter, handler);
        self.methods.push(RouteMethod {
            method,
            min_role: role,
            websocket,
        });
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.on(Method::GET, role, false, handler)
    }

    fn websocket<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.on(Method::GET, role, true, handler)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.on(Method::POST, role, false, handler)
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.on(Method::PUT, role, false, handler)
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.on(Method::PATCH, role, false, handler)
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(self, role: Role, handler: H) -> Self {
        self.on(Method::DELETE, role, false, handler)
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
