//! Projects, their members and secret keys.

use serde::Serialize;

use crate::Role;

/// A project to create: the caller chooses every field of the stored project.
pub type NewProject = Project;

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

/// An account's membership in a project, as the settings screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Member {
    pub account_id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

/// A project's identity verification setting. When `required`, identifies sent
/// from browsers must carry `user_hash = HMAC-SHA256(user_id, secret)`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityVerification {
    pub required: bool,
    /// Generated on first use; `None` until then.
    pub secret: Option<String>,
}

impl std::fmt::Debug for IdentityVerification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityVerification")
            .field("required", &self.required)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}
