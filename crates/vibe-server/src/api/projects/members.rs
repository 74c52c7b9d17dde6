//! `/api/v1/projects/{id}/members`: who can see a project and with which role.
//! Admins and owners manage members; only owners grant or take away ownership,
//! and a project always keeps at least one owner.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vibe_store::{Member, Role};

use crate::audit::{self, AuditedJson};
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::domain::Email;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let members = state.store.list_members(&access.project.id).await?;
    Ok(Json(json!({ "members": members })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    email: String,
    role: String,
}

/// Adds an existing account (by email) to the project.
pub async fn add(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    AuditedJson(body, params): AuditedJson<AddMember>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    let role = parse_role(&body.role)?;
    may_grant(&access, role)?;
    let email = Email::parse("email", &body.email)?.into_inner();
    let Some(found) = state.store.account_by_email(&email).await? else {
        return Err(ApiError::field(
            "not_found",
            "email",
            "no account with this email; create it with `vibe user create` first",
        )
        .with_status(StatusCode::NOT_FOUND));
    };
    let members = state.store.list_members(&access.project.id).await?;
    if members.iter().any(|m| m.account_id == found.account.id) {
        return Err(
            ApiError::field("conflict", "email", "this account is already a member")
                .with_status(StatusCode::CONFLICT),
        );
    }
    state
        .store
        .add_member(
            &access.project.id,
            &found.account.id,
            role,
            state.clock.now_ms(),
        )
        .await?;
    let member = member_of(&state, &access, &found.account.id).await?;
    let resource = format!("member/{}", found.account.id);
    audit::record(&state, &access, "member.add", &resource, params, ip).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    role: String,
}

pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, account_id)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    AuditedJson(body, mut params): AuditedJson<ChangeRole>,
) -> ApiResult<Json<Member>> {
    let role = parse_role(&body.role)?;
    let current = member_of(&state, &access, &account_id).await?;
    may_grant(&access, role)?;
    may_grant(&access, current.role)?;
    if current.role == Role::Owner && role != Role::Owner {
        keep_an_owner(&state, &access).await?;
    }
    state
        .store
        .add_member(&access.project.id, &account_id, role, current.created_at)
        .await?;
    let member = member_of(&state, &access, &account_id).await?;
    params["email"] = json!(current.email);
    params["previous_role"] = json!(current.role);
    let resource = format!("member/{account_id}");
    audit::record(&state, &access, "member.role_change", &resource, params, ip).await?;
    Ok(Json(member))
}

pub async fn remove(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, account_id)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
) -> ApiResult<StatusCode> {
    let current = member_of(&state, &access, &account_id).await?;
    may_grant(&access, current.role)?;
    if current.role == Role::Owner {
        keep_an_owner(&state, &access).await?;
    }
    state
        .store
        .remove_member(&access.project.id, &account_id)
        .await?;
    let params = json!({"email": current.email, "role": current.role});
    let resource = format!("member/{account_id}");
    audit::record(&state, &access, "member.remove", &resource, params, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    // `Role::parse` also accepts the legacy "member"; the API only speaks these five names.
    match raw {
        "viewer" | "agent" | "supervisor" | "admin" | "owner" => Role::parse(raw),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::field(
            "invalid_field",
            "role",
            "role must be `viewer`, `agent`, `supervisor`, `admin` or `owner`",
        )
    })
}

/// Admins manage viewers, agents, supervisors and admins; owners manage everyone.
fn may_grant(access: &ProjectAccess, role: Role) -> ApiResult<()> {
    if role == Role::Owner {
        access.require(Role::Owner)
    } else {
        Ok(())
    }
}

async fn member_of(
    state: &AppState,
    access: &ProjectAccess,
    account_id: &str,
) -> ApiResult<Member> {
    state
        .store
        .list_members(&access.project.id)
        .await?
        .into_iter()
        .find(|m| m.account_id == account_id)
        .or_not_found("member")
}

async fn keep_an_owner(state: &AppState, access: &ProjectAccess) -> ApiResult<()> {
    let owners = state
        .store
        .list_members(&access.project.id)
        .await?
        .iter()
        .filter(|m| m.role == Role::Owner)
        .count();
    if owners > 1 {
        Ok(())
    } else {
        Err(ApiError::conflict("a project needs at least one owner"))
    }
}
