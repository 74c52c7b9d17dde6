//! `GET /api/v1/projects/{id}/events`: the most recent stored events, newest first
//! (the integration page's "first event arrived" check and debugging).

use axum::extract::{Query, State};
use axum::Json;
use std::collections::HashMap;

use serde_json::{json, Value};

use crate::api::query::int_in;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn recent(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = int_in(&q, "limit", 50, 1..=500)?;
    let events = state.store.recent_events(&access.project.id, limit).await?;
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let props = e
                .props
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok())
                .unwrap_or(Value::Null);
            let mut v = json!(e);
            v["props"] = props;
            v
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}
