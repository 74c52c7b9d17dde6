//! Which conversations a caller may see, as one SQL condition over the
//! conversation alias `c`, so every read and write of the inbox filters in the
//! query itself (never after the fact in the server).
//!
//! - owner/admin: all of the project's;
//! - supervisor: their own, those of their teams (by `c.team_id`), those
//!   assigned to anyone sharing a team with them, and the unassigned ones
//!   with no team (the shared queue);
//! - agent: their own, and the unassigned ones of their teams or with no team
//!   (nobody else would pick those up); never another agent's;
//! - viewer: none (the API answers 403 before asking).
//!
//! A conversation's team is one column: created in an inbox with a team and
//! no team of its own, it takes the inbox's (see `conversations::create`).

use crate::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Supervisor { account_id: String },
    Agent { account_id: String },
    Nobody,
}

impl Scope {
    pub fn of(role: Role, account_id: &str) -> Self {
        let account_id = account_id.to_owned();
        match role {
            Role::Owner | Role::Admin => Self::All,
            Role::Supervisor => Self::Supervisor { account_id },
            Role::Agent => Self::Agent { account_id },
            Role::Viewer => Self::Nobody,
        }
    }

    /// The condition, naming the caller's account as `$n` when it needs one
    /// (the value to bind is returned beside it).
    pub(crate) fn condition(&self, n: usize) -> (String, Option<String>) {
        let mine = format!(
            "SELECT t.team_id FROM team_members t WHERE t.project_id = c.project_id AND t.account_id = ${n}"
        );
        match self {
            Self::All => ("1 = 1".into(), None),
            Self::Nobody => ("1 = 0".into(), None),
            Self::Agent { account_id } => (
                format!(
                    "(c.assignee_account_id = ${n} OR (c.assignee_account_id IS NULL
                      AND (c.team_id IS NULL OR c.team_id IN ({mine}))))"
                ),
                Some(account_id.clone()),
            ),
            Self::Supervisor { account_id } => (
                format!(
                    "(c.assignee_account_id = ${n}
                      OR (c.assignee_account_id IS NULL AND c.team_id IS NULL)
                      OR c.team_id IN ({mine})
                      OR c.assignee_account_id IN (SELECT o.account_id FROM team_members o
                         WHERE o.project_id = c.project_id AND o.team_id IN ({mine})))"
                ),
                Some(account_id.clone()),
            ),
        }
    }
}
