//! `PATCH /api/v1/projects/{id}/users/{uid}`: a person's tags, priority and
//! properties. Answers with the profile, as `GET` shows it.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::crm::{Contact, ContactPatch, Priority, MAX_PROPERTIES_BYTES};
use vibe_store::StoreError;

use super::tags::normalize_tag;
use crate::api::people::users::{profile_body, ProjectUser};
use crate::api::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_TAGS: usize = 50;

pub async fn patch(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let patch = parse_patch(body)?;
    let now = state.clock.now_ms();
    let contact = match state
        .store
        .update_contact(&access.project.id, &user.id, &patch, now)
        .await
    {
        // The only data this write refuses: properties merged past the limit.
        Err(StoreError::Rejected(_)) => return Err(properties_too_large()),
        other => other?,
    };
    profile_body(&state, &access, user, contact).await.map(Json)
}

/// The CRM fields a profile adds.
pub fn fields(contact: Contact) -> Value {
    json!({
        "tags": contact.tags,
        "priority": contact.priority,
        "properties": contact.properties,
        "notes_count": contact.notes_count,
    })
}

fn parse_patch(body: Map<String, Value>) -> ApiResult<ContactPatch> {
    let mut patch = ContactPatch::default();
    for (key, value) in body {
        match key.as_str() {
            "tags" => patch.tags = Some(parse_tags(&value)?),
            "priority" => patch.priority = Some(parse_priority(&value)?),
            "properties" => patch.properties = Some(parse_properties(value)?),
            _ => {
                return Err(ApiError::field(
                    "invalid_field",
                    &key,
                    "is not a contact field (tags, priority, properties)",
                ))
            }
        }
    }
    Ok(patch)
}

/// A set: duplicates (after normalising) collapse, the order is not kept.
fn parse_tags(value: &Value) -> ApiResult<Vec<String>> {
    let list = value
        .as_array()
        .ok_or_else(|| ApiError::field("invalid_field", "tags", "must be a list of strings"))?;
    let mut tags = BTreeSet::new();
    for (i, tag) in list.iter().enumerate() {
        let field = format!("tags[{i}]");
        let raw = tag
            .as_str()
            .ok_or_else(|| ApiError::field("invalid_field", &field, "must be a string"))?;
        tags.insert(normalize_tag(&field, raw)?);
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::field(
            "invalid_field",
            "tags",
            format!("at most {MAX_TAGS} tags per contact"),
        ));
    }
    Ok(tags.into_iter().collect())
}

fn parse_priority(value: &Value) -> ApiResult<Option<Priority>> {
    match value {
        Value::Null => Ok(None),
        Value::String(name) => priority(name).map(Some),
        _ => Err(invalid_priority()),
    }
}

fn priority(name: &str) -> ApiResult<Priority> {
    Priority::parse(name).ok_or_else(invalid_priority)
}

fn invalid_priority() -> ApiError {
    ApiError::field(
        "invalid_field",
        "priority",
        format!("must be one of {} or null", Priority::NAMES),
    )
}

fn parse_properties(value: Value) -> ApiResult<Map<String, Value>> {
    let Value::Object(props) = value else {
        return Err(ApiError::field(
            "invalid_field",
            "properties",
            "must be an object",
        ));
    };
    // The same measure as the store's for the merged object: its JSON text.
    let bytes = serde_json::to_vec(&props).map_or(usize::MAX, |text| text.len());
    if bytes > MAX_PROPERTIES_BYTES {
        return Err(properties_too_large());
    }
    Ok(props)
}

fn properties_too_large() -> ApiError {
    ApiError::field(
        "too_large",
        "properties",
        format!(
            "properties must stay within {} KiB",
            MAX_PROPERTIES_BYTES / 1024
        ),
    )
    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
}

/// The `priority` filter of the people list; empty means no filter.
pub fn priority_filter(raw: Option<&String>) -> ApiResult<Option<Priority>> {
    raw.filter(|s| !s.is_empty())
        .map(|s| priority(s))
        .transpose()
}
