//! AI token usage (`vibe_store::features::ai_usage`): `GET
//! /projects/{id}/ai-usage`, totals, by model, by person (paged) and by day
//! of the reserved `ai_usage` events, read from `ai_model_days` and (the
//! people page, live or a snapshot) `ai_usage_days`.

pub mod routes;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_core::day::ProjectTz;
use vibe_store::features::model::AiTotals;

use crate::api::analytics::daily::date_range;
use crate::api::query::int_in;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// Default range: the last 30 days.
const DEFAULT_DAYS: i64 = 30;
/// Most people in one page of `by_user`.
pub const MAX_USERS: i64 = 50;

/// The sums as the API shows them: tokens and cost in US dollars.
pub fn totals_json(t: &AiTotals) -> Value {
    json!({
        "calls": t.calls,
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "total_tokens": t.total_tokens(),
        "cost_usd": t.cost_micro_usd as f64 / 1_000_000.0,
    })
}

fn with(mut base: Value, t: &AiTotals) -> Value {
    if let (Some(o), Value::Object(sums)) = (base.as_object_mut(), totals_json(t)) {
        o.extend(sums);
    }
    base
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let today = tz.date_of(state.clock.now_ms());
    let (from, to) = date_range(&q, today, DEFAULT_DAYS)?;
    let limit = int_in(&q, "limit", MAX_USERS, 1..=MAX_USERS)?;
    let offset = int_in(&q, "offset", 0, 0..=1_000_000)?;
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let r = state
        .store
        .ai_usage(
            &access.project.id,
            &from_s,
            &to_s,
            limit,
            offset,
            state.config.ai_people_policy(state.clock.now_ms()),
        )
        .await?;
    let by_day: HashMap<&str, &AiTotals> = r
        .daily
        .iter()
        .map(|d| (d.day.as_str(), &d.totals))
        .collect();
    let zero = AiTotals::default();
    let daily: Vec<Value> = vibe_core::day::days_between(from, to)
        .iter()
        .map(|d| {
            let d = d.to_string();
            let t = by_day.get(d.as_str()).copied().unwrap_or(&zero);
            with(json!({"day": d}), t)
        })
        .collect();
    let by_model: Vec<Value> = r
        .by_model
        .iter()
        .map(|m| with(json!({"model": m.model}), &m.totals))
        .collect();
    let by_user: Vec<Value> = r
        .by_user
        .iter()
        .map(|u| {
            let user = json!({"id": u.site_user_id, "user_id": u.user_id, "email": u.email, "name": u.name});
            with(json!({"user": user}), &u.totals)
        })
        .collect();
    Ok(Json(json!({
        "from": from_s,
        "to": to_s,
        "timezone": access.project.timezone,
        "totals": totals_json(&r.totals),
        "by_model": by_model,
        "by_user": by_user,
        "users_total": r.users,
        "by_user_as_of": r.by_user_as_of_ms,
        "limit": limit,
        "offset": offset,
        "daily": daily,
    })))
}
