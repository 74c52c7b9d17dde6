//! The features domain (`vibe_store::features`): `GET /projects/{id}/features`,
//! custom event names with their use over a range of days, read from the
//! `feature_days` / `feature_user_days` rollups. Definitions: docs/metrics.md.

pub mod routes;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_core::day::ProjectTz;

use crate::api::analytics::daily::date_range;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// Default range: the last 30 days.
const DEFAULT_DAYS: i64 = 30;

/// `part` of `whole` in percent, one decimal; 0 when `whole` is 0.
pub fn pct(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let today = tz.date_of(state.clock.now_ms());
    let (from, to) = date_range(&q, today, DEFAULT_DAYS)?;
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let usage = state
        .store
        .feature_usage(&access.project.id, &from_s, &to_s)
        .await?;
    let days: Vec<String> = vibe_core::day::days_between(from, to)
        .iter()
        .map(ToString::to_string)
        .collect();
    let features: Vec<Value> = usage
        .features
        .iter()
        .map(|f| {
            let counts: HashMap<&str, i64> =
                f.daily.iter().map(|(d, n)| (d.as_str(), *n)).collect();
            let daily: Vec<Value> = days
                .iter()
                .map(|d| json!({"day": d, "count": counts.get(d.as_str()).copied().unwrap_or(0)}))
                .collect();
            json!({
                "name": f.name,
                "total": f.total,
                "unique_people": f.unique_people,
                "share_of_active_pct": pct(f.unique_people, usage.active_people),
                "daily": daily,
            })
        })
        .collect();
    Ok(Json(json!({
        "from": from_s,
        "to": to_s,
        "timezone": access.project.timezone,
        "active_people": usage.active_people,
        "features": features,
    })))
}
