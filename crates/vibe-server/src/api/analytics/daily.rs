//! `GET /api/v1/projects/{id}/stats/daily`: daily statistics for a range of days.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use jiff::civil::Date;
use serde_json::{json, Value};
use vibe_core::day::{parse_day, ProjectTz};

use super::definitions;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest range `stats/daily` serves in one request.
const MAX_DAYS: i64 = 366;

pub async fn daily(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let today = tz.date_of(state.clock.now_ms());
    let (from, to) = date_range(&q, today, 30)?;
    let days = definitions::daily(state.store.as_ref(), &access.project, from, to).await?;
    Ok(Json(
        json!({ "days": days, "timezone": access.project.timezone }),
    ))
}

/// `from`/`to` query parameters (`YYYY-MM-DD`, inclusive); by default the
/// `default_days` days ending today.
pub fn date_range(
    q: &HashMap<String, String>,
    today: Date,
    default_days: i64,
) -> ApiResult<(Date, Date)> {
    let parse = |field: &str| -> ApiResult<Option<Date>> {
        match q.get(field) {
            None => Ok(None),
            Some(v) => parse_day(v).map(Some).ok_or_else(|| {
                ApiError::field("invalid_field", field, "must be a date like 2026-01-31")
            }),
        }
    };
    let to = parse("to")?.unwrap_or(today);
    let from = match parse("from")? {
        Some(f) => f,
        None => to
            .checked_sub(jiff::Span::new().days(default_days - 1))
            .unwrap_or(to),
    };
    if from > to {
        return Err(ApiError::field(
            "invalid_field",
            "from",
            "must not be after `to`",
        ));
    }
    let span = vibe_core::day::days_between(from, to).len() as i64;
    if span > MAX_DAYS {
        return Err(ApiError::field(
            "invalid_field",
            "from",
            format!("the range may cover at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}
