//! `GET /api/v1/projects/{id}/online`: who is on the site right now.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use vibe_store::OnlineVisitor;

use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// A visitor counts as stuck after this long on one page.
pub const STUCK_AFTER_S: i64 = 5 * 60;

#[derive(Serialize)]
pub struct CurrentPage {
    pub url: Option<String>,
    pub path: Option<String>,
    pub title: Option<String>,
}

#[derive(Serialize)]
pub struct Visitor {
    pub session_id: String,
    pub site_user_id: String,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub traits: Value,
    pub current_page: CurrentPage,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub page_entered_at: Option<i64>,
    pub time_on_site_s: i64,
    pub time_on_page_s: i64,
    pub stuck: bool,
    pub page_count: i64,
    pub referrer: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

impl Visitor {
    pub fn from_row(v: OnlineVisitor, now_ms: i64) -> Self {
        let time_on_page_s = v.page_entered_at.map_or(0, |t| (now_ms - t).max(0) / 1000);
        Self {
            time_on_site_s: (now_ms - v.started_at).max(0) / 1000,
            stuck: time_on_page_s > STUCK_AFTER_S,
            time_on_page_s,
            traits: serde_json::from_str(&v.traits).unwrap_or(Value::Null),
            current_page: CurrentPage {
                url: v.current_url,
                path: v.current_path,
                title: v.current_title,
            },
            session_id: v.session_id,
            site_user_id: v.site_user_id,
            anonymous_id: v.anonymous_id,
            user_id: v.user_id,
            email: v.email,
            name: v.name,
            started_at: v.started_at,
            last_seen_at: v.last_seen_at,
            page_entered_at: v.page_entered_at,
            page_count: v.page_count,
            referrer: v.referrer,
            device: v.device,
            browser: v.browser,
            os: v.os,
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
