//! `GET/POST /api/v1/projects/{id}/conversations/{cid}/messages`: a thread,
//! newest first, and an agent's reply or internal note (`private: true`).
//! A reply is stored `queued` on external channels (email, WhatsApp, SMS),
//! with its outbox row in the same transaction, and the sender (`outbound/`)
//! is woken to deliver it; on `in_app`/`api` it is stored `sent`.
//! `POST …/messages/{mid}/retry` queues a `failed` outbound message again.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
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
    if message.delivery_status == "queued" {
        state.outbound.wake.notify_one();
    }
    Ok((StatusCode::CREATED, Json(message_json(&message))))
}

/// Queues a `failed` outbound message of this conversation again (409 when
/// it is not failed, or was never the sender's: an internal note, an
/// inbound message, one on `in_app`).
pub async fn retry(
    State(state): State<AppState>,
    pc: ProjectConversation,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mid = params.get("mid").or_not_found("message")?;
    let project = &pc.access.project.id;
    let message = state
        .store
        .message_by_id(project, mid)
        .await?
        .filter(|m| m.conversation_id == pc.conversation.id)
        .or_not_found("message")?;
    let now = state.clock.now_ms();
    if !state
        .store
        .requeue_outbound(project, &message.id, now)
        .await?
    {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "not_retryable",
            "only a failed outbound message can be sent again",
        ));
    }
    state.outbound.wake.notify_one();
    tracing::info!(project = %project, message = %message.id, by = %pc.access.account.id, "failed outbound message queued again");
    let message = state
        .store
        .message_by_id(project, &message.id)
        .await?
        .or_not_found("message")?;
    Ok(Json(message_json(&message)))
}
