//! `GET /api/v1/projects/{id}/online`: who is on the site right now.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use vibe_store::{ClientInfo, CurrentPage, OnlineVisitor};

use crate::api::people::person::Person;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// A visitor counts as stuck after this long on one page.
pub const STUCK_AFTER_S: i64 = 5 * 60;

#[derive(Serialize)]
pub struct Visitor {
    pub session_id: String,
    pub site_user_id: String,
    #[serde(flatten)]
    pub person: Person,
    pub current_page: CurrentPage,
    #[serde(flatten)]
    pub times: VisitTimes,
    pub page_count: i64,
    pub referrer: Option<String>,
    #[serde(flatten)]
    pub client: ClientInfo,
}

/// When the visit started and was last heard from, and how long it has
/// lasted on the site and on the current page at the time it is shown.
#[derive(Serialize)]
pub struct VisitTimes {
    pub started_at: i64,
    pub last_seen_at: i64,
    pub page_entered_at: Option<i64>,
    pub time_on_site_s: i64,
    pub time_on_page_s: i64,
    pub stuck: bool,
}

impl VisitTimes {
    fn at(now_ms: i64, started_at: i64, last_seen_at: i64, page_entered_at: Option<i64>) -> Self {
        let time_on_page_s = page_entered_at.map_or(0, |t| (now_ms - t).max(0) / 1000);
        Self {
            time_on_site_s: (now_ms - started_at).max(0) / 1000,
            stuck: time_on_page_s > STUCK_AFTER_S,
            time_on_page_s,
            started_at,
            last_seen_at,
            page_entered_at,
        }
    }
}

impl Visitor {
    pub fn from_row(v: OnlineVisitor, now_ms: i64) -> Self {
        Self {
            times: VisitTimes::at(now_ms, v.started_at, v.last_seen_at, v.page_entered_at),
            person: Person::new(v.identity, &v.traits),
            current_page: v.current_page,
            session_id: v.session_id,
            site_user_id: v.site_user_id,
            page_count: v.page_count,
            referrer: v.referrer,
            client: v.client,
        }
    }
}

pub async fn online(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let window_s = access.project.online_window_s;
    let rows = state
        .store
        .online_visitors(&access.project.id, now - window_s * 1000)
        .await?;
    let visitors: Vec<Visitor> = rows
        .into_iter()
        .map(|v| Visitor::from_row(v, now))
        .collect();
    Ok(Json(
        serde_json::json!({ "visitors": visitors, "online_window_s": window_s }),
    ))
}
