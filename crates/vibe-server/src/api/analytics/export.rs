//! `GET …/export/users.csv` (streamed page by page: constant memory however many
//! people) and `GET …/export/metrics.csv` (daily stats for a range).

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use vibe_core::day::ProjectTz;
use vibe_store::users::UserQuery;

use super::daily::date_range;
use crate::api::people::users::user_query;
use crate::auth::ProjectAccess;
use crate::csv;
use crate::error::ApiResult;
use crate::state::AppState;

const PAGE: i64 = 1000;

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn csv_response(body: Body, what: &str, today: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, csv::attachment(what, today)),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

pub async fn users_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let now = state.clock.now_ms();
    let mut query = user_query(&state, &access, &q, now, PAGE).await?;
    query.limit = PAGE;
    query.cursor = None;
    let today = ProjectTz::or_utc(&access.project.timezone).day_of(now);
    let what = match (&query.criteria, q.get("segment")) {
        (Some(_), Some(sid)) => format!("users-segment-{sid}"),
        _ => format!("users-{}", query.segment.as_str()),
    };
    let header_line = csv::line([
        "user_id",
        "anonymous_id",
        "email",
        "name",
        "plan",
        "first_seen",
        "last_seen",
        "total_events",
        "device",
        "browser",
        "os",
    ]);
    // Each step reads one page after the previous page's cursor and emits it.
    let pages = stream::unfold(Some((state, query)), |step| async move {
        let (state, mut query): (AppState, UserQuery) = step?;
        match state.store.list_users(&query).await {
            Ok(users) => {
                let mut chunk = String::new();
                for u in &users {
                    chunk.push_str(&csv::line([
                        u.identity.user_id.clone().unwrap_or_default(),
                        u.identity.anonymous_id.clone().unwrap_or_default(),
                        u.identity.email.clone().unwrap_or_default(),
                        u.identity.name.clone().unwrap_or_default(),
                        u.plan.clone().unwrap_or_default(),
                        iso(u.first_seen),
                        iso(u.last_seen),
                        u.event_count.to_string(),
                        u.client.device.clone().unwrap_or_default(),
                        u.client.browser.clone().unwrap_or_default(),
                        u.client.os.clone().unwrap_or_default(),
                    ]));
                }
                let next = match users.last() {
                    Some(last) if users.len() as i64 == query.limit => {
                        query.cursor = Some(query.cursor_after(last));
                        Some((state, query))
                    }
                    _ => None,
                };
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), next))
            }
            Err(e) => {
                // Headers are gone already; cut the download short so it is visibly incomplete.
                tracing::error!(error = %e, "users export failed");
                Some((Err(std::io::Error::other("export failed")), None))
            }
        }
    });
    let body = stream::iter([Ok(Bytes::from(header_line))]);
    let body = Body::from_stream(futures_util::StreamExt::chain(body, pages));
    Ok(csv_response(body, &what, &today))
}

pub async fn metrics_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let tz = ProjectTz::or_utc(&access.project.timezone);
    let today = tz.date_of(state.clock.now_ms());
    let (from, to) = date_range(&q, today, 30)?;
    let days = super::definitions::daily(state.store.as_ref(), &access.project, from, to).await?;
    let mut out = csv::line([
        "date",
        "active_users",
        "new_users",
        "sessions",
        "pageviews",
        "events",
        "avg_session_s",
        "bounce_rate",
    ]);
    for d in days {
        out.push_str(&csv::line([
            d.date,
            d.active_users.to_string(),
            d.new_users.to_string(),
            d.sessions.to_string(),
            d.pageviews.to_string(),
            d.events.to_string(),
            d.avg_session_s.to_string(),
            d.bounce_rate.to_string(),
        ]));
    }
    Ok(csv_response(
        Body::from(out),
        &format!("metrics-{from}-to-{to}"),
        &today.to_string(),
    ))
}
