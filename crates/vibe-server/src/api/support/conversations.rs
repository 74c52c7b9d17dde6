//! `POST /api/v1/support/conversations`: upserts conversations by external
//! id. A new one is created with its contact (found or created, see
//! `vibe_store::inbox::external`) at `created_at` (default now); a known one
//! takes the `status`, `priority` and `intent` given (a status change at
//! now, through the timers' transitions) and keeps everything else.

use std::collections::HashSet;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::inbox::{
    inbound::e164, Channel, ContactRef, ConversationPatch, NewConversation, Priority, Scope, Status,
};
use vibe_store::Project;

use super::{at_item, handle, required, time, Item};
use crate::api::inbox::fields::{self, MAX_SHORT_CHARS};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

struct ConvIn {
    external_id: String,
    contact: ContactRef,
    channel: Channel,
    status: Option<Status>,
    priority: Option<Priority>,
    inbox_id: Option<String>,
    intent: Option<String>,
    created_at: Option<i64>,
}

const KNOWN: &str = "external_id, contact, channel, status, priority, inbox_id, intent, created_at";
const CONTACT_KEYS: &str = "user_id, anonymous_id, email, phone";

fn contact(item: &Item) -> ApiResult<ContactRef> {
    let v = required(item, "contact", "who the conversation is with")?;
    let field = item.field("contact");
    let obj = v.as_object().ok_or_else(|| {
        ApiError::field(
            "invalid_field",
            &field,
            format!("must be an object with one of {CONTACT_KEYS}"),
        )
    })?;
    for key in obj.keys() {
        if !["user_id", "anonymous_id", "email", "phone"].contains(&key.as_str()) {
            return Err(fields::unknown(&format!("{field}.{key}"), CONTACT_KEYS));
        }
    }
    let get = |key: &str| -> ApiResult<Option<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => fields::text(&format!("{field}.{key}"), v, MAX_SHORT_CHARS).map(Some),
        }
    };
    if let Some(u) = get("user_id")? {
        return Ok(ContactRef::UserId(u));
    }
    if let Some(a) = get("anonymous_id")? {
        return Ok(ContactRef::AnonymousId(a));
    }
    if let Some(e) = get("email")? {
        if !e.contains('@') || e.contains(char::is_whitespace) {
            return Err(ApiError::field(
                "invalid_field",
                &format!("{field}.email"),
                "must be an email address",
            ));
        }
        return Ok(ContactRef::Email(e.to_lowercase()));
    }
    if let Some(p) = get("phone")? {
        let phone = e164(&p).ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                &format!("{field}.phone"),
                "must be an E.164 number (+ and up to 15 digits)",
            )
        })?;
        return Ok(ContactRef::Phone(phone));
    }
    Err(ApiError::field(
        "missing_field",
        &field,
        format!("needs one of {CONTACT_KEYS}"),
    ))
}

fn parse(item: &Item, now: i64) -> ApiResult<ConvIn> {
    let at = at_item(item);
    for key in item.body.keys() {
        if !KNOWN.split(", ").any(|k| k == key) {
            return Err(at(fields::unknown(key, KNOWN)));
        }
    }
    let ext = required(item, "external_id", "your id of the conversation")?;
    let opt = |key: &str| item.body.get(key).filter(|v| !v.is_null());
    Ok(ConvIn {
        external_id: fields::text("external_id", ext, MAX_SHORT_CHARS).map_err(&at)?,
        contact: contact(item)?,
        channel: match opt("channel") {
            Some(v) => fields::name("channel", v, Channel::parse, Channel::NAMES).map_err(&at)?,
            None => Channel::Api,
        },
        status: opt("status")
            .map(|v| fields::name("status", v, Status::parse, Status::NAMES))
            .transpose()
            .map_err(&at)?,
        priority: opt("priority")
            .map(|v| fields::name("priority", v, Priority::parse, Priority::NAMES))
            .transpose()
            .map_err(&at)?,
        inbox_id: opt("inbox_id")
            .map(|v| fields::text("inbox_id", v, MAX_SHORT_CHARS))
            .transpose()
            .map_err(&at)?,
        intent: opt("intent")
            .map(|v| fields::text("intent", v, MAX_SHORT_CHARS))
            .transpose()
            .map_err(&at)?,
        created_at: time(item, "created_at", now)?,
    })
}

pub async fn conversations(
    state: State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    handle(state, headers, body, apply).await
}

async fn apply(
    state: AppState,
    project: Project,
    items: Vec<Item>,
) -> ApiResult<Vec<(bool, Value)>> {
    let now = state.clock.now_ms();
    let pid = &project.id;
    let parsed: Vec<ConvIn> = items
        .iter()
        .map(|i| parse(i, now))
        .collect::<ApiResult<_>>()?;
    // What depends on stored data, checked before anything is written.
    let inboxes: HashSet<String> = state
        .store
        .inboxes(pid)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    for (item, c) in items.iter().zip(&parsed) {
        if let Some(inbox) = &c.inbox_id {
            if !inboxes.contains(inbox) {
                return Err(ApiError::field(
                    "invalid_field",
                    &item.field("inbox_id"),
                    "no such inbox in this project",
                ));
            }
        }
        if let ContactRef::AnonymousId(_) = &c.contact {
            if state
                .store
                .support_contact(pid, &c.contact, now)
                .await?
                .is_none()
            {
                return Err(ApiError::field(
                    "not_found",
                    &item.field("contact.anonymous_id"),
                    "no visitor of this project has this anonymous id",
                )
                .with_status(StatusCode::NOT_FOUND));
            }
        }
    }
    let mut out = Vec::with_capacity(parsed.len());
    for c in parsed {
        out.push(upsert(&state, pid, c, now).await?);
    }
    Ok(out)
}

async fn upsert(state: &AppState, pid: &str, c: ConvIn, now: i64) -> ApiResult<(bool, Value)> {
    let store = &state.store;
    if let Some(existing) = store
        .conversation_by_external_id(pid, &c.external_id)
        .await?
    {
        let patch = ConversationPatch {
            status: c.status,
            priority: c.priority,
            intent: c.intent.map(Some),
            ..Default::default()
        };
        let updated = if patch == ConversationPatch::default() {
            existing
        } else {
            store
                .update_conversation(pid, &Scope::All, &existing.id, &patch, now)
                .await?
                .unwrap_or(existing)
        };
        return Ok((false, with_created(json!(updated), false)));
    }
    let created_at = c.created_at.unwrap_or(now);
    let site_user_id = store
        .support_contact(pid, &c.contact, created_at)
        .await?
        .ok_or_else(|| ApiError::not_found("contact"))?;
    let new = NewConversation {
        id: uuid::Uuid::new_v4().to_string(),
        site_user_id,
        channel: c.channel,
        status: Status::Open,
        priority: c.priority.unwrap_or(Priority::Medium),
        assignee_account_id: None,
        team_id: None,
        inbox_id: c.inbox_id,
        handled_by_bot: false,
        intent: c.intent,
        is_lead: false,
        external_id: Some(c.external_id),
        created_by_account_id: None,
        created_at,
    };
    let (mut conversation, created) = store.create_conversation(pid, &new).await?;
    if created {
        if let Some(status) = c.status.filter(|s| *s != Status::Open) {
            let patch = ConversationPatch {
                status: Some(status),
                ..Default::default()
            };
            if let Some(after) = store
                .update_conversation(pid, &Scope::All, &conversation.id, &patch, created_at)
                .await?
            {
                conversation = after;
            }
        }
    }
    Ok((created, with_created(json!(conversation), created)))
}

fn with_created(mut v: Value, created: bool) -> Value {
    v["created"] = json!(created);
    v
}
