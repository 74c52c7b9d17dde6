//! `GET /api/v1/projects/{id}/users/{uid}/sessions`: a person's session history.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use vibe_store::users::SessionWithPages;

use super::ProjectUser;
use crate::api::query::int_in;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize)]
struct SessionOut {
    #[serde(flatten)]
    inner: SessionWithPages,
    /// Still going: not left, and seen within the online window.
    active: bool,
    duration_s: i64,
}

pub async fn sessions(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = int_in(&q, "limit", 20, 1..=100)?;
    let now = state.clock.now_ms();
    let window_ms = access.project.online_window_s * 1000;
    let sessions: Vec<SessionOut> = state
        .store
        .user_sessions(&access.project.id, &user.id, limit)
        .await?
        .into_iter()
        .map(|mut s| {
            let active = s.session.ended_at.is_none() && s.session.last_seen_at >= now - window_ms;
            if !active && s.session.ended_at.is_none() {
                s.session.ended_at = Some(s.session.last_seen_at);
            }
            let duration_s = (s.session.last_seen_at - s.session.started_at).max(0) / 1000;
            SessionOut {
                inner: s,
                active,
                duration_s,
            }
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}
