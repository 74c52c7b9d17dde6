//! The inbox domain (`vibe_store::inbox`): conversations (`mod.rs`,
//! `/conversations` and `/conversations/{cid}`), their threads
//! (`messages.rs`, `/conversations/{cid}/messages`; `read.rs`,
//! `…/messages/{mid}/read`), a contact's conversations (`contact.rs`,
//! `/users/{uid}/conversations`), the list's creation-time filter
//! (`created.rs`: a local weekday and hour as UTC windows), agents and their status (`agents.rs`,
//! `/agents`, `/agents/me/status`), inboxes (`inboxes.rs`, `/inboxes`), teams
//! (`teams.rs`, `/teams…`) and SLA
//! policies (`sla.rs`, `/sla-policies…`).
//!
//! Who sees which conversation is the store's [`Scope`], built from the
//! caller's role and account: a conversation outside it is 404, as if it did
//! not exist. Viewers see no conversation content (the routes need `agent`).

pub mod agents;
pub mod automation;
pub mod contact;
pub mod conversations;
pub mod created;
pub mod fields;
pub mod inboxes;
pub mod messages;
pub mod presence;
pub mod queue;
pub mod read;
pub mod routes;
pub mod sla;
pub mod teams;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde_json::{json, Value};
use vibe_store::inbox::{Conversation, Message, Scope};

use crate::auth::ProjectAccess;
use crate::error::{ApiError, OrNotFound};
use crate::state::AppState;

pub fn scope_of(access: &ProjectAccess) -> Scope {
    Scope::of(access.role, &access.account.id)
}

/// The conversation `{cid}` names, if the caller's scope may see it (404
/// otherwise, after the role check).
pub struct ProjectConversation {
    pub access: ProjectAccess,
    pub scope: Scope,
    pub conversation: Conversation,
}

impl FromRequestParts<AppState> for ProjectConversation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = ProjectAccess::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("conversation"))?;
        let cid = params.get("cid").or_not_found("conversation")?;
        let scope = scope_of(&access);
        let conversation = state
            .store
            .conversation(&access.project.id, &scope, cid)
            .await?
            .or_not_found("conversation")?;
        Ok(Self {
            access,
            scope,
            conversation,
        })
    }
}

/// A message with its attachments as JSON (stored as text).
pub fn message_json(m: &Message) -> Value {
    let mut v = json!(m);
    v["attachments"] = serde_json::from_str(&m.attachments).unwrap_or_else(|_| json!([]));
    if let Some(t) = &m.template {
        v["template"] = serde_json::from_str(t).unwrap_or(Value::Null);
    }
    v
}
