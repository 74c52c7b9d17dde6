//! Tracked people, their sessions and stored events, as the store reads them.

use serde::Serialize;

/// One open session seen within the online window, with its person.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OnlineVisitor {
    pub session_id: String,
    pub site_user_id: String,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub traits: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub current_url: Option<String>,
    pub current_path: Option<String>,
    pub current_title: Option<String>,
    pub page_entered_at: Option<i64>,
    pub page_count: i64,
    pub referrer: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

/// A tracked person ("site user"): anonymous until identified.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SiteUser {
    pub id: String,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub traits: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub event_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SiteSession {
    pub id: String,
    pub site_user_id: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
    pub entry_url: Option<String>,
    pub current_url: Option<String>,
    pub current_path: Option<String>,
    pub page_entered_at: Option<i64>,
    pub referrer: Option<String>,
    pub page_count: i64,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub url: Option<String>,
    pub path: Option<String>,
    pub props: Option<String>,
    pub ts: i64,
}
