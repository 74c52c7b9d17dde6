//! `GET /api/v1/projects/{id}/funnels/{fid}/conversion`: how far people got.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::funnel::step_results;

use super::{build_of, find, shown};
use crate::api::query::int_in;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// `GET …/funnels/{fid}/conversion?days=30`: people who did step 1 in the last
/// `days` days, and how far they got in order within the funnel's window.
pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, fid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let days = int_in(&q, "days", 30, 1..=365)?;
    let funnel = find(&state, &access, &fid).await?;
    let build = build_of(&state, &access.project.id, &fid).await?;
    if let Some(b) = build.as_ref().filter(|b| !b.is_ready()) {
        // Numbers from a half-built rollup would be wrong: say so instead.
        return Ok(Json(json!({
            "funnel": shown(&funnel, Some(b)),
            "days": days,
            "status": "building",
            "progress_pct": b.progress_pct(),
            "steps": null,
        })));
    }
    let now = state.clock.now_ms();
    let from = now - days * 86_400_000;
    // The rollup holds, per person and step count, the latest attempt's start.
    let counts = state
        .store
        .funnel_reach_counts(&access.project.id, &funnel.id, from)
        .await?;
    let mut reached = vec![0; funnel.steps.len()];
    for (k, people) in counts {
        if let Some(slot) = usize::try_from(k - 1).ok().and_then(|i| reached.get_mut(i)) {
            *slot = people;
        }
    }
    let steps = step_results(&funnel.steps, &reached);
    Ok(Json(json!({
        "funnel": shown(&funnel, build.as_ref()),
        "days": days,
        "status": "ready",
        "steps": steps,
    })))
}
