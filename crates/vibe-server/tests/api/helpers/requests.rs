//! Dashboard requests: one builder for every method, cookie or token, and the
//! JSON readers the tests keep needing.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use super::{json_of, Session, TestApp};

impl TestApp {
    /// `method path` with the session's cookie and, when given, a JSON body.
    pub async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        send(
            self.request(method, path).header("cookie", &session.0),
            body,
        )
        .await
    }

    /// `method path` as the dashboard's page sends it before signing in: its
    /// Origin, no cookie.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// [`TestApp::request`] sent, with a JSON body when given.
    pub async fn call_anonymous(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        send(self.request(method, path), body).await
    }

    pub async fn get(&self, session: &Session, path: &str) -> Response {
        self.call(session, Method::GET, path, None).await
    }

    pub async fn post(&self, session: &Session, path: &str, body: Value) -> Response {
        self.call(session, Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, session: &Session, path: &str, body: Value) -> Response {
        self.call(session, Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, session: &Session, path: &str, body: Value) -> Response {
        self.call(session, Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, session: &Session, path: &str) -> Response {
        self.call(session, Method::DELETE, path, None).await
    }

    /// The body of `GET path`, whatever the status.
    pub async fn get_json(&self, session: &Session, path: &str) -> Value {
        json_of(self.get(session, path).await).await
    }

    /// The body of `POST path`, whatever the status.
    pub async fn post_json(&self, session: &Session, path: &str, body: Value) -> Value {
        json_of(self.post(session, path, body).await).await
    }

    /// A request with no cookie and no Origin, as curl or a script sends it.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        reqwest::Client::new().request(method, self.url(path))
    }

    /// `method path` with a bearer token (API token or secret key) and no cookie.
    pub async fn call_bearer(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        send(self.bare(method, path).bearer_auth(token), body).await
    }

    /// `POST path` with a bearer secret key and a JSON body, as the server-side
    /// API is called (from the test's client, like every request here).
    pub async fn post_bearer(&self, key: &str, path: &str, body: Value) -> Response {
        send(
            self.request(Method::POST, path).bearer_auth(key),
            Some(body),
        )
        .await
    }

    /// Mints an API token; returns the created body (`secret`, `token`).
    pub async fn mint_token(&self, session: &Session, name: &str) -> Value {
        created(
            self.post(session, "/api/v1/tokens", json!({"name": name}))
                .await,
        )
        .await
    }

    /// Mints an API token; returns its secret.
    pub async fn api_token(&self, session: &Session, name: &str) -> String {
        string_at(&self.mint_token(session, name).await, "secret")
    }

    /// Mints a project's secret key; returns the created body (`secret`, `key`).
    pub async fn mint_key(&self, session: &Session, project_id: &str, name: &str) -> Value {
        let path = format!("/api/v1/projects/{project_id}/keys");
        created(self.post(session, &path, json!({"name": name})).await).await
    }

    /// Mints a project's secret key; returns its secret.
    pub async fn secret_key(&self, session: &Session, project_id: &str, name: &str) -> String {
        string_at(&self.mint_key(session, project_id, name).await, "secret")
    }

    pub async fn account_id(&self, session: &Session) -> String {
        let me = self.get_json(session, "/api/v1/auth/me").await;
        me["account"]["id"].as_str().expect("account id").to_owned()
    }

    /// The PostgreSQL URL (with its test schema) the app runs on.
    pub fn database_url(&self) -> String {
        let url = self.state.config.database_url.as_ref();
        url.expect("a PostgreSQL app").expose().to_owned()
    }
}

async fn send(req: RequestBuilder, body: Option<Value>) -> Response {
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    req.send().await.expect("request")
}

/// The body of a `201 Created`.
pub async fn created(res: Response) -> Value {
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    json_of(res).await
}

pub fn string_at(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_owned()
}

/// `v[key]`, which must be an array.
pub fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("an array {key} in {v}"))
}

/// `key` of every object in `items`, sorted, to compare sets of ids.
pub fn sorted_strings(items: &[Value], key: &str) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|v| string_at(v, key)).collect();
    out.sort();
    out
}

/// The users per step of a funnel conversion.
pub fn step_users(conversion: &Value) -> Vec<i64> {
    list(conversion, "steps")
        .iter()
        .map(|s| s["users"].as_i64().unwrap())
        .collect()
}

impl TestApp {
    /// The members of a project as (email, role), as `session` sees them.
    pub async fn members(&self, session: &Session, project_id: &str) -> Vec<(String, String)> {
        let path = format!("/api/v1/projects/{project_id}/members");
        let res = self.get(session, &path).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        list(&json_of(res).await, "members")
            .iter()
            .map(|m| (string_at(m, "email"), string_at(m, "role")))
            .collect()
    }
}
