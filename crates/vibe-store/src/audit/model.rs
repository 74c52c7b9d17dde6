//! An audit row as the store keeps it, and what a page of them is asked by.

use serde::Serialize;

/// One recorded action. `params` is JSON text the server has already
/// redacted; the store keeps it as it is. `ip` is the client address as the
/// server resolved it (`None` when it could not tell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: String,
    pub actor_account_id: String,
    pub actor_email: String,
    /// `project.update`, `member.add`, … (the list is in docs/api.md).
    pub action: String,
    /// What it acted on: `project`, `member/{account_id}`, `segment/{sid}`, …
    pub resource: String,
    pub params: String,
    pub ip: Option<String>,
    /// Unix ms.
    pub at: i64,
}

/// Which rows a page holds; every field narrows, `None` does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// An account id, or an email (anything with `@`, matched as stored:
    /// emails are stored lower-case).
    pub actor: Option<String>,
    pub action: Option<String>,
    /// `segment/` matches every segment's rows (byte prefix, case-sensitive).
    pub resource_prefix: Option<String>,
    /// Unix ms, inclusive.
    pub from: Option<i64>,
    /// Unix ms, exclusive.
    pub to: Option<i64>,
}
