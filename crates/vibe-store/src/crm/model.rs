//! A tracked person's CRM fields (tags, priority, properties, notes) as the
//! store reads and writes them.

use serde::Serialize;
use serde_json::{Map, Value};

/// How much attention a contact gets; stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Vip,
}

impl Priority {
    pub const NAMES: &'static str = "low, medium, high, vip";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "vip" => Self::Vip,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Vip => "vip",
        }
    }
}

/// A person's CRM fields; a person nobody has touched has the defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    /// Sorted by bytes (not by the database's collation).
    pub tags: Vec<String>,
    pub priority: Option<String>,
    /// A JSON object.
    pub properties: Map<String, Value>,
    pub notes_count: i64,
}

/// The CRM fields the people list shows per row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedContact {
    /// Sorted by bytes.
    pub tags: Vec<String>,
    pub priority: Option<String>,
}

/// What a `PATCH` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactPatch {
    /// Replaces the set (already normalised and deduplicated).
    pub tags: Option<Vec<String>>,
    /// `Some(None)` clears the priority.
    pub priority: Option<Option<Priority>>,
    /// Merged into the stored object: these keys win, a `null` removes its key.
    pub properties: Option<Map<String, Value>>,
}

/// The merged properties may not grow past this (as JSON text), whatever
/// each patch weighs.
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;

/// `stored` with `patch` applied: later keys win, `null` removes.
pub fn merge_properties(
    mut stored: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Map<String, Value> {
    for (k, v) in patch {
        if v.is_null() {
            stored.remove(k);
        } else {
            stored.insert(k.clone(), v.clone());
        }
    }
    stored
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewNote {
    pub id: String,
    pub site_user_id: String,
    pub body: String,
    /// `None` for notes no account wrote (e.g. `vibe demo`'s).
    pub author_account_id: Option<String>,
    pub created_at: i64,
}

/// A note as listed: its author by email (null once the account is gone).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Note {
    pub id: String,
    pub body: String,
    pub author_email: Option<String>,
    pub created_at: i64,
}
