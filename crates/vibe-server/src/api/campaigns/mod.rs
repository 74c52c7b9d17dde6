//! The campaigns domain (`vibe_store::campaigns`, issue 14 items 2 and 3):
//! `/api/v1/projects/{id}/campaigns` and `/campaigns/{campaign_id}` create,
//! list, read (with live progress), replace (only while `draft` or
//! `scheduled`) and delete (not while `sending` or `paused`) campaigns; the
//! body is read by `body.rs`; `actions.rs` holds `send|pause|resume|cancel`
//! (the state machine), `test.rs` the test send, `recipients.rs` the
//! recipients' pages. The leader's sender
//! (`crate::campaigns`) does the sending.

pub mod actions;
pub mod body;
pub mod recipients;
pub mod routes;
pub mod stats;
pub mod test;
pub mod tracking;
pub mod unsubscribe;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::campaigns::{Campaign, CampaignCounts, CampaignKind, CampaignStatus};
use vibe_store::StoreError;

use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::campaigns::sender::DEFAULT_RATE_PER_MINUTE;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

/// The store's refusal of a write as this campaign's answer: its
/// `Conflict(status)` is a 409 with `code` and the current status.
pub(crate) fn store_error(e: StoreError, code: &'static str, what: &str) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("campaign"),
        StoreError::Conflict(status) => ApiError::Client {
            status: StatusCode::CONFLICT,
            code,
            message: format!("cannot {what} a campaign that is {status}"),
            field: None,
        },
        e => e.into(),
    }
}

pub(crate) async fn find(
    state: &AppState,
    access: &ProjectAccess,
    campaign_id: &str,
) -> ApiResult<Campaign> {
    state
        .store
        .get_campaign(&access.project.id, campaign_id)
        .await?
        .or_not_found("campaign")
}

/// A campaign as the API shows it (inline content as an object).
pub fn shown(c: &Campaign) -> Value {
    let json_of = |t: &Option<String>| {
        t.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    let content = json_of(&c.content);
    json!({
        "id": c.id,
        "kind": c.kind,
        "name": c.name,
        "channel": c.channel,
        "template_id": c.template_id,
        "content": content,
        "data": json_of(&c.data),
        "segment": c.segment,
        "send_at": c.send_at,
        "rate_per_minute": c.rate_per_minute,
        "status": c.status,
        "recipients": c.recipients,
        "skipped": c.skipped,
        "error": c.error,
        "created_by_account_id": c.created_by_account_id,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "started_at": c.started_at,
        "finished_at": c.finished_at,
    })
}

/// Live progress: counts by status and skip reason, the rate (configured,
/// and sent in the last minute) and the time left at the configured rate.
pub fn progress(c: &Campaign, n: &CampaignCounts) -> Value {
    let rate = c.rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE).max(1);
    let left = n.queued + n.claimed;
    let eta_s = match c.status() {
        Some(CampaignStatus::Sending | CampaignStatus::Paused) => Some(left * 60 / rate),
        _ => None,
    };
    json!({
        "total": n.total,
        "to_send": n.total - n.skipped,
        "queued": n.queued,
        "claimed": n.claimed,
        "sent": n.sent,
        "failed": n.failed,
        "unknown": n.unknown,
        "cancelled": n.cancelled,
        "skipped": {
            "total": n.skipped,
            "no_address": n.skipped_no_address,
            "unsubscribed": n.skipped_unsubscribed,
            "bounced": n.skipped_bounced,
        },
        "rate_per_minute": rate,
        "sent_last_minute": n.sent_last_minute,
        "eta_seconds": eta_s,
    })
}

/// The campaign with its progress (one read of the counts).
pub(crate) async fn with_progress(
    state: &AppState,
    project_id: &str,
    c: &Campaign,
) -> ApiResult<Value> {
    let since = state.clock.now_ms() - 60_000;
    let counts = state
        .store
        .campaign_counts(project_id, &c.id, since)
        .await?;
    let mut v = shown(c);
    v["progress"] = progress(c, &counts);
    Ok(v)
}

async fn audit_change(
    state: &AppState,
    access: &ProjectAccess,
    action: &str,
    c: &Campaign,
    ip: std::net::IpAddr,
) -> ApiResult<()> {
    let resource = format!("campaign/{}", c.id);
    let params = json!({"name": c.name, "channel": c.channel, "status": c.status});
    audit::record(state, access, action, &resource, params, ip).await
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = state.clock.now_ms();
    let b = body::parse(&state, &access, &body, now).await?;
    let c = Campaign {
        id: uuid::Uuid::new_v4().to_string(),
        kind: CampaignKind::Segment.as_str().to_owned(),
        name: b.name,
        channel: b.channel.as_str().to_owned(),
        template_id: b.template_id,
        content: b.content,
        data: None,
        segment: Some(b.segment),
        send_at: b.send_at,
        rate_per_minute: b.rate_per_minute,
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
    state.store.create_campaign(&access.project.id, &c).await?;
    audit_change(&state, &access, "campaign.create", &c, ip).await?;
    Ok((StatusCode::CREATED, Json(shown(&c))))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let all = state.store.list_campaigns(&access.project.id).await?;
    let items: Vec<Value> = all.iter().map(shown).collect();
    Ok(Json(json!({ "campaigns": items })))
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, campaign_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let c = find(&state, &access, &campaign_id).await?;
    Ok(Json(with_progress(&state, &access.project.id, &c).await?))
}

/// Replaces the campaign (the same body as a create) while it is `draft`
/// or `scheduled`; 409 `not_editable` after.
pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, campaign_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let existing = find(&state, &access, &campaign_id).await?;
    if existing.kind != CampaignKind::Segment.as_str() {
        return Err(store_error(
            StoreError::Conflict(existing.status),
            "not_editable",
            "edit",
        ));
    }
    let now = state.clock.now_ms();
    let b = body::parse(&state, &access, &body, now).await?;
    let c = Campaign {
        name: b.name,
        channel: b.channel.as_str().to_owned(),
        template_id: b.template_id,
        content: b.content,
        segment: Some(b.segment),
        send_at: b.send_at,
        rate_per_minute: b.rate_per_minute,
        updated_at: now,
        ..existing
    };
    state
        .store
        .update_campaign(&access.project.id, &c)
        .await
        .map_err(|e| store_error(e, "not_editable", "edit"))?;
    audit_change(&state, &access, "campaign.update", &c, ip).await?;
    Ok(Json(shown(&c)))
}

/// Deletes a campaign with its recipients; 409 `campaign_active` while it
/// is `sending` or `paused` (cancel it first).
pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, campaign_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let existing = find(&state, &access, &campaign_id).await?;
    state
        .store
        .delete_campaign(&access.project.id, &campaign_id)
        .await
        .map_err(|e| store_error(e, "campaign_active", "delete"))?;
    audit_change(&state, &access, "campaign.delete", &existing, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
