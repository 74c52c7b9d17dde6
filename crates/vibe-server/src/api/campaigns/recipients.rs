//! `GET …/campaigns/{campaign_id}/recipients?status=&cursor=&limit=`: the
//! campaign's recipients by person id, a page at a time (`next_cursor`
//! while there are more), optionally of one status. Each shows its address,
//! status, skip reason, attempts, times, error and `Message-ID` — not its
//! token, which is the recipient's own key to its unsubscribe link.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::campaigns::RecipientStatus;

use super::find;
use crate::api::inbox::fields;
use crate::api::query::int_in;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const STATUSES: &str = "queued, claimed, sent, failed, unknown, skipped, cancelled";

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, campaign_id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let c = find(&state, &access, &campaign_id).await?;
    let status = q
        .get("status")
        .filter(|s| !s.is_empty())
        .map(|s| fields::query_name("status", s, RecipientStatus::parse, STATUSES))
        .transpose()?;
    let after = match q.get("cursor").filter(|s| !s.is_empty()) {
        Some(raw) => Some(unhex(raw).ok_or_else(|| {
            ApiError::field("invalid_field", "cursor", "not a cursor of this list")
        })?),
        None => None,
    };
    let limit = int_in(&q, "limit", 100, 1..=500)?;
    let rows = state
        .store
        .campaign_recipients(
            &access.project.id,
            &c.id,
            status,
            after.as_deref(),
            limit + 1,
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<Value> = rows
        .iter()
        .take(limit as usize)
        .map(|r| {
            json!({
                "person_id": r.person_id,
                "address": r.address,
                "status": r.status,
                "skip_reason": r.skip_reason,
                "attempts": r.attempts,
                "claimed_at": r.claimed_at,
                "sent_at": r.sent_at,
                "error": r.error,
                "message_id": r.message_id,
            })
        })
        .collect();
    let next = more
        .then(|| items.last().and_then(|r| r["person_id"].as_str()).map(hex))
        .flatten();
    Ok(Json(json!({ "recipients": items, "next_cursor": next })))
}
