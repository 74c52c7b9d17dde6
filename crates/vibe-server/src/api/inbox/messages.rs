//! `GET/POST /api/v1/projects/{id}/conversations/{cid}/messages`: a thread,
//! newest first, and an agent's reply or internal note (`private: true`).
//! A reply is stored `queued` on external channels (email, WhatsApp, SMS)
//! for the outbound sender of a later slice, and `sent` on `in_app`/`api`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::Cursor;

use super::conversations::reply;
use super::fields::{self, MAX_BODY_CHARS};
use super::{message_json, ProjectConversation};
use crate::api::query::int_in;
use crate::api::ApiJson;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::live::record::InboxChange;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    pc: ProjectConversation,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = int_in(&q, "limit", 50, 1..=200)?;
    let cursor = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(Cursor::parse(raw).ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "cursor",
                "not a cursor this thread returned (pass `next_cursor` as it is)",
            )
        })?),
    };
    let project = &pc.access.project.id;
    let page = state
        .store
        .messages(
            project,
            &pc.scope,
            &pc.conversation.id,
            cursor.as_ref(),
            limit,
        )
        .await?
        .or_not_found("conversation")?;
    let items: Vec<Value> = page.items.iter().map(message_json).collect();
    Ok(Json(json!({
        "messages": items,
        "next_cursor": page.next_cursor.map(|c| c.encode()),
    })))
}

pub async fn create(
    State(state): State<AppState>,
    pc: ProjectConversation,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut text = None;
    let mut private = false;
    let mut attachments = "[]".to_owned();
    for (key, v) in &body {
        match key.as_str() {
            "body" => text = Some(fields::text(key, v, MAX_BODY_CHARS)?),
            "private" => private = fields::flag(key, v)?,
            "attachments" => attachments = fields::attachments(v)?,
            _ => return Err(fields::unknown(key, "body, private, attachments")),
        }
    }
    let text = text.ok_or_else(|| ApiError::field("missing_field", "body", "the message text"))?;
    let now = state.clock.now_ms();
    let new = reply(
        &pc.conversation,
        &pc.access,
        text,
        private,
        attachments,
        now,
    )?;
    let (message, _) = state
        .store
        .add_message(&pc.access.project.id, &pc.scope, &new)
        .await?
        .or_not_found("conversation")?;
    crate::live::inbox::publish(
        &state,
        &pc.access.project.id,
        vec![InboxChange::Message(message.id.clone())],
    );
    Ok((StatusCode::CREATED, Json(message_json(&message))))
}
