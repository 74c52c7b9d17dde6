//! Tracked people, their sessions and stored events, as the store reads them.
//!
//! The column groups that several rows share are sub-structs flattened into them
//! (`#[sqlx(flatten)]`, `#[serde(flatten)]`): the SQL's column names and the JSON
//! stay flat, the fields are listed once.

use serde::Serialize;
pub use vibe_core::message::ClientInfo;

/// How a person is known: the ids the tracker sent and the promoted traits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct Identity {
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The page a visitor is on, from the session's `current_*` columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct CurrentPage {
    #[sqlx(rename = "current_url")]
    pub url: Option<String>,
    #[sqlx(rename = "current_path")]
    pub path: Option<String>,
    #[sqlx(rename = "current_title")]
    pub title: Option<String>,
}

/// One open session seen within the online window, with its person.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OnlineVisitor {
    pub session_id: String,
    pub site_user_id: String,
    #[sqlx(flatten)]
    pub identity: Identity,
    pub traits: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    #[sqlx(flatten)]
    pub current_page: CurrentPage,
    pub page_entered_at: Option<i64>,
    pub page_count: i64,
    pub referrer: Option<String>,
    #[sqlx(flatten)]
    pub client: ClientInfo,
}

/// A tracked person ("site user"): anonymous until identified.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SiteUser {
    pub id: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub identity: Identity,
    pub plan: Option<String>,
    pub traits: String,
    pub first_seen: i64,
    pub last_seen: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub client: ClientInfo,
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
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub client: ClientInfo,
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

/// A person's sessions in two numbers (a session lasts `last_seen_at −
/// started_at`, as in the daily stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionTotals {
    pub total_sessions: i64,
    /// Whole seconds, 0 without sessions.
    pub avg_session_s: i64,
}
