//! `GET /api/v1/projects/{id}/tags`: every tag with how many people carry it,
//! and the one normalisation a tag gets wherever it is sent.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_TAG_CHARS: usize = 32;

/// Trimmed and lowercased, so `VIP ` and `vip` are one tag; 1–32 characters,
/// no control characters.
pub fn normalize_tag(field: &str, raw: &str) -> ApiResult<String> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err(ApiError::field("invalid_field", field, "must not be empty"));
    }
    if tag.chars().any(char::is_control) {
        return Err(ApiError::field(
            "invalid_field",
            field,
            "must not contain control characters",
        ));
    }
    crate::domain::at_most(field, tag.chars().count(), MAX_TAG_CHARS)?;
    Ok(tag)
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let tags = state.store.tag_counts(&access.project.id).await?;
    Ok(Json(json!({ "tags": tags })))
}
