//! `spawn_app(backend)`: a real server on 127.0.0.1:0 over a fresh database, and
//! one helper per endpoint.

mod errors;
mod fake_provider;
mod first_run;
mod messages;
mod python;
mod requests;
mod signed_in;
mod store;

pub use errors::*;
pub use fake_provider::*;
pub use first_run::*;
pub use messages::*;
pub use python::*;
pub use requests::*;
pub use signed_in::*;

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use vibe_core::time::Clock;
use vibe_server::config::Config;
use vibe_server::state::AppState;
use vibe_server::App;
use vibe_store::Project;

pub const OWNER_EMAIL: &str = "owner@example.com";
pub const OWNER_PASSWORD: &str = "correct-horse-battery";
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub clock: Clock,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: TempDir,
}

/// A signed-in dashboard user (their session cookie).
#[derive(Clone)]
pub struct Session(pub String);

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vibe-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

pub fn pg_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `None` when PostgreSQL is unreachable outside CI (the test is skipped and
/// `make test-rust` warns); under CI an unreachable PostgreSQL fails the test.
/// A fresh schema of the test PostgreSQL as a database URL; `None` (a skip)
/// when it is unreachable outside CI.
pub async fn pg_database_url() -> Option<String> {
    let url = pg_url();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    match vibe_store_postgres::PgStore::connect(&url, Some(&schema)).await {
        Ok(_) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            Some(format!("{url}{sep}options[search_path]={schema}"))
        }
        Err(e) => {
            vibe_store_postgres::unreachable::skip_or_fail(&url, &e);
            None
        }
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let dir = temp_dir();
    let mut config = Config {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.0.clone(),
        admin_email: Some(OWNER_EMAIL.into()),
        admin_password: Some(vibe_core::secret::Secret::new(OWNER_PASSWORD)),
        ..Config::default()
    };
    if let Backend::Postgres = backend {
        config.database_url = Some(vibe_core::secret::Secret::new(pg_database_url().await?));
    }
    tweak(&mut config);
    Some(start(config, Clock::default(), dir).await)
}

/// Another node on the same database as `first` (PostgreSQL), sharing its test
/// clock, as a second `vibe serve` process would.
pub async fn spawn_second_node(first: &TestApp, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = temp_dir();
    let mut config = Config {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.0.clone(),
        ..first.state.config.clone()
    };
    tweak(&mut config);
    start(config, first.clock.clone(), dir).await
}

async fn start(config: Config, clock: Clock, dir: TempDir) -> TestApp {
    let app = App::build(config, clock.clone()).await.expect("app builds");
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (tx, rx) = oneshot::channel::<()>();
    let join = tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    // Like the dashboard in a browser: state-changing cookie requests carry the
    // dashboard's own Origin (tests of cross-origin requests override it).
    let mut origin = reqwest::header::HeaderMap::new();
    origin.insert(
        reqwest::header::ORIGIN,
        base.parse().expect("origin header"),
    );
    let client = reqwest::Client::builder()
        .default_headers(origin)
        .build()
        .expect("client");
    TestApp {
        base,
        state,
        client,
        clock,
        shutdown: Some(tx),
        join: Some(join),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops this server the way SIGTERM does and starts a new one over the
    /// same database and data directory (`tweak` changes its config), as a
    /// restarted `vibe serve` would be; the test clock goes on.
    pub async fn restart(mut self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            join.await.expect("server task").expect("server run");
        }
        let mut config = self.state.config.clone();
        tweak(&mut config);
        let dir = TempDir(std::mem::take(&mut self._dir.0));
        start(config, self.clock.clone(), dir).await
    }

    /// Stops the server the way SIGTERM does and waits for the queue to drain.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            join.await.expect("server task").expect("server run");
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request")
    }

    pub async fn login_owner(&self) -> Session {
        let res = self.login(OWNER_EMAIL, OWNER_PASSWORD).await;
        session_from(res)
    }

    /// Creates an account through the same path as `vibe user create` and signs in.
    pub async fn create_user(&self, email: &str, role: vibe_store::Role) -> Session {
        self.add_account(email, role).await;
        session_from(self.login(email, OWNER_PASSWORD).await)
    }

    /// An account made as `vibe user create` makes it (password [`OWNER_PASSWORD`]).
    pub async fn add_account(&self, email: &str, role: vibe_store::Role) {
        vibe_server::bootstrap::create_account(&self.state, email, OWNER_PASSWORD.into(), role)
            .await
            .expect("create account");
    }

    pub async fn projects(&self, session: &Session) -> Vec<Project> {
        let body = self.get_json(session, "/api/v1/projects").await;
        body["projects"]
            .as_array()
            .expect("projects")
            .iter()
            .map(project_of)
            .collect()
    }

    pub async fn default_project(&self, session: &Session) -> Project {
        self.projects(session)
            .await
            .into_iter()
            .next()
            .expect("a default project")
    }

    pub async fn create_project(&self, session: &Session, name: &str) -> Project {
        self.create_project_from(session, json!({ "name": name }))
            .await
    }

    /// `POST /api/v1/projects` with `body` (name, origins, time zone), which must succeed.
    pub async fn create_project_from(&self, session: &Session, body: Value) -> Project {
        let res = self.post(session, "/api/v1/projects", body).await;
        project_of(&created(res).await)
    }

    /// `POST /api/v1/collect` as a browser would (text/plain, desktop Chrome UA).
    pub fn collect_request(&self, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
        self.client
            .post(self.url("/api/v1/collect"))
            .header("content-type", "text/plain;charset=UTF-8")
            .header("user-agent", BROWSER_UA)
            .body(body)
    }

    pub async fn collect_raw(&self, body: impl Into<reqwest::Body>) -> Response {
        self.collect_request(body).send().await.expect("request")
    }

    /// A collector request in flight on its own task, for tests that need many
    /// at once (queue pressure, batching).
    pub fn spawn_collect(&self, body: Value) -> tokio::task::JoinHandle<Response> {
        let req = self.collect_request(body.to_string());
        tokio::spawn(async move { req.send().await.expect("request") })
    }

    pub async fn collect(&self, write_key: &str, batch: Vec<Value>) -> Response {
        self.collect_raw(json!({"key": write_key, "batch": batch}).to_string())
            .await
    }

    /// Collects and asserts the batch was accepted; returns (accepted, duplicates).
    pub async fn collect_ok(&self, write_key: &str, batch: Vec<Value>) -> (u64, u64) {
        let res = self.collect(write_key, batch).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let body = json_of(res).await;
        (
            body["accepted"].as_u64().unwrap(),
            body["duplicates"].as_u64().unwrap(),
        )
    }

    pub async fn online(&self, session: &Session, project_id: &str) -> Response {
        self.get(session, &format!("/api/v1/projects/{project_id}/online"))
            .await
    }

    pub async fn online_visitors(&self, session: &Session, project_id: &str) -> Vec<Value> {
        let res = self.online(session, project_id).await;
        assert_eq!(res.status(), StatusCode::OK);
        json_of(res).await["visitors"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn events(&self, session: &Session, project_id: &str) -> Vec<Value> {
        let res = self
            .get(
                session,
                &format!("/api/v1/projects/{project_id}/events?limit=500"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        json_of(res).await["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn project_of(p: &Value) -> Project {
    Project {
        id: p["id"].as_str().unwrap().into(),
        name: p["name"].as_str().unwrap().into(),
        write_key: p["write_key"].as_str().unwrap().into(),
        allowed_origins: serde_json::from_value(p["allowed_origins"].clone()).expect("origins"),
        timezone: p["timezone"].as_str().unwrap().into(),
        online_window_s: p["online_window_s"].as_i64().unwrap(),
        created_at: p["created_at"].as_i64().unwrap(),
    }
}

pub fn session_from(res: Response) -> Session {
    assert_eq!(res.status(), StatusCode::OK, "login failed");
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    Session(cookie)
}

/// Generates one `#[tokio::test]` per backend for each listed async test function
/// taking a [`Backend`].
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}

impl TestApp {
    /// Polls a funnel until its rollup, built in the background, is ready. The
    /// builder runs in real time (not on the test clock), so this waits for real.
    pub async fn wait_funnel_ready(&self, session: &Session, project_id: &str, fid: &str) -> Value {
        for _ in 0..3000 {
            let f = json_of(
                self.get(
                    session,
                    &format!("/api/v1/projects/{project_id}/funnels/{fid}"),
                )
                .await,
            )
            .await;
            if f["status"] == "ready" {
                return f;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("funnel {fid} never became ready");
    }
}
