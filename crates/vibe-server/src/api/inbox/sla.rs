//! `GET /api/v1/projects/{id}/sla-policies` and `PUT/DELETE
//! …/sla-policies/{priority}`: first-response, resolution and (optional)
//! next-response targets per
//! conversation priority, with optional business hours (admins set them;
//! agents read them). How timers are measured: docs/metrics.md.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::{Priority, SlaPolicy};
use vibe_store::StoreError;

use super::fields;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A year: targets beyond it are mistakes, not policies.
const MAX_TARGET_S: i64 = 366 * 24 * 3600;

fn policy_json(p: &SlaPolicy) -> Value {
    let mut v = json!(p);
    v["business_hours"] = p
        .business_hours
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    v
}

fn priority_of(raw: &str) -> ApiResult<Priority> {
    Priority::parse(raw).ok_or_else(|| ApiError::not_found("priority"))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let policies = state.store.sla_policies(&access.project.id).await?;
    let list: Vec<Value> = policies.iter().map(policy_json).collect();
    Ok(Json(json!({ "policies": list })))
}

pub async fn put(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, priority)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let priority = priority_of(&priority)?;
    let (mut first, mut resolution, mut next, mut hours) = (None, None, None, None);
    for (key, v) in &body {
        match key.as_str() {
            "first_response_target_s" => first = Some(fields::int_in(key, v, 1, MAX_TARGET_S)?),
            "resolution_target_s" => resolution = Some(fields::int_in(key, v, 1, MAX_TARGET_S)?),
            "next_response_target_s" if v.is_null() => next = None,
            "next_response_target_s" => next = Some(fields::int_in(key, v, 1, MAX_TARGET_S)?),
            "business_hours" => hours = fields::business_hours(v)?,
            _ => {
                return Err(fields::unknown(
                    key,
                    "first_response_target_s, resolution_target_s, next_response_target_s, business_hours",
                ))
            }
        }
    }
    let missing = |f: &str| ApiError::field("missing_field", f, "seconds, at least 1");
    let policy = SlaPolicy {
        priority: priority.as_str().to_owned(),
        first_response_target_s: first.ok_or_else(|| missing("first_response_target_s"))?,
        resolution_target_s: resolution.ok_or_else(|| missing("resolution_target_s"))?,
        next_response_target_s: next,
        business_hours: hours,
        updated_at: state.clock.now_ms(),
    };
    let stored = state
        .store
        .put_sla_policy(&access.project.id, &policy)
        .await?;
    Ok(Json(policy_json(&stored)))
}

pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, priority)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let priority = priority_of(&priority)?;
    match state
        .store
        .delete_sla_policy(&access.project.id, priority)
        .await
    {
        Err(StoreError::NotFound) => Err(ApiError::not_found("SLA policy")),
        other => other.map(|()| StatusCode::NO_CONTENT).map_err(Into::into),
    }
}
