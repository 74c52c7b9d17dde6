//! `GET/POST /api/v1/projects/{id}/users/{uid}/notes` and
//! `DELETE …/notes/{nid}`: notes on a person, newest first.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vibe_store::crm::{NewNote, Note};
use vibe_store::{Role, StoreError};

use crate::api::people::users::ProjectUser;
use crate::api::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_NOTE_CHARS: usize = 10_000;

#[derive(Deserialize)]
pub struct NoteBody {
    /// Checked here rather than by serde, whose type errors name the value
    /// instead of the field.
    body: Value,
}

impl NoteBody {
    fn body(self) -> ApiResult<String> {
        let Value::String(body) = self.body else {
            return Err(ApiError::field("invalid_field", "body", "must be a string"));
        };
        if body.trim().is_empty() {
            return Err(ApiError::field(
                "invalid_field",
                "body",
                "must not be empty",
            ));
        }
        // PostgreSQL text cannot hold NUL; both backends refuse it alike.
        if body.contains('\0') {
            return Err(ApiError::field(
                "invalid_field",
                "body",
                "must not contain NUL",
            ));
        }
        crate::domain::at_most("body", body.chars().count(), MAX_NOTE_CHARS)?;
        Ok(body)
    }
}

pub async fn list(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
) -> ApiResult<Json<Value>> {
    let notes = state.store.notes(&access.project.id, &user.id).await?;
    Ok(Json(json!({ "notes": notes })))
}

pub async fn create(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    ApiJson(body): ApiJson<NoteBody>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let body = body.body()?;
    let note = NewNote {
        id: uuid::Uuid::new_v4().to_string(),
        site_user_id: user.id,
        body,
        author_account_id: Some(access.account.id.clone()),
        created_at: state.clock.now_ms(),
    };
    let note = state.store.add_note(&access.project.id, &note).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

pub async fn delete(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    Path((_, _, nid)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    // Agents may delete only what they wrote; admins anyone's.
    if access.role < Role::Admin {
        let author = state
            .store
            .note_author(&access.project.id, &user.id, &nid)
            .await?
            .ok_or_else(|| ApiError::not_found("note"))?;
        if author.as_deref() != Some(access.account.id.as_str()) {
            return Err(ApiError::forbidden(
                "agents can delete only their own notes; this needs the admin role",
            ));
        }
    }
    match state
        .store
        .delete_note(&access.project.id, &user.id, &nid)
        .await
    {
        Err(StoreError::NotFound) => Err(ApiError::not_found("note")),
        other => other.map(|()| StatusCode::NO_CONTENT).map_err(Into::into),
    }
}
