//! The projects domain (`vibe_store::projects`): `/api/v1/projects` (list,
//! create) and `/projects/{id}` (read, change settings); what hangs below a
//! project's path is in the files named after it.

pub mod identity_secret;
pub mod keys;
pub mod members;
pub mod routes;
pub mod snippet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vibe_store::{NewProject, Project, ProjectChanges};

use crate::api::ApiJson;
use crate::audit::{self, AuditedJson};
use crate::auth::{CurrentAccount, ProjectAccess};
use crate::client_ip::ClientIp;
use crate::domain::{parse_origin, parse_timezone, Name};
use crate::error::{ApiError, ApiResult};
use crate::secrets::random_token;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
) -> ApiResult<Json<Value>> {
    let projects = state.store.projects_for_account(&account.id).await?;
    Ok(Json(json!({ "projects": projects })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    name: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
    timezone: Option<String>,
    online_window_s: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    ApiJson(body): ApiJson<CreateProject>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    let name = Name::parse("name", &body.name)?.into_inner();
    let allowed_origins = parse_origins(&body.allowed_origins)?;
    let timezone = match body.timezone.as_deref() {
        Some(tz) => parse_timezone("timezone", tz)?,
        None => "UTC".into(),
    };
    let online_window_s =
        parse_online_window(body.online_window_s.unwrap_or(state.config.online_window_s))?;
    let project = state
        .store
        .create_project(
            &NewProject {
                id: uuid::Uuid::new_v4().to_string(),
                name,
                write_key: new_write_key(),
                allowed_origins,
                timezone,
                online_window_s,
                created_at: state.clock.now_ms(),
            },
            Some(&account.id),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    name: Option<String>,
    allowed_origins: Option<Vec<String>>,
    timezone: Option<String>,
    online_window_s: Option<i64>,
    /// Require signed user ids from browsers (see `identity.rs`).
    identity_verification: Option<bool>,
    /// Reporting currency of revenue (ISO 4217).
    currency: Option<String>,
}

/// `PATCH /api/v1/projects/{id}`: admins change settings; absent fields stay.
pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    AuditedJson(body, params): AuditedJson<UpdateProject>,
) -> ApiResult<Json<Value>> {
    let changes = ProjectChanges {
        name: body
            .name
            .as_deref()
            .map(|n| Name::parse("name", n))
            .transpose()?
            .map(Name::into_inner),
        allowed_origins: body
            .allowed_origins
            .as_deref()
            .map(parse_origins)
            .transpose()?,
        timezone: body
            .timezone
            .as_deref()
            .map(|t| parse_timezone("timezone", t))
            .transpose()?,
        online_window_s: body.online_window_s.map(parse_online_window).transpose()?,
    };
    let currency = body
        .currency
        .as_deref()
        .map(|c| vibe_core::reserved::currency(c, "currency"))
        .transpose()?;
    let project = state
        .store
        .update_project(&access.project.id, &changes)
        .await?;
    if let Some(c) = &currency {
        state
            .store
            .set_revenue_currency(&access.project.id, c)
            .await?;
    }
    // The collector caches projects by write key; allowed origins may have changed.
    state.write_keys.invalidate();
    let identity = match body.identity_verification {
        Some(required) => {
            identity_secret::set_required(&state, &access.project.id, required).await?
        }
        None => identity_secret::current(&state, &access.project.id).await?,
    };
    let mut v = json!(project);
    v["identity_verification"] = json!(identity.required);
    v["currency"] = json!(state.store.revenue_currency(&access.project.id).await?);
    audit::record(&state, &access, "project.update", "project", params, ip).await?;
    Ok(Json(v))
}

fn parse_origins(raw: &[String]) -> ApiResult<Vec<String>> {
    raw.iter()
        .enumerate()
        .map(|(i, o)| parse_origin(&format!("allowed_origins[{i}]"), o))
        .collect()
}

fn parse_online_window(seconds: i64) -> ApiResult<i64> {
    if (10..=86_400).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(ApiError::field(
            "invalid_field",
            "online_window_s",
            "must be between 10 and 86400 seconds",
        ))
    }
}

pub fn new_write_key() -> String {
    // Public by design (it ships in the page); 16 random bytes are plenty.
    random_token("wk_")[..35].to_owned()
}

pub async fn get(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let identity = identity_secret::current(&state, &access.project.id).await?;
    let mut v = json!(access.project);
    v["role"] = json!(access.role);
    v["identity_verification"] = json!(identity.required);
    v["currency"] = json!(state.store.revenue_currency(&access.project.id).await?);
    Ok(Json(v))
}
