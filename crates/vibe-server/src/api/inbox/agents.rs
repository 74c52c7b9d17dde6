//! `GET /api/v1/projects/{id}/agents`: the members who work conversations
//! (role `agent` or `supervisor`), their teams and current status;
//! `PUT …/agents/me/status` `{status}`: the caller's status, logged to
//! `agent_activity_logs` (the open row is closed with its duration).

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::AgentStatus;
use vibe_store::Role;

use super::fields;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let project = &access.project.id;
    let members = state.store.list_members(project).await?;
    let teams = state.store.teams(project).await?;
    let statuses: HashMap<String, _> = state
        .store
        .agent_statuses(project)
        .await?
        .into_iter()
        .map(|l| (l.account_id.clone(), l))
        .collect();
    let agents: Vec<Value> = members
        .iter()
        .filter(|m| matches!(m.role, Role::Agent | Role::Supervisor))
        .map(|m| {
            let of: Vec<&str> = teams
                .iter()
                .filter(|t| t.members.contains(&m.account_id))
                .map(|t| t.id.as_str())
                .collect();
            let log = statuses.get(&m.account_id);
            json!({
                "account_id": m.account_id,
                "email": m.email,
                "role": m.role,
                "teams": of,
                "status": log.map_or("offline", |l| l.status.as_str()),
                "status_since": log.map(|l| l.started_at),
            })
        })
        .collect();
    Ok(Json(json!({ "agents": agents })))
}

pub async fn set_status(
    State(state): State<AppState>,
    access: ProjectAccess,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let mut status = None;
    for (key, v) in &body {
        match key.as_str() {
            "status" => {
                status = Some(fields::name(
                    key,
                    v,
                    AgentStatus::parse,
                    AgentStatus::NAMES,
                )?)
            }
            _ => return Err(fields::unknown(key, "status")),
        }
    }
    let status = status.ok_or_else(|| {
        ApiError::field("missing_field", "status", "`online`, `away` or `offline`")
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let log = state
        .store
        .set_agent_status(
            &access.project.id,
            &access.account.id,
            status,
            &id,
            state.clock.now_ms(),
        )
        .await?;
    // A new row (not the status they already had): the Support page's
    // agent section moved.
    if log.id == id {
        crate::live::inbox::publish(
            &state,
            &access.project.id,
            vec![crate::live::record::InboxChange::AgentStatus(
                access.account.id.clone(),
            )],
        );
    }
    Ok(Json(json!(log)))
}
