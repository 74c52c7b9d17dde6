//! `GET /api/v1/projects/{id}/audit-log`: the project's audit log, newest
//! first, in keyset pages, filtered by actor, action, resource prefix and
//! time. Rows are written by `crate::audit::record`; this only reads them.

pub mod routes;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::audit::{AuditEntry, AuditFilter};
use vibe_store::inbox::Cursor;

use crate::api::query::int_in;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest accepted filter value, in characters.
const MAX_FILTER_CHARS: usize = 200;

pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let filter = parse_filter(&q)?;
    let cursor = match q.get("cursor").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(Cursor::parse(raw).ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "cursor",
                "not a cursor this list returned (pass `next_cursor` as it is)",
            )
        })?),
    };
    let limit = int_in(&q, "limit", 50, 1..=200)?;
    let page = state
        .store
        .audit_log(&access.project.id, &filter, cursor.as_ref(), limit)
        .await?;
    let entries: Vec<Value> = page.items.into_iter().map(entry_json).collect();
    Ok(Json(json!({
        "entries": entries,
        "next_cursor": page.next_cursor.map(|c| c.encode()),
    })))
}

/// A row as the API shows it: `params` decoded back to JSON.
fn entry_json(e: AuditEntry) -> Value {
    // Written by `audit::record` as JSON; a row that is not shows as text.
    let params = serde_json::from_str(&e.params).unwrap_or(Value::String(e.params));
    json!({
        "id": e.id,
        "actor": {"account_id": e.actor_account_id, "email": e.actor_email},
        "action": e.action,
        "resource": e.resource,
        "params": params,
        "ip": e.ip,
        "at": e.at,
    })
}

fn parse_filter(q: &HashMap<String, String>) -> ApiResult<AuditFilter> {
    let text = |field: &str| -> ApiResult<Option<String>> {
        match q.get(field).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(ApiError::field(
                "invalid_field",
                field,
                format!("at most {MAX_FILTER_CHARS} characters"),
            )),
            Some(v) => Ok(Some(v.to_owned())),
        }
    };
    let filter = AuditFilter {
        // Emails are stored lower-case.
        actor: text("actor")?.map(|a| if a.contains('@') { a.to_lowercase() } else { a }),
        action: text("action")?,
        resource_prefix: text("resource")?,
        from: time(q, "from")?,
        to: time(q, "to")?,
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(ApiError::field(
                "invalid_field",
                "from",
                "must not be after `to`",
            ));
        }
    }
    Ok(filter)
}

/// `from`/`to`: Unix ms, or an RFC 3339 timestamp (`2026-12-07T09:00:00Z`).
fn time(q: &HashMap<String, String>, field: &str) -> ApiResult<Option<i64>> {
    let Some(raw) = q.get(field).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ms = match raw.parse::<i64>() {
        Ok(ms) => Some(ms),
        Err(_) => raw
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_millisecond()),
    };
    ms.filter(|ms| *ms >= 0).map(Some).ok_or_else(|| {
        ApiError::field(
            "invalid_field",
            field,
            "must be Unix milliseconds or an RFC 3339 time like 2026-12-07T09:00:00Z",
        )
    })
}
