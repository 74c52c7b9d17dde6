//! `POST /api/v1/projects/{id}/segments/preview {criteria}`: how many people
//! criteria match now, without saving anything (the builder's live count).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    criteria: Value,
}

pub async fn preview(
    State(state): State<AppState>,
    access: ProjectAccess,
    ApiJson(body): ApiJson<PreviewBody>,
) -> ApiResult<Json<Value>> {
    let (criteria, _) = super::parse_criteria(&body.criteria)?;
    let now = state.clock.now_ms();
    let count = state
        .store
        .count_matching(&access.project.id, &criteria, now)
        .await?;
    Ok(Json(json!({ "user_count": count, "counted_at": now })))
}
