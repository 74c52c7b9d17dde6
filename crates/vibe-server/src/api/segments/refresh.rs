//! `POST /api/v1/projects/{id}/segments/{sid}/refresh`: recounts a segment's
//! `user_count` now (the scheduler also does, every few minutes).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use crate::auth::ProjectAccess;
use crate::error::{ApiResult, OrNotFound};
use crate::state::AppState;

pub async fn refresh(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, sid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let segment = state
        .store
        .refresh_segment(&access.project.id, &sid, state.clock.now_ms())
        .await?
        .or_not_found("segment")?;
    Ok(Json(super::shown(&segment)))
}
