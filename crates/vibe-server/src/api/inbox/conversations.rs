//! `GET/POST /api/v1/projects/{id}/conversations` and
//! `GET/PATCH …/conversations/{cid}`: the inbox list (filters, keyset
//! pages) and one conversation; a conversation started by an agent.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::{
    AssigneeFilter, Channel, Conversation, ConversationPatch, ConversationQuery, Cursor,
    DeliveryStatus, Direction, NewConversation, NewMessage, Priority, Sender, Status,
};
use vibe_store::{Role, SiteUser, StoreError};

use super::fields::{self, MAX_BODY_CHARS, MAX_SHORT_CHARS};
use super::{message_json, scope_of, ProjectConversation};
use crate::api::query::int_in;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query = parse_query(&access, &q, None)?;
    let page = state
        .store
        .list_conversations(&access.project.id, &scope_of(&access), &query)
        .await?;
    Ok(Json(json!({
        "conversations": page.items,
        "next_cursor": page.next_cursor.map(|c| c.encode()),
    })))
}

/// The list's query string; `person` fixes the contact (a profile's list).
pub fn parse_query(
    access: &ProjectAccess,
    q: &HashMap<String, String>,
    person: Option<&str>,
) -> ApiResult<ConversationQuery> {
    let some = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    Ok(ConversationQuery {
        status: some("status")
            .map(|v| fields::query_name("status", v, Status::parse, Status::NAMES))
            .transpose()?,
        assignee: some("assignee").map(|v| match v {
            "me" => AssigneeFilter::Account(access.account.id.clone()),
            "none" => AssigneeFilter::Nobody,
            id => AssigneeFilter::Account(id.to_owned()),
        }),
        team_id: some("team").map(str::to_owned),
        channel: some("channel")
            .map(|v| fields::query_name("channel", v, Channel::parse, Channel::NAMES))
            .transpose()?,
        priority: some("priority")
            .map(|v| fields::query_name("priority", v, Priority::parse, Priority::NAMES))
            .transpose()?,
        site_user_id: person.map(str::to_owned),
        q: some("q").map(|v| v.chars().take(MAX_SHORT_CHARS).collect()),
        created_within: super::created::parse(q, &access.project.timezone)?,
        cursor: match some("cursor") {
            None => None,
            Some(raw) => Some(Cursor::parse(raw).ok_or_else(|| {
                ApiError::field(
                    "invalid_field",
                    "cursor",
                    "not a cursor this list returned (pass `next_cursor` as it is)",
                )
            })?),
        },
        limit: int_in(q, "limit", 50, 1..=100)?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Some(contact) = body.get("contact_id") else {
        return Err(ApiError::field(
            "missing_field",
            "contact_id",
            "the person (site user id) to talk to",
        ));
    };
    let contact = fields::text("contact_id", contact, MAX_SHORT_CHARS)?;
    let person = state
        .store
        .find_user(&access.project.id, &contact)
        .await?
        .ok_or_else(|| {
            ApiError::field("not_found", "contact_id", "no such person in this project")
                .with_status(StatusCode::NOT_FOUND)
        })?;
    let mut body = body;
    body.remove("contact_id");
    start(&state, &access, &person, body).await
}

/// Starts a conversation with `person` as the caller (a profile's "new
/// message"): assigned to the caller unless `assignee` says otherwise, with
/// the first outbound message when `message` is given.
pub async fn start(
    state: &AppState,
    access: &ProjectAccess,
    person: &SiteUser,
    body: Map<String, Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let project = &access.project.id;
    let now = state.clock.now_ms();
    let mut new = NewConversation {
        id: uuid::Uuid::new_v4().to_string(),
        site_user_id: person.id.clone(),
        channel: Channel::InApp,
        status: Status::Open,
        priority: Priority::Medium,
        assignee_account_id: Some(access.account.id.clone()),
        team_id: None,
        inbox_id: None,
        handled_by_bot: false,
        intent: None,
        is_lead: false,
        external_id: None,
        created_by_account_id: Some(access.account.id.clone()),
        created_at: now,
    };
    let mut first: Option<String> = None;
    const KNOWN: &str =
        "contact_id, channel, priority, assignee, team_id, inbox_id, intent, is_lead, external_id, message";
    for (key, v) in &body {
        match key.as_str() {
            "channel" => new.channel = fields::name(key, v, Channel::parse, Channel::NAMES)?,
            "priority" => new.priority = fields::name(key, v, Priority::parse, Priority::NAMES)?,
            "assignee" => new.assignee_account_id = assignee(state, access, v).await?,
            "team_id" => new.team_id = team(state, access, v).await?,
            "inbox_id" => new.inbox_id = fields::opt_text(key, v, MAX_SHORT_CHARS)?,
            "intent" => new.intent = fields::opt_text(key, v, MAX_SHORT_CHARS)?,
            "is_lead" => new.is_lead = fields::flag(key, v)?,
            "external_id" => new.external_id = fields::opt_text(key, v, MAX_SHORT_CHARS)?,
            "message" => first = Some(fields::text(key, v, MAX_BODY_CHARS)?),
            _ => return Err(fields::unknown(key, KNOWN)),
        }
    }
    let (conversation, created) = match state.store.create_conversation(project, &new).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::field(
                "invalid_field",
                "inbox_id",
                "no such inbox in this project",
            ))
        }
        other => other?,
    };
    if !created {
        // The known external id's conversation, but only if the caller may see it.
        let scope = scope_of(access);
        return match state
            .store
            .conversation(project, &scope, &conversation.id)
            .await?
        {
            Some(c) => Ok((StatusCode::OK, Json(json!(c)))),
            None => Err(ApiError::field(
                "conflict",
                "external_id",
                "another conversation of this project has this external id",
            )
            .with_status(StatusCode::CONFLICT)),
        };
    }
    if let Some(text) = first {
        let m = reply(&conversation, access, text, false, "[]".into(), now)?;
        // The store's own scope: the caller may have given the conversation away.
        let added = state
            .store
            .add_message(project, &vibe_store::inbox::Scope::All, &m)
            .await?;
        if added.is_some_and(|(m, _)| m.delivery_status == "queued") {
            state.outbound.wake.notify_one();
        }
    }
    let conversation = state
        .store
        .conversation(project, &vibe_store::inbox::Scope::All, &conversation.id)
        .await?
        .unwrap_or(conversation);
    crate::live::inbox::publish(
        state,
        project,
        vec![crate::live::record::InboxChange::Conversation(
            conversation.id.clone(),
        )],
    );
    Ok((StatusCode::CREATED, Json(json!(conversation))))
}

/// An agent's outbound message: `queued` for the sender on external
/// channels, `sent` on `in_app`/`api` (read from Vibe) and for notes.
pub fn reply(
    c: &Conversation,
    access: &ProjectAccess,
    body: String,
    private: bool,
    attachments: String,
    now: i64,
) -> ApiResult<NewMessage> {
    let channel = Channel::parse(&c.channel).unwrap_or(Channel::InApp);
    Ok(NewMessage {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: c.id.clone(),
        direction: Direction::Out,
        sender: Sender::Agent,
        sender_account_id: Some(access.account.id.clone()),
        body,
        private,
        attachments,
        delivery_status: if channel.is_external() && !private {
            DeliveryStatus::Queued
        } else {
            DeliveryStatus::Sent
        },
        channel_message_id: None,
        created_at: now,
    })
}

/// `assignee`: an account id, `"me"`, or `null`; the account must be a
/// member who works conversations (agent or above).
async fn assignee(
    state: &AppState,
    access: &ProjectAccess,
    v: &Value,
) -> ApiResult<Option<String>> {
    let Some(raw) = fields::opt_text("assignee", v, MAX_SHORT_CHARS)? else {
        return Ok(None);
    };
    let id = if raw == "me" {
        access.account.id.clone()
    } else {
        raw
    };
    let members = state.store.list_members(&access.project.id).await?;
    match members.iter().find(|m| m.account_id == id) {
        Some(m) if m.role >= Role::Agent => Ok(Some(id)),
        Some(_) => Err(ApiError::field(
            "invalid_field",
            "assignee",
            "viewers cannot be assigned conversations",
        )),
        None => Err(ApiError::field(
            "invalid_field",
            "assignee",
            "not a member of this project",
        )),
    }
}

async fn team(state: &AppState, access: &ProjectAccess, v: &Value) -> ApiResult<Option<String>> {
    let Some(id) = fields::opt_text("team_id", v, MAX_SHORT_CHARS)? else {
        return Ok(None);
    };
    match state.store.team(&access.project.id, &id).await? {
        Some(_) => Ok(Some(id)),
        None => Err(ApiError::field(
            "invalid_field",
            "team_id",
            "no such team in this project",
        )),
    }
}

pub async fn get(State(state): State<AppState>, pc: ProjectConversation) -> ApiResult<Json<Value>> {
    let page = state
        .store
        .messages(
            &pc.access.project.id,
            &pc.scope,
            &pc.conversation.id,
            None,
            20,
        )
        .await?
        .map(|p| p.items)
        .unwrap_or_default();
    let recent: Vec<Value> = page.iter().map(message_json).collect();
    let mut v = json!(pc.conversation);
    v["recent_messages"] = json!(recent);
    Ok(Json(v))
}

pub async fn patch(
    State(state): State<AppState>,
    pc: ProjectConversation,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let access = &pc.access;
    let mut patch = ConversationPatch::default();
    const KNOWN: &str = "status, priority, assignee, team_id, intent, csat, escalated, handled_by_bot, is_lead, converted";
    for (key, v) in &body {
        match key.as_str() {
            "status" => patch.status = Some(fields::name(key, v, Status::parse, Status::NAMES)?),
            "priority" => {
                patch.priority = Some(fields::name(key, v, Priority::parse, Priority::NAMES)?)
            }
            "assignee" => patch.assignee_account_id = Some(assignee(&state, access, v).await?),
            "team_id" => patch.team_id = Some(team(&state, access, v).await?),
            "intent" => patch.intent = Some(fields::opt_text(key, v, MAX_SHORT_CHARS)?),
            "csat" => {
                patch.csat = Some(if v.is_null() {
                    None
                } else {
                    Some(fields::int_in(key, v, 1, 5)?)
                })
            }
            "escalated" => patch.escalated_to_human = Some(fields::flag(key, v)?),
            "handled_by_bot" => patch.handled_by_bot = Some(fields::flag(key, v)?),
            "is_lead" => patch.is_lead = Some(fields::flag(key, v)?),
            "converted" => patch.converted = Some(fields::flag(key, v)?),
            _ => return Err(fields::unknown(key, KNOWN)),
        }
    }
    let now = state.clock.now_ms();
    let project = &access.project.id;
    let updated = state
        .store
        .update_conversation(project, &pc.scope, &pc.conversation.id, &patch, now)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    crate::live::inbox::publish(
        &state,
        project,
        vec![crate::live::record::InboxChange::Conversation(
            updated.id.clone(),
        )],
    );
    // Given away out of the caller's scope: still answered, this once.
    Ok(Json(json!(updated)))
}
