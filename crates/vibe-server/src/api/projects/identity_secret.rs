//! `/api/v1/projects/{id}/identity-secret`: the secret a site's backend signs
//! user ids with when the project verifies identities (`identity.rs`).
//! Admins only; it is never part of the project itself.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use vibe_store::{IdentityVerification, StoreError};

use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::ApiResult;
use crate::identity::new_secret;
use crate::state::AppState;

pub async fn current(state: &AppState, project_id: &str) -> ApiResult<IdentityVerification> {
    Ok(state
        .store
        .identity_verification(project_id)
        .await?
        .ok_or(StoreError::NotFound)?)
}

/// Turns verification on or off; turning it on creates the secret if there
/// is none yet.
pub async fn set_required(
    state: &AppState,
    project_id: &str,
    required: bool,
) -> ApiResult<IdentityVerification> {
    let secret = (required && current(state, project_id).await?.secret.is_none()).then(new_secret);
    let v = state
        .store
        .set_identity_verification(project_id, Some(required), secret.as_deref())
        .await?;
    state.identity.invalidate(project_id);
    Ok(v)
}

fn body(v: &IdentityVerification) -> Json<Value> {
    Json(json!({"identity_verification": v.required, "secret": v.secret}))
}

/// `GET`: the current secret, created on first read so the site can start
/// signing before verification is switched on.
pub async fn secret(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<Value>> {
    let v = current(&state, &access.project.id).await?;
    if v.secret.is_some() {
        return Ok(body(&v));
    }
    let v = state
        .store
        .set_identity_verification(&access.project.id, None, Some(&new_secret()))
        .await?;
    Ok(body(&v))
}

/// `POST`: replaces the secret. Browsers signed with the old one fail until
/// the site signs with the new one.
pub async fn rotate(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
) -> ApiResult<Json<Value>> {
    let v = state
        .store
        .set_identity_verification(&access.project.id, None, Some(&new_secret()))
        .await?;
    state.identity.invalidate(&access.project.id);
    tracing::info!(project = %access.project.id, "identity secret rotated");
    // The new secret itself is never logged.
    let resource = "identity-secret";
    audit::record(
        &state,
        &access,
        "identity_secret.rotate",
        resource,
        json!({}),
        ip,
    )
    .await?;
    Ok(body(&v))
}
