//! `GET /api/v1/projects/{id}/outbound/queue` (supervisor and above): the
//! project's outbound queue — messages waiting for a send (`queued`, retries
//! included), being sent (`sending`), failed in the last 24 hours and
//! accepted by the provider in the last hour, in total and per channel
//! (the Support analytics' queue metrics; `outbound/` sends them).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn get(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let stats = state
        .store
        .outbound_queue_stats(&access.project.id, now)
        .await?;
    Ok(Json(json!(stats)))
}
