//! `GET/POST /api/v1/projects/{id}/inboxes`: where conversations arrive (a
//! name, a channel, an optional team). A conversation created in an inbox
//! with a team and no team of its own takes the inbox's, which is what
//! scopes it to that team's agents. Admins create them; agents read them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::{Channel, Inbox};
use vibe_store::StoreError;

use super::fields::{self, MAX_SHORT_CHARS};
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let inboxes = state.store.inboxes(&access.project.id).await?;
    Ok(Json(json!({ "inboxes": inboxes })))
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Inbox>)> {
    let project = &access.project.id;
    let (mut name, mut channel, mut team_id) = (None, None, None);
    for (key, v) in &body {
        match key.as_str() {
            "name" => name = Some(fields::text(key, v, MAX_SHORT_CHARS)?),
            "channel" => channel = Some(fields::name(key, v, Channel::parse, Channel::NAMES)?),
            "team_id" => team_id = fields::opt_text(key, v, MAX_SHORT_CHARS)?,
            _ => return Err(fields::unknown(key, "name, channel, team_id")),
        }
    }
    let name = name.ok_or_else(|| ApiError::field("missing_field", "name", "the inbox's name"))?;
    let channel = channel
        .ok_or_else(|| ApiError::field("missing_field", "channel", Channel::NAMES.trim_end()))?;
    if let Some(t) = &team_id {
        if state.store.team(project, t).await?.is_none() {
            return Err(ApiError::field(
                "invalid_field",
                "team_id",
                "no such team in this project",
            ));
        }
    }
    let inbox = Inbox {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        channel: channel.as_str().to_owned(),
        team_id,
        created_at: state.clock.now_ms(),
    };
    let created = match state.store.create_inbox(project, &inbox).await {
        Err(StoreError::Conflict(m)) => return Err(ApiError::conflict(m)),
        other => other?,
    };
    let resource = format!("inbox/{}", created.id);
    audit::record(
        &state,
        &access,
        "inbox.create",
        &resource,
        Value::Object(body),
        ip,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}
