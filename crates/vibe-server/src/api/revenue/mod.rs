//! The revenue domain (`vibe_store::revenue`): `GET /projects/{id}/revenue`
//! (the report), `/exchange-rates` (`rates.rs`), and the ECB file reader
//! behind `vibe rates import` (`ecb.rs`).

pub mod ecb;
pub mod rates;
pub mod routes;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use vibe_core::day::{parse_day, ProjectTz};
use vibe_store::revenue::{Interval, RevenueQuery, RevenueReport};

use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest range of a report by day, and by month.
const MAX_DAYS: usize = 366;
const MAX_MONTH_DAYS: usize = 3_660;

/// `GET /projects/{id}/revenue?from=&to=&interval=day|month`: by default the
/// 30 days ending today, by day.
pub async fn report(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<RevenueReport>> {
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let today = tz.date_of(state.clock.now_ms());
    let query = parse_query(&q, today)?;
    let report = state
        .store
        .revenue_report(&access.project.id, &access.project.timezone, &query)
        .await?;
    Ok(Json(report))
}

fn parse_query(q: &HashMap<String, String>, today: jiff::civil::Date) -> ApiResult<RevenueQuery> {
    let interval = match q.get("interval").map(String::as_str) {
        None | Some("day") => Interval::Day,
        Some("month") => Interval::Month,
        Some(_) => {
            return Err(ApiError::field(
                "invalid_field",
                "interval",
                "must be `day` or `month`",
            ))
        }
    };
    let day = |field: &str| -> ApiResult<Option<jiff::civil::Date>> {
        q.get(field)
            .map(|v| {
                parse_day(v).ok_or_else(|| {
                    ApiError::field("invalid_field", field, "must be a date like 2026-01-31")
                })
            })
            .transpose()
    };
    let to = day("to")?.unwrap_or(today);
    let from = match day("from")? {
        Some(f) => f,
        None => to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to),
    };
    if from > to {
        return Err(ApiError::field(
            "invalid_field",
            "from",
            "must not be after `to`",
        ));
    }
    let max = match interval {
        Interval::Day => MAX_DAYS,
        Interval::Month => MAX_MONTH_DAYS,
    };
    if vibe_core::day::days_between(from, to).len() > max {
        return Err(ApiError::field(
            "invalid_field",
            "from",
            format!(
                "the range may cover at most {max} days with interval={}",
                match interval {
                    Interval::Day => "day",
                    Interval::Month => "month",
                }
            ),
        ));
    }
    Ok(RevenueQuery { from, to, interval })
}
