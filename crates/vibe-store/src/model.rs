//! Records the store reads and writes. Timestamps are UTC Unix milliseconds.
//! `FromRow` is derived generically, so both backends decode the same structs.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "viewer" | "member" => Self::Viewer,
            "admin" => Self::Admin,
            "owner" => Self::Owner,
            _ => return None,
        })
    }
}

// Stored as text; decoding is generic so both backends share it.
impl<DB: sqlx::Database> sqlx::Type<DB> for Role
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Role
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let s = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Role::parse(&s).ok_or_else(|| format!("unknown role {s:?}").into())
    }
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: i64,
}

/// A person who signs in to the dashboard (not a tracked site user).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountWithHash {
    #[sqlx(flatten)]
    pub account: Account,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewAuthSession {
    pub token_hash: String,
    pub account_id: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub token_hash: String,
    /// First characters of the token, shown in listings to tell tokens apart.
    pub prefix: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub id: String,
    pub name: String,
    pub write_key: String,
    pub allowed_origins: Vec<String>,
    pub timezone: String,
    pub online_window_s: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub write_key: String,
    pub allowed_origins: Vec<String>,
    pub timezone: String,
    pub online_window_s: i64,
    pub created_at: i64,
}

/// Row shape of `projects`; `allowed_origins` is a JSON array in a text column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub write_key: String,
    pub allowed_origins: String,
    pub timezone: String,
    pub online_window_s: i64,
    pub created_at: i64,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Self {
            allowed_origins: serde_json::from_str(&r.allowed_origins).unwrap_or_default(),
            id: r.id,
            name: r.name,
            write_key: r.write_key,
            timezone: r.timezone,
            online_window_s: r.online_window_s,
            created_at: r.created_at,
        }
    }
}

/// Settings an admin may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub timezone: Option<String>,
    pub online_window_s: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewProjectKey {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub key_hash: String,
    pub prefix: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ProjectKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

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

/// An account's membership in a project, as the settings screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Member {
    pub account_id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}
