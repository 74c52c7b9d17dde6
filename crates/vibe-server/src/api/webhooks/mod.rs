//! Inbound channel webhooks, outside `/projects/…` because the provider, not
//! a member, calls them: `/api/v1/webhooks/whatsapp/{project_id}` (GET
//! handshake, POST events), `/api/v1/webhooks/twilio/{project_id}` and
//! `/api/v1/webhooks/email/{project_id}` (inbound mail as JSON, signed with
//! the email channel's `inbound_secret`; `email.rs`, stored through
//! `InboxStore::receive_inbound_email`). Each
//! request is authenticated by its signature (`signature.rs`) with the
//! channel's stored secret *before* its body is parsed; a missing or bad one
//! is answered 401 and counted in `/metrics`
//! (`vibe_channel_webhook_rejected_total{channel,reason}`), and nothing of it
//! goes further. A verified body is parsed into typed values ([`Inbound`])
//! and handed to [`deliver`], which stores it through the Inbox's store in
//! one transaction (`vibe_store::inbox::inbound`).

mod deliver;
pub mod email;
pub mod signature;
pub mod twilio;
pub mod whatsapp;

use axum::http::StatusCode;
use serde::Serialize;

use crate::api::channels::settings::Kind;
use crate::api::channels::{self, Channel};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use deliver::deliver;

/// Largest webhook body accepted, in bytes (Meta batches up to 1,000 updates).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Delivery states as the Inbox's `messages.delivery_status` knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

/// A message a contact sent, as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundMessage {
    /// `whatsapp` or `twilio`.
    pub channel: &'static str,
    /// The provider's message id (`wamid.…`, `SM…`), unique per channel:
    /// retried webhooks carry the same one.
    pub external_id: String,
    /// The contact's address: a WhatsApp id (digits) or a Twilio `From`
    /// (`+1555…`, `whatsapp:+1555…`).
    pub from: String,
    /// The business address it was sent to, when the provider says.
    pub to: Option<String>,
    /// The contact's profile name (WhatsApp `contacts[].profile.name`).
    pub contact_name: Option<String>,
    /// The provider's message type (`text`, `image`, … ; Twilio: `sms`, or
    /// `mms` with media).
    pub message_type: String,
    /// The text, when it has one.
    pub body: Option<String>,
    /// Attachments as metadata (Twilio media URLs and types; WhatsApp media ids).
    pub media: Vec<Media>,
    /// When the provider received it (Unix ms); Twilio does not say.
    pub sent_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Media {
    /// A URL (Twilio) or a media id to fetch through the Graph API (WhatsApp).
    pub reference: String,
    pub content_type: Option<String>,
}

/// A delivery state change of a message the business sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusUpdate {
    pub channel: &'static str,
    /// The provider's id of the outbound message.
    pub external_id: String,
    pub status: DeliveryStatus,
    /// The provider's own word (`undelivered` maps to `Failed`).
    pub provider_status: String,
    pub recipient: Option<String>,
    /// When the state was reached (Unix ms); Twilio does not say.
    pub at: Option<i64>,
    pub error: Option<ProviderError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderError {
    pub code: String,
    pub title: Option<String>,
}

/// Everything one verified webhook request carried.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Inbound {
    pub messages: Vec<InboundMessage>,
    pub statuses: Vec<StatusUpdate>,
}

/// Counts a refused request and builds its answer.
pub fn refuse(
    state: &AppState,
    channel: &'static str,
    reason: &'static str,
    error: ApiError,
) -> ApiError {
    state.metrics.webhook_rejected.add(channel, reason, 1);
    tracing::info!(channel, reason, "channel webhook refused");
    error
}

/// The enabled channel a webhook is for, or a counted 404.
pub async fn enabled_channel(state: &AppState, project_id: &str, kind: Kind) -> ApiResult<Channel> {
    match channels::load(state, project_id, kind).await? {
        Some(c) if c.settings.enabled => Ok(c),
        _ => Err(refuse(
            state,
            kind.as_str(),
            "not_configured",
            ApiError::not_found("channel"),
        )),
    }
}

/// [`enabled_channel`] for a delivery: a body over [`MAX_BODY_BYTES`] is
/// refused (413, counted) before anything reads it.
pub async fn channel_for_body(
    state: &AppState,
    project_id: &str,
    kind: Kind,
    body: &[u8],
) -> ApiResult<Channel> {
    let channel = enabled_channel(state, project_id, kind).await?;
    if body.len() > MAX_BODY_BYTES {
        return Err(refuse(
            state,
            kind.as_str(),
            "too_large",
            ApiError::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "webhook body too large",
            ),
        ));
    }
    Ok(channel)
}

pub fn bad_signature(
    state: &AppState,
    channel: &'static str,
    refusal: signature::Refusal,
) -> ApiError {
    refuse(
        state,
        channel,
        refusal.reason(),
        ApiError::client(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the webhook signature is missing or does not match",
        ),
    )
}

/// Unix seconds as the providers send them (a decimal string) → ms.
pub fn seconds_to_ms(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok()?.checked_mul(1000)
}
