//! `GET /api/v1/projects/{id}/crm/overview`: the CRM's front page in one call
//! — the seed's `UserAnalytics` (people, retention, features, revenue) and
//! the real-time part of `AppStatistics` (online now, today's sessions and
//! signups, this month's tokens). Every number comes from a rollup or a
//! report over rollups, so the cost does not grow with events.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use vibe_core::day::ProjectTz;
use vibe_store::retention::report::{report, Grain};
use vibe_store::revenue::{Interval, RevenueQuery};

use crate::api::ai_usage::totals_json;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// "Active" and "new" look back this many local days, today included.
const WINDOW_DAYS: i64 = 30;
/// Retention averages the day cohorts of this many days (day 30 needs > 30).
const RETENTION_DAYS: i64 = 90;
/// Features listed.
const TOP_FEATURES: usize = 5;

fn minus(d: jiff::civil::Date, days: i64) -> jiff::civil::Date {
    d.checked_sub(jiff::Span::new().days(days)).unwrap_or(d)
}

pub async fn overview(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<Value>> {
    let store = state.store.as_ref();
    let project = &access.project;
    let now = state.clock.now_ms();
    let tz = ProjectTz::or_utc(&project.timezone);
    let today = tz.date_of(now);
    let window_from = minus(today, WINDOW_DAYS - 1);
    let (today_s, window_s) = (today.to_string(), window_from.to_string());

    let days = store
        .daily_stats(&project.id, "0000-01-01", &today_s)
        .await?;
    let sum = |from: &str, f: fn(&vibe_store::rollup::DailyDelta) -> i64| -> i64 {
        days.iter()
            .filter(|d| d.day.as_str() >= from)
            .map(|d| f(&d.counts))
            .sum()
    };
    let total_users = sum("0000-01-01", |c| c.new_users);
    let new_users = sum(&window_s, |c| c.new_users);
    let today_row = days.iter().find(|d| d.day == today_s).map(|d| d.counts);
    let online_now = store
        .count_online(&project.id, now - project.online_window_s * 1000)
        .await?;

    let retention = report(
        store,
        &project.id,
        Grain::Day,
        minus(today, RETENTION_DAYS - 1),
        today,
        today,
    )
    .await?;

    let revenue = |from, interval| RevenueQuery {
        from,
        to: today,
        interval,
    };
    let last_30 = store
        .revenue_report(
            &project.id,
            &project.timezone,
            &revenue(window_from, Interval::Day),
        )
        .await?;
    let month_start = today.first_of_month();
    // The all-time and this-month cards need only the payments' part.
    let this_month = store
        .revenue_payments(&project.id, &revenue(month_start, Interval::Day))
        .await?;
    let since = tz.date_of(project.created_at.min(now));
    let all_time = store
        .revenue_payments(&project.id, &revenue(since, Interval::Month))
        .await?;

    let features = store
        .feature_usage(&project.id, &window_s, &today_s)
        .await?;
    let top_features: Vec<Value> = features
        .features
        .iter()
        .take(TOP_FEATURES)
        .map(|f| json!({"name": f.name, "total": f.total, "unique_people": f.unique_people}))
        .collect();
    let tokens = store
        .ai_usage_totals(&project.id, &month_start.to_string(), &today_s)
        .await?;

    Ok(Json(json!({
        "timezone": project.timezone,
        "currency": all_time.currency,
        "total_users": total_users,
        "active_users": last_30.active_users,
        "new_users": new_users,
        "online_now": online_now,
        "sessions_today": today_row.map_or(0, |c| c.sessions),
        "signups_today": today_row.map_or(0, |c| c.signups),
        "retention": retention.overall,
        "revenue": {
            "total": all_time.net,
            "this_month": this_month.net,
            "last_30_days": last_30.net,
            "arpu": last_30.arpu,
            "mrr": last_30.mrr,
            "paying_users": last_30.paying_users,
        },
        "top_features": top_features,
        "tokens_this_month": totals_json(&tokens),
    })))
}
