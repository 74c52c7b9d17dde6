//! Outbound delivery (issue 12, "Outbound is durable"): replies, bot answers
//! and broadcasts stored `queued` on a provider's channel are delivered by
//! [`sender`] from the store's outbox (`vibe_store::inbox::outbox`), through
//! one transport per provider: [`whatsapp`] (WhatsApp Cloud API),
//! [`twilio`] (Twilio Messages API, SMS and WhatsApp) and [`email`] (SMTP). Every transport has
//! the same shape, `send(state, project_id, conversation, message)`, and
//! answers [`Sent`] or a [`SendError`] that decides what the sender does:
//! retry later, fail, or fail without retrying because the provider may
//! have the message already (see docs/architecture.md, "Outbound").
//! [`push`] (Web Push) has the same answers but sends one notification to one
//! browser subscription, for the campaign sender rather than the outbox.

pub mod email;
pub mod push;
pub mod sender;
pub mod twilio;
pub mod whatsapp;

use std::time::Duration;

use serde_json::Value;
use vibe_store::inbox::broadcasts::contact_phone;

use crate::state::AppState;

/// What a provider answered for one message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id of the message (WhatsApp `wamid.…`, Twilio `SM…`, the
    /// email's `Message-ID`): stored as the message's `channel_message_id`, so
    /// status callbacks and replies find it.
    pub channel_message_id: String,
}

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Not sent; worth trying again later (connection refused, 429, 5xx, SMTP 4xx).
    Retry(String),
    /// Refused for good (4xx, SMTP 5xx, bad address, channel not configured):
    /// the message becomes `failed` with this reason.
    Fail(String),
    /// The provider may have accepted it (timeout after the request was sent,
    /// connection lost after SMTP DATA): not retried, so nothing is sent twice;
    /// the message becomes `failed` with this reason.
    Unknown(String),
}

/// The sender's shared parts: the wake-up of a message queued on this node
/// and the HTTP client of the HTTP transports.
pub struct Outbound {
    /// Notified when a message was queued here, so it goes out at once
    /// (the sender also polls, for other nodes' messages and retries).
    pub wake: tokio::sync::Notify,
    pub http: reqwest::Client,
    /// The same without following redirects, for web push: a push endpoint
    /// comes from a web page, and a redirect could lead the request past the
    /// endpoint checks (to `http://`, to another host).
    pub push_http: reqwest::Client,
}

/// Connecting to a provider gives up after this long (retried later).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole provider request gives up after this long; once connected, the
/// outcome is unknown (not retried).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl Outbound {
    pub fn new() -> anyhow::Result<Self> {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .user_agent(concat!("vibe/", env!("CARGO_PKG_VERSION")))
        };
        Ok(Self {
            wake: tokio::sync::Notify::new(),
            http: builder().build()?,
            push_http: builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        })
    }
}

/// The contact's phone number (E.164), by the store's one rule
/// ([`vibe_store::inbox::broadcasts::contact_phone`]: their `tel:+…` id,
/// else their `phone` trait when it is one).
pub async fn recipient_phone(
    state: &AppState,
    project_id: &str,
    conversation: &vibe_store::inbox::Conversation,
) -> Result<String, SendError> {
    let id = &conversation.site_user_id;
    if let Some(phone) = contact_phone(id, "{}") {
        return Ok(phone);
    }
    let person = state
        .store
        .find_user(project_id, id)
        .await
        .map_err(|e| SendError::Retry(format!("reading the contact: {e}")))?;
    person
        .and_then(|p| contact_phone(id, &p.traits))
        .ok_or_else(|| SendError::Fail("the contact has no phone number".into()))
}

/// Sends `req` and reads the provider's JSON answer: a 2xx body, or the
/// [`SendError`] of the failure (`describe` turns an error body into the
/// provider's reason).
pub(crate) async fn exchange(
    req: reqwest::RequestBuilder,
    provider: &str,
    describe: impl Fn(&Value) -> Option<String>,
) -> Result<Value, SendError> {
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => {
            return Err(SendError::Retry(format!(
                "{provider} unreachable: {}",
                error_text(&e)
            )))
        }
        Err(e) if e.is_builder() => {
            return Err(SendError::Fail(format!(
                "{provider} request could not be built: {}",
                error_text(&e)
            )))
        }
        Err(e) if e.is_timeout() => {
            return Err(SendError::Unknown(format!(
                "outcome unknown: {provider} did not answer within {} s (not retried so it cannot be sent twice)",
                REQUEST_TIMEOUT.as_secs()
            )))
        }
        Err(e) => {
            return Err(SendError::Unknown(format!(
                "outcome unknown: {provider} connection lost ({}; not retried so it cannot be sent twice)",
                error_text(&e)
            )))
        }
    };
    let status = res.status();
    let body = res.bytes().await;
    let json: Option<Value> = body
        .as_ref()
        .ok()
        .and_then(|b| serde_json::from_slice(b).ok());
    if status.is_success() {
        return json.ok_or_else(|| {
            SendError::Unknown(format!(
                "outcome unknown: {provider} answered {status} without a readable body (not retried so it cannot be sent twice)"
            ))
        });
    }
    let reason = json
        .as_ref()
        .and_then(&describe)
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let reason = format!("{provider}: {reason}");
    if status.as_u16() == 429 || status.is_server_error() {
        Err(SendError::Retry(reason))
    } else {
        Err(SendError::Fail(reason))
    }
}

/// An error and its causes, without the URL (it may carry an account id).
pub(crate) fn error_text(e: &reqwest::Error) -> String {
    let mut text = e.without_url_ref();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut s = self.to_string();
        if let Some(url) = self.url() {
            s = s
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "…");
        }
        s
    }
}

/// A config value of a stored channel as text.
pub(crate) fn config_str<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
