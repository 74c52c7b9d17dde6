//! `POST /api/v1/support/events`: what happened to a conversation, at `at`
//! (default now). Each type sets one thing (and setting it again changes
//! nothing):
//!
//! - `handoff`: a bot handed the conversation to a human —
//!   `escalated_to_human` (and `handled_by_bot`: a bot had it first).
//! - `bot_resolved`: a bot resolved it — `handled_by_bot`, status `resolved`.
//! - `intent`: `value` (text) becomes the conversation's `intent`.
//! - `csat`: `value` 1–5 becomes its `csat`.
//! - `resolved` / `reopened`: status `resolved` / `open`, through the
//!   timers' transitions at `at` (a resolution stops the resolution timer
//!   there; a reopen restarts it).
//! - `lead` / `converted`: `is_lead` / `converted`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::inbox::{ConversationPatch, Scope, Status};
use vibe_store::Project;

use super::{at_item, conversation_of, handle, required, time, Item};
use crate::api::inbox::fields::{self, MAX_SHORT_CHARS};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const KNOWN: &str = "conversation_external_id, type, value, at";
const TYPES: &str = "handoff, bot_resolved, intent, csat, resolved, reopened, lead, converted";

fn parse(item: &Item) -> ApiResult<ConversationPatch> {
    let at = at_item(item);
    for key in item.body.keys() {
        if !KNOWN.split(", ").any(|k| k == key) {
            return Err(at(fields::unknown(key, KNOWN)));
        }
    }
    let kind = required(item, "type", TYPES)?;
    let kind = kind.as_str().unwrap_or_default();
    let value = || required(item, "value", "this event's value");
    let mut p = ConversationPatch::default();
    match kind {
        "handoff" => {
            p.escalated_to_human = Some(true);
            p.handled_by_bot = Some(true);
        }
        "bot_resolved" => {
            p.handled_by_bot = Some(true);
            p.status = Some(Status::Resolved);
        }
        "intent" => {
            p.intent = Some(Some(
                fields::text("value", value()?, MAX_SHORT_CHARS).map_err(&at)?,
            ))
        }
        "csat" => p.csat = Some(Some(fields::int_in("value", value()?, 1, 5).map_err(&at)?)),
        "resolved" => p.status = Some(Status::Resolved),
        "reopened" => p.status = Some(Status::Open),
        "lead" => p.is_lead = Some(true),
        "converted" => p.converted = Some(true),
        _ => {
            return Err(ApiError::field(
                "invalid_field",
                &item.field("type"),
                format!("must be one of {TYPES}"),
            ))
        }
    }
    Ok(p)
}

pub async fn events(
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
        let patch = parse(item)?;
        let at = time(item, "at", now)?.unwrap_or(now);
        let conversation = conversation_of(&state, &project, item).await?;
        if at < conversation.created_at {
            return Err(ApiError::field(
                "invalid_field",
                &item.field("at"),
                "is before the conversation was created",
            ));
        }
        parsed.push((patch, at, conversation.id));
    }
    let mut out = Vec::with_capacity(parsed.len());
    for (patch, at, id) in parsed {
        let c = state
            .store
            .update_conversation(pid, &Scope::All, &id, &patch, at)
            .await?
            .ok_or_else(|| ApiError::not_found("conversation"))?;
        out.push((false, json!(c)));
    }
    Ok(out)
}
