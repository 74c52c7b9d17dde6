//! `POST /api/v1/support/messages`: a conversation's messages as the
//! helpdesk saw them, idempotent on `(channel, external_id)` (the message's
//! `channel_message_id`). `sender` is `contact` (inbound), `agent`, `bot` or
//! `system` (outbound); `direction` may be left out (it follows from the
//! sender) and must agree with it when given. A reported message was already
//! delivered by the caller: inbound ones are stored `delivered`, outbound
//! ones `sent` (never `queued`, so Vibe's sender never sends them again). The
//! timers run as for any message (`vibe_store::inbox::timers`), from
//! `created_at` (default now). An external id already used by a message of
//! another conversation on the same channel is `409 conflict` (`external_id`).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::inbox::{DeliveryStatus, Direction, NewMessage, Scope, Sender};
use vibe_store::Project;

use super::{at_item, conversation_of, handle, required, time, Item};
use crate::api::inbox::fields::{self, MAX_BODY_CHARS, MAX_SHORT_CHARS};
use crate::api::inbox::message_json;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const KNOWN: &str = "conversation_external_id, external_id, direction, sender, body, created_at";

struct MsgIn {
    external_id: String,
    direction: Direction,
    sender: Sender,
    body: String,
    created_at: Option<i64>,
}

fn parse(item: &Item, now: i64) -> ApiResult<MsgIn> {
    let at = at_item(item);
    for key in item.body.keys() {
        if !KNOWN.split(", ").any(|k| k == key) {
            return Err(at(fields::unknown(key, KNOWN)));
        }
    }
    let ext = required(item, "external_id", "your id of the message")?;
    let external_id = fields::text("external_id", ext, MAX_SHORT_CHARS).map_err(&at)?;
    let sender = required(item, "sender", "contact, agent, bot or system")?;
    let sender = fields::name("sender", sender, Sender::parse, Sender::NAMES).map_err(&at)?;
    let natural = if sender == Sender::Contact {
        Direction::In
    } else {
        Direction::Out
    };
    let direction = match item.body.get("direction").filter(|v| !v.is_null()) {
        None => natural,
        Some(v) => {
            let d =
                fields::name("direction", v, Direction::parse, Direction::NAMES).map_err(&at)?;
            let fits = match sender {
                Sender::Contact => d == Direction::In,
                Sender::Agent | Sender::Bot => d == Direction::Out,
                Sender::System => true,
            };
            if !fits {
                return Err(ApiError::field(
                    "invalid_field",
                    &item.field("direction"),
                    "a contact's message is `in`; an agent's or a bot's is `out`",
                ));
            }
            d
        }
    };
    let body = required(item, "body", "the message text")?;
    Ok(MsgIn {
        external_id,
        direction,
        sender,
        body: fields::text("body", body, MAX_BODY_CHARS).map_err(&at)?,
        created_at: time(item, "created_at", now)?,
    })
}

fn item_field(items: &[Item], i: usize, key: &str) -> String {
    items
        .get(i)
        .map_or_else(|| key.to_owned(), |item| item.field(key))
}

pub async fn messages(
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
    let mut parsed = Vec::with_capacity(items.len());
    for item in &items {
        let m = parse(item, now)?;
        let conversation = conversation_of(&state, &project, item).await?;
        parsed.push((m, conversation));
    }
    let mut out = Vec::with_capacity(parsed.len());
    for (i, (m, c)) in parsed.into_iter().enumerate() {
        let new = NewMessage {
            id: uuid::Uuid::new_v4().to_string(),
            conversation_id: c.id.clone(),
            direction: m.direction,
            sender: m.sender,
            sender_account_id: None,
            body: m.body,
            private: false,
            attachments: "[]".into(),
            delivery_status: if m.direction == Direction::In {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Sent
            },
            channel_message_id: Some(m.external_id.clone()),
            created_at: m.created_at.unwrap_or(now),
        };
        let (message, created) = state
            .store
            .add_message(pid, &Scope::All, &new)
            .await?
            .ok_or_else(|| ApiError::not_found("conversation"))?;
        if message.conversation_id != c.id {
            return Err(ApiError::field(
                "conflict",
                &item_field(&items, i, "external_id"),
                "a message of another conversation on this channel has this external id",
            )
            .with_status(StatusCode::CONFLICT));
        }
        let mut v = message_json(&message);
        v["external_id"] = json!(m.external_id);
        v["conversation_external_id"] = json!(c.external_id);
        v["created"] = json!(created);
        out.push((created, v));
    }
    Ok(out)
}
