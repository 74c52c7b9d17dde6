//! `GET /api/v1/projects/{id}/support/agent-activity`: each agent's
//! online/away/offline bands over the range (the Support page's activity
//! timeline), from `agent_activity_logs` clipped to the range's local days
//! (an open row ends now). Role-scoped like every Support section: an agent
//! sees themselves, a supervisor their teams' members, owners and admins
//! everyone; `agent_id` / `team_id` narrow it (outside the scope: no
//! agents). Each agent's read is bounded by the `agent_activity_agent`
//! index (`vibe_store::inbox::agents::between`).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::inbox::AgentLog;
use vibe_store::Role;

use super::Report;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// Most log rows read per agent: a status change is a human act, so even a
/// year-long range stays far below it; past it the newest are left out.
pub const MAX_ROWS_PER_AGENT: i64 = 20_000;

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let report = Report::new(&state, access, &q).await?;
    let from = report.query.period.from_ms;
    let to = report.query.period.to_ms.min(report.now);
    let mut agents = Vec::new();
    for (account_id, name, works) in candidates(&report).await? {
        let rows = if to > from {
            state
                .store
                .agent_activity_between(report.project(), &account_id, from, to, MAX_ROWS_PER_AGENT)
                .await?
        } else {
            Vec::new()
        };
        let bands = bands(&rows, from, to, report.now);
        // Owners and admins who never set a status are not on the timeline.
        if works || !bands.is_empty() {
            agents.push(json!({
                "agent_id": account_id,
                "agent_name": name,
                "bands": bands,
            }));
        }
    }
    Ok(Json(report.envelope(json!({ "agents": agents }))))
}

/// The members the caller may see and the filters keep, by account id:
/// `(id, name, works conversations)` (agents and supervisors are always
/// listed, others only with activity in the range).
async fn candidates(report: &Report) -> ApiResult<Vec<(String, String, bool)>> {
    let store = &report.state.store;
    let members = store.list_members(report.project()).await?;
    let team_members: Option<Vec<String>> = match &report.query.filter.team_id {
        Some(t) => Some(
            store
                .team(report.project(), t)
                .await?
                .map(|t| t.members)
                .unwrap_or_default(),
        ),
        None => None,
    };
    let filter = &report.query.filter;
    let mut out = BTreeMap::new();
    for m in members {
        let kept = report.caller.sees_agent(&m.account_id)
            && m.role >= Role::Agent
            && filter
                .account_id
                .as_ref()
                .is_none_or(|a| *a == m.account_id)
            && team_members
                .as_ref()
                .is_none_or(|t| t.contains(&m.account_id));
        if kept {
            let works = matches!(m.role, Role::Agent | Role::Supervisor);
            out.insert(m.account_id.clone(), (m.email.clone(), works));
        }
    }
    Ok(out
        .into_iter()
        .map(|(id, (name, works))| (id, name, works))
        .collect())
}

/// Log rows (oldest first) as bands clipped to `[from, to)`; an open row
/// runs until `now`.
pub fn bands(rows: &[AgentLog], from: i64, to: i64, now: i64) -> Vec<Value> {
    rows.iter()
        .filter_map(|l| {
            let start = l.started_at.max(from);
            let end = l.ended_at.unwrap_or(now).min(to);
            (end > start).then(|| json!({ "status": l.status, "from": start, "to": end }))
        })
        .collect()
}
