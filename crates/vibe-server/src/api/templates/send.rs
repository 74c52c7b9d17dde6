//! `POST …/templates/{template_id}/send {user_ids, data?, rate_per_minute?}`
//! (issue 14 item 1, the seed's `sendTemplate`): the template sent now to
//! chosen contacts, tracked per recipient like a campaign — it *is* one, of
//! kind `direct`, created already `sending` with its recipients
//! materialised from the ids in the same transaction (repeats once; people
//! without an address, unsubscribed or bounced before are skipped by
//! reason), delivered by the campaign sender (claimed before each send,
//! throttled, never sent twice) and visible, pausable and cancellable under
//! `/campaigns/{campaign_id}`. `user_ids` are person ids, user ids or
//! anonymous ids of this project; the ones that match nobody are listed in
//! `not_found`. `data` is the template's `data` variable for everyone.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{Map, Value};
use vibe_store::campaigns::{Campaign, CampaignKind, CampaignStatus};

use super::find;
use super::preview::MAX_DATA_BYTES;
use crate::api::campaigns::body::MAX_RATE_PER_MINUTE;
use crate::api::campaigns::with_progress;
use crate::api::inbox::fields;
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::campaigns::sender::email_session;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Contacts one send may name.
pub const MAX_USER_IDS: usize = 1_000;
const FIELDS: &str = "user_ids, data, rate_per_minute";

fn unprocessable(code: &'static str, field: Option<&str>, message: impl Into<String>) -> ApiError {
    ApiError::Client {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        message: message.into(),
        field: field.map(str::to_owned),
    }
}

fn user_ids(v: &Value) -> ApiResult<Vec<String>> {
    let list = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_field("user_ids", "must be a list of contact ids"))?;
    if list.is_empty() || list.len() > MAX_USER_IDS {
        return Err(ApiError::invalid_field(
            "user_ids",
            format!("must hold 1 to {MAX_USER_IDS} ids"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, id)| fields::text(&format!("user_ids[{i}]"), id, fields::MAX_SHORT_CHARS))
        .collect()
}

pub async fn send(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, template_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let t = find(&state, &access, &template_id).await?;
    let (mut ids, mut data, mut rate) = (None, None, None);
    for (key, v) in &body {
        match key.as_str() {
            "user_ids" => ids = Some(user_ids(v)?),
            "data" if v.is_null() => {}
            "data" => {
                if !v.is_object() {
                    return Err(ApiError::invalid_field("data", "must be an object"));
                }
                let text = v.to_string();
                if text.len() > MAX_DATA_BYTES {
                    return Err(ApiError::invalid_field(
                        "data",
                        format!("must be at most {MAX_DATA_BYTES} bytes of JSON"),
                    ));
                }
                data = Some(text);
            }
            "rate_per_minute" if v.is_null() => {}
            "rate_per_minute" => rate = Some(fields::int_in(key, v, 1, MAX_RATE_PER_MINUTE)?),
            _ => return Err(fields::unknown(key, FIELDS)),
        }
    }
    let ids =
        ids.ok_or_else(|| ApiError::field("missing_field", "user_ids", "the contacts to send to"))?;
    if t.channel != "email" {
        return Err(unprocessable(
            "channel_not_supported",
            None,
            format!("{} templates cannot be sent yet; only email", t.channel),
        ));
    }
    email_session(&state, &access.project.id)
        .await
        .map_err(|why| unprocessable("channel_not_configured", None, why))?;
    let (mut people, mut not_found) = (Vec::new(), Vec::new());
    for id in ids {
        match state.store.find_user(&access.project.id, &id).await? {
            Some(p) => people.push(p.id),
            None => not_found.push(id),
        }
    }
    if people.is_empty() {
        return Err(unprocessable(
            "no_recipients",
            Some("user_ids"),
            "none of these ids is a contact of this project",
        ));
    }
    let now = state.clock.now_ms();
    let c = Campaign {
        id: uuid::Uuid::new_v4().to_string(),
        kind: CampaignKind::Direct.as_str().to_owned(),
        name: t.name.clone(),
        channel: t.channel.clone(),
        template_id: Some(t.id.clone()),
        content: None,
        data,
        segment: None,
        send_at: None,
        rate_per_minute: rate,
        status: CampaignStatus::Draft.as_str().to_owned(),
        recipients: 0,
        skipped: 0,
        error: None,
        created_by_account_id: Some(access.account.id.clone()),
        created_at: now,
        updated_at: now,
        started_at: None,
        finished_at: None,
    };
    let c = state
        .store
        .create_direct_campaign(&access.project.id, &c, &people, now)
        .await?;
    let resource = format!("template/{}", t.id);
    let params =
        serde_json::json!({"name": t.name, "campaign_id": c.id, "recipients": c.recipients});
    audit::record(&state, &access, "template.send", &resource, params, ip).await?;
    let mut out = with_progress(&state, &access.project.id, &c).await?;
    out["not_found"] = Value::from(not_found);
    Ok((StatusCode::ACCEPTED, Json(out)))
}
