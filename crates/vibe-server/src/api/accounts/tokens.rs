//! `/api/v1/tokens`: personal API tokens for scripts. The secret is shown once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vibe_store::NewApiToken;

use crate::api::ApiJson;
use crate::auth::{CurrentAccount, API_TOKEN_PREFIX};
use crate::domain::Name;
use crate::error::ApiResult;
use crate::secrets::{display_prefix, random_token, sha256_hex};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateToken {
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = Name::parse("name", &body.name)?.into_inner();
    let secret = random_token(API_TOKEN_PREFIX);
    let token = state
        .store
        .create_api_token(&NewApiToken {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: account.id,
            name,
            token_hash: sha256_hex(&secret),
            prefix: display_prefix(&secret),
            created_at: state.clock.now_ms(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "secret": secret })),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
) -> ApiResult<Json<Value>> {
    let tokens = state.store.list_api_tokens(&account.id).await?;
    Ok(Json(json!({ "tokens": tokens })))
}

pub async fn revoke(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .revoke_api_token(&account.id, &token_id, state.clock.now_ms())
        .await
        .map_err(|_| crate::error::ApiError::not_found("token"))?;
    Ok(StatusCode::NO_CONTENT)
}
