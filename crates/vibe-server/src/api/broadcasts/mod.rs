//! `POST/GET /api/v1/projects/{id}/broadcasts` and `GET …/broadcasts/{bid}`
//! (issue 12): a WhatsApp template message to every person of a segment.
//! Each recipient's message is stored `queued` with its outbox row (see
//! `vibe_store::inbox::broadcasts`), so the sender delivers them throttled
//! per project and channel, with retries; a broadcast's outcome is its
//! messages' delivery statuses (`by_status`), moved by the provider's status
//! webhooks. People without a phone are counted as `skipped`.

pub mod routes;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use vibe_store::inbox::broadcasts::contact_phone;
use vibe_store::inbox::{Broadcast, BroadcastPerson, NewBroadcast};
use vibe_store::segments::stored_criteria;

use crate::api::channels::settings::Kind;
use crate::api::inbox::fields::{self, MAX_BODY_CHARS};
use crate::api::query::int_in;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

/// A WhatsApp template name: lowercase letters, digits and `_`, 1–512.
fn template_name_ok(s: &str) -> bool {
    (1..=512).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A template language code: `en`, `en_US`, `pt_BR`, `zh_Hant`…
fn language_ok(s: &str) -> bool {
    let mut parts = s.split('_');
    let lang = parts.next().unwrap_or("");
    let region = parts.next();
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && parts.next().is_none()
        && region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

fn template(v: &Value) -> ApiResult<(String, String)> {
    let t = v.as_object().ok_or_else(|| {
        ApiError::field(
            "invalid_field",
            "template",
            "must be an object {name, language}",
        )
    })?;
    for key in t.keys() {
        if key != "name" && key != "language" {
            return Err(fields::unknown(
                &format!("template.{key}"),
                "name, language",
            ));
        }
    }
    let name = t
        .get("name")
        .ok_or_else(|| ApiError::field("missing_field", "template.name", "the template's name"))?
        .as_str()
        .filter(|s| template_name_ok(s))
        .ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "template.name",
                "lowercase letters, digits and `_`, 1 to 512 characters",
            )
        })?;
    let language = t
        .get("language")
        .ok_or_else(|| {
            ApiError::field(
                "missing_field",
                "template.language",
                "the template's language",
            )
        })?
        .as_str()
        .filter(|s| language_ok(s))
        .ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "template.language",
                "a language code like `en` or `en_US`",
            )
        })?;
    Ok((name.to_owned(), language.to_owned()))
}

async fn whatsapp_enabled(state: &AppState, project_id: &str) -> ApiResult<bool> {
    for kind in [Kind::Whatsapp, Kind::Twilio] {
        if let Some(c) = state.store.get_channel(project_id, kind.as_str()).await? {
            if c.enabled {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

async fn shown(state: &AppState, project_id: &str, b: &Broadcast) -> ApiResult<Value> {
    let stats = state.store.broadcast_stats(project_id, &b.id).await?;
    let status = if stats.queued > 0 { "sending" } else { "done" };
    Ok(json!({
        "id": b.id,
        "channel": b.channel,
        "segment_id": b.segment_id,
        "template": {"name": b.template_name, "language": b.template_language},
        "body": b.body,
        "created_by_account_id": b.created_by_account_id,
        "created_at": b.created_at,
        "recipients": b.recipients,
        "skipped": b.skipped,
        "status": status,
        "by_status": stats,
    }))
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let project = &access.project.id;
    let (mut segment_id, mut tpl, mut text) = (None, None, None);
    for (key, v) in &body {
        match key.as_str() {
            "segment_id" => segment_id = Some(fields::text(key, v, 200)?),
            "template" => tpl = Some(template(v)?),
            "body" => text = Some(fields::text(key, v, MAX_BODY_CHARS)?),
            _ => return Err(fields::unknown(key, "segment_id, template, body")),
        }
    }
    let segment_id = segment_id
        .ok_or_else(|| ApiError::field("missing_field", "segment_id", "the segment to send to"))?;
    let (template_name, template_language) = tpl.ok_or_else(|| {
        ApiError::field("missing_field", "template", "the template {name, language}")
    })?;
    let text = text.ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "body",
            "the text the threads show for the template",
        )
    })?;
    let segment = state
        .store
        .get_segment(project, &segment_id)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "segment_id",
                "no such segment in this project",
            )
        })?;
    if !whatsapp_enabled(&state, project).await? {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "channel_not_configured",
            "the project has no enabled WhatsApp channel",
        ));
    }
    let now = state.clock.now_ms();
    let criteria = stored_criteria(&segment.criteria)?;
    let people: Vec<BroadcastPerson> = state
        .store
        .matching_people(project, &criteria, now)
        .await?
        .into_iter()
        .map(|(id, traits)| BroadcastPerson {
            phone: contact_phone(&id, &traits),
            person_id: id,
            conversation_id: uuid::Uuid::new_v4().to_string(),
            message_id: uuid::Uuid::new_v4().to_string(),
        })
        .collect();
    let new = NewBroadcast {
        id: uuid::Uuid::new_v4().to_string(),
        segment_id,
        template_name,
        template_language,
        body: text,
        created_by_account_id: Some(access.account.id.clone()),
        created_at: now,
    };
    let b = state.store.create_broadcast(project, &new, &people).await?;
    if b.recipients > 0 {
        state.outbound.wake.notify_one();
    }
    let status = if b.recipients > 0 { "queued" } else { "done" };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": b.id,
            "recipients": b.recipients,
            "skipped": b.skipped,
            "status": status,
        })),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = int_in(&q, "limit", 50, 1..=200)?;
    let project = &access.project.id;
    let mut items = Vec::new();
    for b in state.store.list_broadcasts(project, limit).await? {
        items.push(shown(&state, project, &b).await?);
    }
    Ok(Json(json!({ "broadcasts": items })))
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, bid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let project = &access.project.id;
    let b = state
        .store
        .broadcast(project, &bid)
        .await?
        .or_not_found("broadcast")?;
    Ok(Json(shown(&state, project, &b).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_and_languages() {
        assert!(template_name_ok("spring_sale_2"));
        assert!(!template_name_ok("Spring"));
        assert!(!template_name_ok(""));
        assert!(!template_name_ok(&"a".repeat(513)));
        assert!(language_ok("en_US") && language_ok("en") && language_ok("zh_Hant"));
        assert!(!language_ok("EN") && !language_ok("en-US") && !language_ok("e"));
    }
}
