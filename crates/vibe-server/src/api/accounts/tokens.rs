//! `/api/v1/tokens`: personal API tokens for scripts. The secret is shown once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use vibe_store::NewApiToken;

use crate::api::{shown_once, ApiJson, NameBody};
use crate::auth::{CurrentAccount, API_TOKEN_PREFIX};
use crate::error::ApiResult;
use crate::secrets::issue_secret;
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    ApiJson(body): ApiJson<NameBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name()?;
    let issued = issue_secret(API_TOKEN_PREFIX);
    let token = state
        .store
        .create_api_token(&NewApiToken {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: account.id,
            name,
            token_hash: issued.hash.clone(),
            prefix: issued.prefix.clone(),
            created_at: state.clock.now_ms(),
        })
        .await?;
    Ok(shown_once("token", token, issued))
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
