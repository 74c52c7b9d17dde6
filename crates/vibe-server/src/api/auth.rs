//! `/api/v1/auth/*` and first-run setup.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use vibe_store::{Account, NewAuthSession, Role};

use super::ApiJson;
use crate::auth::{cookie_value, CurrentAccount, SESSION_COOKIE};
use crate::domain::{Email, Password};
use crate::error::{ApiError, ApiResult};
use crate::secrets::{hash_password_async, random_token, sha256_hex, verify_password_async};
use crate::state::AppState;

const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Response> {
    let invalid = || {
        ApiError::client(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        )
    };
    let email = Email::parse("email", &body.email)
        .map_err(|_| invalid())?
        .into_inner();
    let Some(found) = state.store.account_by_email(&email).await? else {
        // Spend the same time as a real check so unknown emails are not revealed.
        let _ = verify_password_async(body.password, dummy_hash().await).await;
        return Err(invalid());
    };
    if !verify_password_async(body.password, found.password_hash).await {
        return Err(invalid());
    }
    start_session(&state, found.account).await
}

/// A real argon2id hash of a random string, used to equalise login timing.
async fn dummy_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        hash_password_async(random_token(""))
            .await
            .unwrap_or_default()
    })
    .await
    .clone()
}

async fn start_session(state: &AppState, account: Account) -> ApiResult<Response> {
    let token = random_token("");
    let now = state.clock.now_ms();
    state
        .store
        .create_auth_session(&NewAuthSession {
            token_hash: sha256_hex(&token),
            account_id: account.id.clone(),
            created_at: now,
            expires_at: now + SESSION_TTL_MS,
        })
        .await?;
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
        SESSION_TTL_MS / 1000
    );
    let mut res = Json(json!({ "account": account })).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
    );
    Ok(res)
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_auth_session(&sha256_hex(token)).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("vibe_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    Ok(res)
}

pub async fn me(CurrentAccount(account): CurrentAccount) -> Json<serde_json::Value> {
    Json(json!({ "account": account }))
}

#[derive(Deserialize)]
pub struct SetupRequest {
    token: String,
    email: String,
    password: String,
}

/// Creates the first owner with the one-time token printed at start-up.
pub async fn setup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetupRequest>,
) -> ApiResult<Response> {
    let email = Email::parse("email", &body.email)?.into_inner();
    let password = Password::parse("password", &body.password)?.into_inner();
    {
        let guard = state.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_deref() {
            Some(t) if t == body.token => {}
            Some(_) => {
                return Err(ApiError::field(
                    "invalid_token",
                    "token",
                    "the setup token is wrong",
                ))
            }
            None => {
                return Err(ApiError::client(
                    StatusCode::GONE,
                    "setup_done",
                    "an owner already exists; sign in instead",
                ))
            }
        }
    }
    let account = crate::bootstrap::create_account(&state, &email, password, Role::Owner).await?;
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
    Html(include_str!("../../assets/setup.html")).into_response()
}
