//! The caller's role → whose figures they see ([`ReportScope`]):
//! owner/admin everything (`all`), a supervisor the facts of their teams
//! and of their teams' members (`team`, from the inbox's teams), an agent
//! their own facts (`own`). Viewers never get here (the routes need
//! `agent`, 403 like the Inbox). An `agent_id` or `team_id` filter outside
//! the scope empties the figures rather than showing other people's.

use std::collections::BTreeSet;

use vibe_store::support_analytics::ReportScope;
use vibe_store::Role;

use super::query::ReportQuery;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub struct CallerScope {
    pub scope: ReportScope,
    /// `"all" | "team" | "own"`.
    pub label: &'static str,
    /// Accounts whose names and per-agent rows the caller may see (`None`:
    /// every member).
    pub agents: Option<BTreeSet<String>>,
    /// The filters ask for something outside the scope: every figure is empty.
    pub blocked: bool,
}

/// Admits nothing (no team, no member).
pub fn nothing() -> ReportScope {
    ReportScope::Teams(Vec::new(), Vec::new())
}

impl CallerScope {
    pub async fn of(
        state: &AppState,
        access: &ProjectAccess,
        query: &ReportQuery,
    ) -> ApiResult<Self> {
        let me = access.account.id.clone();
        let filter = &query.filter;
        let mut out = match access.role {
            Role::Owner | Role::Admin => Self {
                scope: ReportScope::All,
                label: "all",
                agents: None,
                blocked: false,
            },
            Role::Supervisor => {
                let project = &access.project.id;
                let mine: BTreeSet<String> = state
                    .store
                    .teams_of(project, &me)
                    .await?
                    .into_iter()
                    .collect();
                let mut members: BTreeSet<String> = state
                    .store
                    .teams(project)
                    .await?
                    .into_iter()
                    .filter(|t| mine.contains(&t.id))
                    .flat_map(|t| t.members)
                    .collect();
                members.insert(me.clone());
                let team_outside = filter.team_id.as_ref().is_some_and(|t| !mine.contains(t));
                let agent_outside = filter
                    .account_id
                    .as_ref()
                    .is_some_and(|a| !members.contains(a));
                Self {
                    scope: ReportScope::Teams(
                        mine.into_iter().collect(),
                        members.iter().cloned().collect(),
                    ),
                    label: "team",
                    agents: Some(members),
                    blocked: team_outside || agent_outside,
                }
            }
            // Agents (viewers are refused by the route's least role).
            _ => Self {
                scope: ReportScope::Agent(me.clone()),
                label: "own",
                blocked: filter.account_id.as_ref().is_some_and(|a| *a != me),
                agents: Some(BTreeSet::from([me])),
            },
        };
        if out.blocked {
            out.scope = nothing();
        }
        Ok(out)
    }

    pub fn sees_agent(&self, account_id: &str) -> bool {
        !self.blocked && self.agents.as_ref().is_none_or(|a| a.contains(account_id))
    }
}
