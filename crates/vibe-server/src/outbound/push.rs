//! Web Push (RFC 8030) to one browser subscription: the notification as JSON,
//! encrypted for the browser (`push::ece`, RFC 8291 `aes128gcm`), POSTed to
//! the subscription's endpoint with the project's VAPID authorization
//! (`push::vapid`, RFC 8292), a `TTL` and an `Urgency`. Answers like the other
//! transports: [`Sent`] (the push service's `Location`, its id of the
//! message, when it gives one), or a [`SendError`]: `Retry` for 429, 5xx and
//! unreachable services; `Fail` for other 4xx and for a redirect (never
//! followed: the endpoint came from a web page) — and for `404`/`410 Gone`,
//! which say the browser unsubscribed, the subscription is deleted first, so
//! no later campaign tries it again; `Unknown` when the connection was lost
//! after the request went out. The caller (the campaign sender) claims the
//! recipient before calling, so nothing is sent twice.

use std::time::Duration;

use base64::Engine;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, LOCATION};
use serde::Serialize;
use vibe_store::push::PushSubscription;

use super::{error_text, SendError, Sent, REQUEST_TIMEOUT};
use crate::push::{ece, keys, vapid};
use crate::state::AppState;

/// What the service worker (`/vibe-sw.js`) shows. `url` is where a click
/// goes; `click_url`, when set, is the click-tracking redirect to it (the
/// worker opens that instead and focuses a window already at `url`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click_url: Option<String>,
}

/// RFC 8030 §5.3: how hard the push service tries to wake the device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Urgency {
    VeryLow,
    Low,
    #[default]
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryLow => "very-low",
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }
}

/// One push message: the notification and how the push service keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    pub notification: Notification,
    /// How long the push service keeps it for an offline browser (RFC 8030
    /// `TTL`); 0 means deliver now or never.
    pub ttl: Duration,
    pub urgency: Urgency,
}

impl PushMessage {
    /// A campaign's default: kept four weeks (what push services allow at
    /// most), normal urgency.
    pub fn new(notification: Notification) -> Self {
        Self {
            notification,
            ttl: Duration::from_secs(28 * 24 * 3600),
            urgency: Urgency::Normal,
        }
    }
}

/// The VAPID `sub`: the configured contact, else the admin's address, else
/// the public URL (https only), else a placeholder that names no one.
pub fn subject(config: &crate::config::Config) -> String {
    if let Some(s) = &config.push_subject {
        return s.clone();
    }
    if let Some(email) = config.admin_email.as_deref().filter(|e| e.contains('@')) {
        return format!("mailto:{email}");
    }
    match config.public_url.as_deref() {
        Some(u) if u.starts_with("https://") => u.trim_end_matches('/').to_owned(),
        _ => "mailto:push@vibe.invalid".to_owned(),
    }
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

pub async fn send(
    state: &AppState,
    project_id: &str,
    subscription: &PushSubscription,
    message: &PushMessage,
) -> Result<Sent, SendError> {
    let endpoint = reqwest::Url::parse(&subscription.endpoint)
        .map_err(|_| SendError::Fail("the subscription's endpoint is not a URL".into()))?;
    let scheme_ok = endpoint.scheme() == "https"
        || (state.config.push_allow_http && endpoint.scheme() == "http");
    if !scheme_ok {
        return Err(SendError::Fail(
            "the subscription's endpoint is not https://".into(),
        ));
    }
    let (Some(p256dh), Some(auth)) = (b64url(&subscription.p256dh), b64url(&subscription.auth))
    else {
        return Err(SendError::Fail(
            "the subscription's keys are not base64url".into(),
        ));
    };
    let plaintext = serde_json::to_vec(&message.notification).expect("a notification serialises");
    let body = ece::encrypt(&plaintext, &p256dh, &auth)
        .map_err(|e| SendError::Fail(format!("push payload: {e}")))?;
    // A key that does not open here (another VIBE_SECRET_KEY, a database
    // error) may open on another node or after a fix: retried.
    let key = keys::project_key(state, project_id)
        .await
        .map_err(|e| SendError::Retry(format!("the project's VAPID key cannot be read: {e}")))?;
    let now_s = state.clock.now_ms().div_euclid(1000);
    let authorization =
        key.authorization(&vapid::audience(&endpoint), &subject(&state.config), now_s);
    let req = state
        .outbound
        .push_http
        .post(endpoint)
        .header(AUTHORIZATION, authorization)
        .header(CONTENT_ENCODING, HeaderValue::from_static("aes128gcm"))
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )
        .header("TTL", message.ttl.as_secs().to_string())
        .header("Urgency", message.urgency.as_str())
        .body(body);
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => {
            return Err(SendError::Retry(format!(
                "push service unreachable: {}",
                error_text(&e)
            )))
        }
        Err(e) if e.is_builder() => {
            return Err(SendError::Fail(format!(
                "push request could not be built: {}",
                error_text(&e)
            )))
        }
        Err(e) if e.is_timeout() => {
            return Err(SendError::Unknown(format!(
                "outcome unknown: the push service did not answer within {} s (not retried so it cannot be sent twice)",
                REQUEST_TIMEOUT.as_secs()
            )))
        }
        Err(e) => {
            return Err(SendError::Unknown(format!(
                "outcome unknown: push service connection lost ({}; not retried so it cannot be sent twice)",
                error_text(&e)
            )))
        }
    };
    let status = res.status();
    let location = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if status.is_success() {
        if let Err(e) = state
            .store
            .push_delivered(project_id, &subscription.id, state.clock.now_ms())
            .await
        {
            // Only the subscription's "last success" is lost; the push went out.
            tracing::warn!(project = %project_id, error = %e, "recording a push delivery failed");
        }
        return Ok(Sent {
            channel_message_id: location,
        });
    }
    let code = status.as_u16();
    let detail = res.text().await.unwrap_or_default();
    let detail: String = detail.trim().chars().take(200).collect();
    let reason = if detail.is_empty() {
        format!("push service: HTTP {code}")
    } else {
        format!("push service: HTTP {code}: {detail}")
    };
    if code == 404 || code == 410 {
        // The browser unsubscribed (or the subscription expired): it never
        // comes back, so no later message tries it.
        return match state
            .store
            .delete_push_subscription(project_id, &subscription.endpoint)
            .await
        {
            Ok(_) => Err(SendError::Fail(format!(
                "{reason} (the subscription is gone and was removed)"
            ))),
            Err(e) => Err(SendError::Fail(format!(
                "{reason} (the subscription is gone; removing it failed: {e})"
            ))),
        };
    }
    if status.is_redirection() {
        return Err(SendError::Fail(format!(
            "{reason} (a push service does not redirect; not followed)"
        )));
    }
    if code == 429 || status.is_server_error() {
        Err(SendError::Retry(reason))
    } else {
        Err(SendError::Fail(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_json_leaves_out_unset_parts() {
        let n = Notification {
            title: "Sale".into(),
            url: Some("https://shop.example/sale".into()),
            ..Notification::default()
        };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"title":"Sale","url":"https://shop.example/sale"}"#
        );
        assert_eq!(PushMessage::new(n).urgency.as_str(), "normal");
    }

    #[test]
    fn subject_prefers_config_then_admin_then_https_url() {
        let mut c = crate::config::Config::default();
        assert_eq!(subject(&c), "mailto:push@vibe.invalid");
        c.public_url = Some("http://localhost:8080".into());
        assert_eq!(subject(&c), "mailto:push@vibe.invalid");
        c.public_url = Some("https://vibe.shop.example/".into());
        assert_eq!(subject(&c), "https://vibe.shop.example");
        c.admin_email = Some("ops@shop.example".into());
        assert_eq!(subject(&c), "mailto:ops@shop.example");
        c.push_subject = Some("mailto:push@shop.example".into());
        assert_eq!(subject(&c), "mailto:push@shop.example");
    }
}
