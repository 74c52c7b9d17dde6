//! First-run setup: `POST /api/v1/setup` creates the first owner, and
//! `GET /setup` serves the form for it.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use vibe_store::{Role, SetupClaim};

use super::auth::{start_session, throttled};
use crate::api::ApiJson;
use crate::client_ip::ClientIp;
use crate::domain::{Email, Password};
use crate::error::{ApiError, ApiResult};
use crate::secrets::sha256_hex;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SetupRequest {
    token: String,
    email: String,
    password: String,
}

/// Creates the first owner with the one-time token printed at start-up. The
/// database decides: the token is claimed in one statement that also checks
/// no owner exists, so it works once across all nodes.
pub async fn setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SetupRequest>,
) -> ApiResult<Response> {
    let ip_key = format!("setup:{ip}");
    throttled(&state, &[&ip_key])?;
    let email = Email::parse("email", &body.email)?.into_inner();
    let password = Password::parse("password", &body.password)?.into_inner();
    // Only the SHA-256 of the token is compared, so the time a comparison
    // takes says nothing about the token itself.
    let token_hash = sha256_hex(&body.token);
    match state
        .store
        .claim_setup_token(&token_hash, state.clock.now_ms())
        .await?
    {
        SetupClaim::Claimed => {}
        SetupClaim::WrongToken => {
            state
                .throttle
                .record_failure(&[&ip_key], state.clock.now_ms());
            return Err(ApiError::field(
                "invalid_token",
                "token",
                "the setup token is wrong",
            ));
        }
        SetupClaim::Done => {
            return Err(ApiError::client(
                StatusCode::GONE,
                "setup_done",
                "an owner already exists; sign in instead",
            ))
        }
    }
    let account =
        match crate::bootstrap::create_account(&state, &email, password, Role::Owner).await {
            Ok(a) => a,
            Err(e) => {
                // Nothing was created: let the token be used again.
                state.store.release_setup_token(&token_hash).await?;
                return Err(e);
            }
        };
    *state.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    start_session(&state, account).await
}

/// First-run page: the dashboard's setup screen when it is built, otherwise a
/// minimal form that posts to `/api/v1/setup`.
pub async fn setup_page(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if crate::web::is_built() {
        return crate::web::serve(method, uri, headers).await;
    }
    Html(include_str!("../../../assets/setup.html")).into_response()
}

/// The minimal setup form's script, served as a file so the page needs no
/// inline script under the Content-Security-Policy.
pub async fn setup_script() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        include_str!("../../../assets/setup.js"),
    )
}
