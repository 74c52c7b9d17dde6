//! `GET /api/v1/projects/{id}/retention?cohort=day|week&from=&to=`: cohorts of
//! people by first-seen local day (or ISO week) and how many of them were
//! active 1, 7 and 30 days after their own first day. The report is
//! `vibe_store::retention::report` (rollups only); this parses the query.

pub mod routes;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use vibe_core::day::ProjectTz;
use vibe_store::retention::report::{report, Grain, Report};

use crate::api::analytics::daily::date_range;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn grain(q: &HashMap<String, String>) -> ApiResult<Grain> {
    match q.get("cohort").map(String::as_str) {
        None | Some("day") => Ok(Grain::Day),
        Some("week") => Ok(Grain::Week),
        Some(_) => Err(ApiError::field(
            "invalid_field",
            "cohort",
            "must be `day` or `week`",
        )),
    }
}

pub async fn retention(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Body>> {
    let grain = grain(&q)?;
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let today = tz.date_of(state.clock.now_ms());
    // By default the last 30 days, or the last 12 weeks.
    let default_days = if grain == Grain::Day { 30 } else { 78 };
    let (from, to) = date_range(&q, today, default_days)?;
    let report = report(
        state.store.as_ref(),
        &access.project.id,
        grain,
        from,
        to,
        today,
    )
    .await?;
    Ok(Json(Body {
        report,
        timezone: access.project.timezone.clone(),
    }))
}

#[derive(serde::Serialize)]
pub struct Body {
    #[serde(flatten)]
    report: Report,
    timezone: String,
}
