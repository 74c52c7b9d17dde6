//! `GET /api/v1/projects/{id}/flows/{flow_id}/stats?days=30`: the flow's
//! attempts that started in the last `days` local days (today included),
//! from its rollup (docs/metrics.md, "Flows").

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_core::day::ProjectTz;
use vibe_store::flows::attempt::median_seconds;

use super::{find, shown};
use crate::api::query::int_in;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// `part / whole` in percent with one decimal; `None` when `whole` is 0.
fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, fid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let days = int_in(&q, "days", 30, 1..=365)?;
    let flow = find(&state, &access, &fid).await?;
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let to = tz.date_of(state.clock.now_ms());
    let from = to
        .checked_sub(jiff::Span::new().days(days - 1))
        .unwrap_or(to);
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let rollup = state
        .store
        .flow_days(&access.project.id, &flow.id, &from_s, &to_s)
        .await?;
    let by_day: HashMap<&str, _> = rollup.days.iter().map(|d| (d.day.as_str(), d)).collect();
    let (mut started, mut completed, mut failed, mut ms) = (0, 0, 0, 0);
    for d in &rollup.days {
        started += d.started;
        completed += d.completed;
        failed += d.failed;
        ms += d.completion_ms_sum;
    }
    let daily: Vec<Value> = vibe_core::day::days_between(from, to)
        .iter()
        .map(|day| {
            let day = day.to_string();
            let d = by_day.get(day.as_str());
            json!({
                "day": day,
                "started": d.map_or(0, |d| d.started),
                "completed": d.map_or(0, |d| d.completed),
                "failed": d.map_or(0, |d| d.failed),
            })
        })
        .collect();
    let avg = (completed > 0).then(|| round1(ms as f64 / completed as f64 / 1000.0));
    let median = median_seconds(&rollup.durations).map(round1);
    Ok(Json(json!({
        "flow": shown(&flow),
        "days": days,
        "from": from_s,
        "to": to_s,
        "started": started,
        "completed": completed,
        "failed": failed,
        "abandoned": (started - completed - failed).max(0),
        "completion_rate": rate(completed, started),
        "success_rate": rate(completed, completed + failed),
        "avg_completion_s": avg,
        "median_completion_s": median,
        "daily": daily,
    })))
}
