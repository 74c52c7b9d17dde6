//! `GET/POST /api/v1/projects/{id}/teams`, `PATCH/DELETE …/teams/{tid}` and
//! `PUT/DELETE …/teams/{tid}/members/{account_id}`: teams of project members
//! (admins manage them; agents read them). Deleting a team leaves its
//! conversations team-less.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::Team;
use vibe_store::StoreError;

use super::fields::{self, MAX_SHORT_CHARS};
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let teams = state.store.teams(&access.project.id).await?;
    Ok(Json(json!({ "teams": teams })))
}

fn name_of(body: &Map<String, Value>) -> ApiResult<String> {
    if let Some(key) = body.keys().find(|k| *k != "name") {
        return Err(fields::unknown(key, "name"));
    }
    let v = body
        .get("name")
        .ok_or_else(|| ApiError::field("missing_field", "name", "the team's name"))?;
    fields::text("name", v, MAX_SHORT_CHARS)
}

fn taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => {
            ApiError::field("conflict", "name", "a team of this name exists")
                .with_status(StatusCode::CONFLICT)
        }
        StoreError::NotFound => ApiError::not_found("team"),
        other => other.into(),
    }
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let name = name_of(&body)?;
    let id = uuid::Uuid::new_v4().to_string();
    let team = state
        .store
        .create_team(&access.project.id, &id, &name, state.clock.now_ms())
        .await
        .map_err(taken)?;
    audit::record(
        &state,
        &access,
        "team.create",
        &format!("team/{}", team.id),
        Value::Object(body),
        ip,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(team)))
}

pub async fn rename(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, tid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Team>> {
    let name = name_of(&body)?;
    let team = state
        .store
        .rename_team(&access.project.id, &tid, &name)
        .await
        .map_err(taken)?;
    audit::record(
        &state,
        &access,
        "team.rename",
        &format!("team/{tid}"),
        Value::Object(body),
        ip,
    )
    .await?;
    Ok(Json(team))
}

pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, tid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_team(&access.project.id, &tid)
        .await
        .map_err(taken)?;
    audit::record(
        &state,
        &access,
        "team.delete",
        &format!("team/{tid}"),
        json!({}),
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a project member to the team (again: no change).
pub async fn add_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, tid, account_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let project = &access.project.id;
    if state.store.team(project, &tid).await?.is_none() {
        return Err(ApiError::not_found("team"));
    }
    let members = state.store.list_members(project).await?;
    if !members.iter().any(|m| m.account_id == account_id) {
        return Err(ApiError::not_found("member"));
    }
    state
        .store
        .add_team_member(project, &tid, &account_id, state.clock.now_ms())
        .await?;
    audit::record(
        &state,
        &access,
        "team.member_add",
        &format!("team/{tid}"),
        json!({"account_id": account_id}),
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, tid, account_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    match state
        .store
        .remove_team_member(&access.project.id, &tid, &account_id)
        .await
    {
        Err(StoreError::NotFound) => return Err(ApiError::not_found("team member")),
        other => other?,
    }
    let params = json!({"account_id": account_id});
    audit::record(
        &state,
        &access,
        "team.member_remove",
        &format!("team/{tid}"),
        params,
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
