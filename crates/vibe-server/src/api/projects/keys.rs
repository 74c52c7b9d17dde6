//! `/api/v1/projects/{id}/keys`: secret keys (`sk_…`) for server-side
//! tracking. The secret is shown once; only its hash is stored.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use vibe_store::NewProjectKey;

use crate::api::{shown_once, NameBody};
use crate::audit::{self, AuditedJson};
use crate::auth::{ProjectAccess, SECRET_KEY_PREFIX};
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::secrets::issue_secret;
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    AuditedJson(body, params): AuditedJson<NameBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name()?;
    let issued = issue_secret(SECRET_KEY_PREFIX);
    let key = state
        .store
        .create_project_key(&NewProjectKey {
            id: uuid::Uuid::new_v4().to_string(),
            project_id: access.project.id.clone(),
            name,
            key_hash: issued.hash.clone(),
            prefix: issued.prefix.clone(),
            created_at: state.clock.now_ms(),
        })
        .await?;
    let resource = format!("key/{}", key.id);
    audit::record(&state, &access, "key.create", &resource, params, ip).await?;
    Ok(shown_once("key", key, issued))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let keys = state.store.list_project_keys(&access.project.id).await?;
    Ok(Json(json!({ "keys": keys })))
}

pub async fn revoke(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, key_id)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
) -> ApiResult<StatusCode> {
    state
        .store
        .revoke_project_key(&access.project.id, &key_id, state.clock.now_ms())
        .await
        .map_err(|_| ApiError::not_found("key"))?;
    let resource = format!("key/{key_id}");
    audit::record(&state, &access, "key.revoke", &resource, json!({}), ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
