//! A first run without `VIBE_ADMIN_*`: the server prints a one-time setup link.

use reqwest::Response;
use serde_json::{json, Value};
use vibe_server::config::Config;

use super::TestApp;

/// Config tweak: no admin account from the environment.
pub fn without_admin(c: &mut Config) {
    c.admin_email = None;
    c.admin_password = None;
}

impl TestApp {
    pub fn setup_token(&self) -> String {
        let token = self.state.setup_token.lock().unwrap().clone();
        token.expect("a setup token")
    }

    /// `POST /api/v1/setup` with `body`.
    pub async fn setup(&self, body: Value) -> Response {
        let req = self.client.post(self.url("/api/v1/setup")).json(&body);
        req.send().await.expect("request")
    }

    /// Claims the setup link for `email` with a valid password.
    pub async fn setup_as(&self, token: &str, email: &str) -> Response {
        self.setup(json!({"token": token, "email": email, "password": "long-enough"}))
            .await
    }
}
