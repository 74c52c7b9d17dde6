//! `/api/v1/auth/*`: sign-in and sign-out of the dashboard.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use vibe_store::{Account, NewAuthSession};

use crate::api::ApiJson;
use crate::auth::{cookie_value, CurrentAccount};
use crate::client_ip::ClientIp;
use crate::domain::Email;
use crate::error::{ApiError, ApiResult};
use crate::secrets::{hash_password_async, random_token, sha256_hex, verify_password_async};
use crate::state::AppState;

const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

/// 429 while any of `keys` has too many recent failures.
pub(super) fn throttled(state: &AppState, keys: &[&str]) -> ApiResult<()> {
    match state.throttle.retry_after(keys, state.clock.now_ms()) {
        None => Ok(()),
        Some(retry_after_s) => Err(ApiError::RateLimited {
            message: format!("too many failed attempts; try again in {retry_after_s} s"),
            retry_after_s,
        }),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Response> {
    let invalid = || {
        ApiError::client(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        )
    };
    let ip_key = format!("ip:{ip}");
    let Ok(email) = Email::parse("email", &body.email).map(Email::into_inner) else {
        throttled(&state, &[&ip_key])?;
        state
            .throttle
            .record_failure(&[&ip_key], state.clock.now_ms());
        return Err(invalid());
    };
    // Unknown emails count too, so throttling says nothing about who exists.
    let account_key = format!("email:{email}");
    let keys = [ip_key.as_str(), account_key.as_str()];
    throttled(&state, &keys)?;
    let found = state.store.account_by_email(&email).await?;
    let verified = match &found {
        Some(f) => verify_password_async(body.password, f.password_hash.clone()).await?,
        None => {
            // Spend the same time as a real check so unknown emails are not revealed.
            let _ = verify_password_async(body.password, dummy_hash().await?).await?;
            false
        }
    };
    match found {
        Some(f) if verified => {
            state.throttle.clear(&account_key);
            start_session(&state, f.account).await
        }
        _ => {
            state.throttle.record_failure(&keys, state.clock.now_ms());
            Err(invalid())
        }
    }
}

/// A real argon2id hash of a random string, used to equalise login timing.
async fn dummy_hash() -> ApiResult<String> {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    Ok(HASH
        .get_or_try_init(|| hash_password_async(random_token("")))
        .await?
        .clone())
}

fn session_cookie(state: &AppState, value: &str, max_age_s: i64) -> ApiResult<HeaderValue> {
    let name = state.config.session_cookie();
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_s}{secure}"
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

pub(super) async fn start_session(state: &AppState, account: Account) -> ApiResult<Response> {
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
    let mut res = Json(json!({ "account": account })).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(state, &token, SESSION_TTL_MS / 1000)?,
    );
    Ok(res)
}

fn signed_out(state: &AppState) -> ApiResult<Response> {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(state, "", 0)?);
    Ok(res)
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie_value(&headers, state.config.session_cookie()) {
        state.store.delete_auth_session(&sha256_hex(token)).await?;
    }
    signed_out(&state)
}

/// `POST /api/v1/auth/logout-all`: ends every dashboard session of the caller
/// (open live feeds close with 4401 at their next check). API tokens stay.
pub async fn logout_all(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
) -> ApiResult<Response> {
    let ended = state.store.delete_auth_sessions_of(&account.id).await?;
    tracing::info!(account = %account.id, sessions = ended, "signed out everywhere");
    signed_out(&state)
}

pub async fn me(CurrentAccount(account): CurrentAccount) -> Json<serde_json::Value> {
    Json(json!({ "account": account }))
}
