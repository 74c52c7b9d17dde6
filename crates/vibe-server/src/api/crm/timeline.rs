//! `GET /api/v1/projects/{id}/users/{uid}/timeline?cursor=&limit=`: a
//! contact's sessions (with pages), custom events, notes and payments,
//! newest first.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::crm::timeline::{TimelineCursor, TimelineItem};

use crate::api::people::users::ProjectUser;
use crate::api::query::int_in;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn timeline(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = int_in(&q, "limit", 50, 1..=100)?;
    let cursor = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(TimelineCursor::parse(raw).ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "cursor",
                "not a cursor this timeline returned (pass `next_cursor` as it is)",
            )
        })?),
    };
    let page = state
        .store
        .timeline(
            &access.project.id,
            &user.id,
            user.identity.user_id.as_deref(),
            cursor.as_ref(),
            limit,
        )
        .await?;
    let items: Vec<Value> = page.items.iter().map(item_json).collect();
    Ok(Json(json!({
        "items": items,
        "next_cursor": page.next_cursor.map(|c| c.encode()),
    })))
}

/// Every item has `type` and `ts`; events show their props as the object.
fn item_json(item: &TimelineItem) -> Value {
    let mut v = json!(item);
    v["ts"] = json!(item.ts());
    match item {
        TimelineItem::Session(s) => {
            v["duration_s"] = json!((s.session.last_seen_at - s.session.started_at).max(0) / 1000);
        }
        TimelineItem::Event(e) => {
            v["props"] = e
                .props
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(Value::Null);
        }
        TimelineItem::Note(_) | TimelineItem::Payment(_) => {}
    }
    v
}
