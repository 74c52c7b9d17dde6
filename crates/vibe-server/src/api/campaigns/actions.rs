//! `POST …/campaigns/{campaign_id}/send|pause|resume|cancel`: the state
//! machine `draft → scheduled → sending ⇄ paused → sent`, any unfinished
//! state `→ cancelled` (docs/campaigns.md). An action the campaign's state
//! does not allow is 409 `invalid_transition` naming the state. `send`
//! first checks what would stop the sender — only email can be sent yet,
//! the project's email channel must be configured and enabled, the content
//! must render — and, when `send_at` is unset or past, starts at once: the
//! recipients are materialised in this request and the answer counts them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use vibe_store::campaigns::{Campaign, CampaignAction, CampaignStatus, SENDABLE_CHANNELS};
use vibe_store::StoreError;

use super::{audit_change, find, store_error, with_progress};
use crate::auth::ProjectAccess;
use crate::campaigns::message::campaign_draft;
use crate::campaigns::sender::email_session;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Client {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        message: message.into(),
        field: None,
    }
}

async fn act(
    state: &AppState,
    access: &ProjectAccess,
    ip: std::net::IpAddr,
    campaign_id: &str,
    action: CampaignAction,
) -> ApiResult<Json<Value>> {
    let existing = find(state, access, campaign_id).await?;
    if action == CampaignAction::Schedule {
        ready_to_send(state, access, &existing).await?;
    }
    let now = state.clock.now_ms();
    let mut c = state
        .store
        .transition_campaign(&access.project.id, campaign_id, action, now)
        .await
        .map_err(|e| store_error(e, "invalid_transition", action.as_str()))?;
    audit_change(
        state,
        access,
        &format!("campaign.{}", action.as_str()),
        &c,
        ip,
    )
    .await?;
    if action == CampaignAction::Schedule && c.send_at.is_none_or(|at| at <= now) {
        match state
            .store
            .start_campaign(&access.project.id, campaign_id, now)
            .await
        {
            Ok(started) => c = started,
            // The sender's round started it first (it also starts due
            // scheduled campaigns): answer with what it did.
            Err(StoreError::Conflict(_)) => c = find(state, access, campaign_id).await?,
            // Left scheduled: the sender pauses it with the reason.
            Err(StoreError::Rejected(why)) => return Err(unprocessable("cannot_start", why)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Json(with_progress(state, &access.project.id, &c).await?))
}

/// What would keep the sender from sending `c`, as a 422.
async fn ready_to_send(state: &AppState, access: &ProjectAccess, c: &Campaign) -> ApiResult<()> {
    if c.status() != Some(CampaignStatus::Draft) {
        return Ok(()); // the transition answers 409
    }
    if !SENDABLE_CHANNELS.contains(&c.channel.as_str()) {
        return Err(unprocessable(
            "channel_not_supported",
            format!(
                "{} campaigns cannot be sent yet; only {}",
                c.channel,
                SENDABLE_CHANNELS.join(", ")
            ),
        ));
    }
    // Push needs no channel settings: the project's VAPID key is made on
    // first use and the browsers are the contacts' subscriptions.
    if c.channel == "email" {
        email_session(state, &access.project.id)
            .await
            .map_err(|why| unprocessable("channel_not_configured", why))?;
    }
    campaign_draft(state, &access.project.id, c)
        .await
        .map_err(|why| unprocessable("invalid_content", why))?;
    Ok(())
}

macro_rules! action {
    ($name:ident, $action:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            access: ProjectAccess,
            ClientIp(ip): ClientIp,
            Path((_, campaign_id)): Path<(String, String)>,
        ) -> ApiResult<Json<Value>> {
            act(&state, &access, ip, &campaign_id, $action).await
        }
    };
}

action!(send, CampaignAction::Schedule);
action!(pause, CampaignAction::Pause);
action!(resume, CampaignAction::Resume);
action!(cancel, CampaignAction::Cancel);
