//! `POST /api/v1/projects/{id}/conversations/{cid}/messages/{mid}/read`: the
//! agent has read the thread up to this message; the contact's messages
//! until it become `read` and the unread count is recounted. Answers with
//! the conversation.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::ProjectConversation;
use crate::error::{ApiResult, OrNotFound};
use crate::state::AppState;

pub async fn read(
    State(state): State<AppState>,
    pc: ProjectConversation,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mid = params.get("mid").or_not_found("message")?;
    let now = state.clock.now_ms();
    let c = state
        .store
        .mark_read(
            &pc.access.project.id,
            &pc.scope,
            &pc.conversation.id,
            mid,
            now,
        )
        .await?
        .or_not_found("message")?;
    crate::live::inbox::publish(
        &state,
        &pc.access.project.id,
        vec![crate::live::record::InboxChange::Read(c.id.clone())],
    );
    Ok(Json(json!(c)))
}
