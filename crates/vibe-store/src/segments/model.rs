//! A custom segment as the store keeps it.

/// A saved segment. `criteria` is the JSON text of a tree that passed
/// [`super::Node::parse`] when it was saved.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub criteria: String,
    /// People matching when last counted.
    pub user_count: i64,
    /// When `user_count` was counted; `None` until first counted.
    pub counted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A segment due for a recount, across projects (the scheduler's list).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StaleSegment {
    pub project_id: String,
    pub id: String,
    pub criteria: String,
}
