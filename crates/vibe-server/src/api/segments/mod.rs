//! The segments domain (`vibe_store::segments`): `/api/v1/projects/{id}/segments`
//! and `/segments/{sid}` define custom segments (`{name, description,
//! criteria}`, the grammar in docs/api.md); `/segments/{sid}/refresh` recounts
//! one and `/segments/preview` counts criteria without saving. The people
//! list and its CSV export take a segment id as `segment=` (`people/users`).

pub mod preview;
pub mod refresh;
pub mod routes;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vibe_store::segments::{Node, Segment};
use vibe_store::StoreError;

use crate::audit::{self, AuditedJson};
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::domain::Name;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

/// Criteria larger than this (as JSON text) are refused; 50 conditions fit
/// many times over.
pub const MAX_CRITERIA_BYTES: usize = 16 * 1024;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    criteria: Value,
}

/// Validates criteria into their typed tree, with the JSON text that is
/// stored; a refusal names the JSON path (`criteria.all[2].op`).
pub fn parse_criteria(criteria: &Value) -> ApiResult<(Node, String)> {
    let text = criteria.to_string();
    if text.len() > MAX_CRITERIA_BYTES {
        return Err(ApiError::field(
            "invalid_field",
            "criteria",
            format!("must be at most {MAX_CRITERIA_BYTES} bytes of JSON"),
        ));
    }
    let node = Node::parse(criteria, "criteria")
        .map_err(|e| ApiError::field("invalid_field", &e.field, e.message))?;
    Ok((node, text))
}

struct Parsed {
    name: String,
    description: Option<String>,
    criteria: Node,
    text: String,
}

fn parse(body: SegmentBody) -> ApiResult<Parsed> {
    let name = Name::parse("name", &body.name)?.into_inner();
    let description = body
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if let Some(d) = &description {
        crate::domain::at_most("description", d.chars().count(), MAX_DESCRIPTION_CHARS)?;
    }
    let (criteria, text) = parse_criteria(&body.criteria)?;
    Ok(Parsed {
        name,
        description,
        criteria,
        text,
    })
}

/// A segment as the API shows it: its criteria as JSON, not text.
pub(crate) fn shown(s: &Segment) -> Value {
    let criteria: Value = serde_json::from_str(&s.criteria).unwrap_or(Value::Null);
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "criteria": criteria,
        "user_count": s.user_count,
        "counted_at": s.counted_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}

/// `NotFound` from the store is this segment's 404; anything else is itself.
fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("segment"),
        e => e.into(),
    }
}

pub(crate) async fn find(
    state: &AppState,
    access: &ProjectAccess,
    sid: &str,
) -> ApiResult<Segment> {
    state
        .store
        .get_segment(&access.project.id, sid)
        .await?
        .or_not_found("segment")
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    AuditedJson(body, params): AuditedJson<SegmentBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = parse(body)?;
    let now = state.clock.now_ms();
    let user_count = state
        .store
        .count_matching(&access.project.id, &p.criteria, now)
        .await?;
    let segment = Segment {
        id: uuid::Uuid::new_v4().to_string(),
        name: p.name,
        description: p.description,
        criteria: p.text,
        user_count,
        counted_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .create_segment(&access.project.id, &segment)
        .await?;
    audit::record(
        &state,
        &access,
        "segment.create",
        &format!("segment/{}", segment.id),
        params,
        ip,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(shown(&segment))))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let segments = state.store.list_segments(&access.project.id).await?;
    let segments: Vec<Value> = segments.iter().map(shown).collect();
    Ok(Json(json!({ "segments": segments })))
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, sid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(shown(&find(&state, &access, &sid).await?)))
}

/// Replaces the definition and recounts.
pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, sid)): Path<(String, String)>,
    AuditedJson(body, params): AuditedJson<SegmentBody>,
) -> ApiResult<Json<Value>> {
    let existing = find(&state, &access, &sid).await?;
    let p = parse(body)?;
    let now = state.clock.now_ms();
    let user_count = state
        .store
        .count_matching(&access.project.id, &p.criteria, now)
        .await?;
    let segment = Segment {
        name: p.name,
        description: p.description,
        criteria: p.text,
        user_count,
        counted_at: Some(now),
        updated_at: now,
        ..existing
    };
    state
        .store
        .update_segment(&access.project.id, &segment)
        .await
        .map_err(not_found)?;
    audit::record(
        &state,
        &access,
        "segment.update",
        &format!("segment/{sid}"),
        params,
        ip,
    )
    .await?;
    Ok(Json(shown(&segment)))
}

pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, sid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_segment(&access.project.id, &sid)
        .await
        .map_err(not_found)?;
    audit::record(
        &state,
        &access,
        "segment.delete",
        &format!("segment/{sid}"),
        json!({}),
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
