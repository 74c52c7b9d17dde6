//! WhatsApp Cloud API: `POST {api_base_url}/{phone_number_id}/messages` with
//! the stored access token as a bearer token, a text message to the
//! contact's number (digits of E.164). The answer's `messages[0].id`
//! (`wamid.…`) is the message's `channel_message_id`, which the status
//! webhooks (`api/webhooks/whatsapp.rs`) move on.

use serde_json::{json, Value};
use vibe_store::inbox::{Conversation, Message};

use super::{config_str, exchange, recipient_phone, SendError, Sent};
use crate::api::channels::{self, settings::Kind};
use crate::state::AppState;

/// Whether the project's WhatsApp Cloud API channel is configured and on
/// (else WhatsApp conversations go through Twilio).
pub async fn enabled(state: &AppState, project_id: &str) -> Result<bool, SendError> {
    let stored = state
        .store
        .get_channel(project_id, Kind::Whatsapp.as_str())
        .await
        .map_err(|e| SendError::Retry(format!("reading the WhatsApp channel: {e}")))?;
    Ok(stored.is_some_and(|c| c.enabled))
}

/// The request body for `to` (E.164) and `text`.
pub fn body(to: &str, text: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.trim_start_matches('+'),
        "type": "text",
        "text": {"preview_url": false, "body": text},
    })
}

/// The request body of a template message (a broadcast's): `template` is the
/// message's stored `{"name","language"}`; `None` when it is not that.
pub fn template_body(to: &str, template: &str) -> Option<Value> {
    let t: Value = serde_json::from_str(template).ok()?;
    let name = t.get("name").and_then(Value::as_str)?;
    let language = t.get("language").and_then(Value::as_str)?;
    Some(json!({
        "messaging_product": "whatsapp",
        "to": to.trim_start_matches('+'),
        "type": "template",
        "template": {"name": name, "language": {"code": language}},
    }))
}

/// `{"error":{"message","type","code","error_subcode","fbtrace_id"}}` as a reason.
pub fn describe(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    let message = e.get("message").and_then(Value::as_str).unwrap_or("error");
    let mut reason = match e.get("code") {
        Some(code) if !code.is_null() => format!("(#{}) {message}", plain(code)),
        _ => message.to_owned(),
    };
    if let Some(sub) = e.get("error_subcode").filter(|s| !s.is_null()) {
        reason.push_str(&format!(" [subcode {}]", plain(sub)));
    }
    if let Some(t) = e.get("fbtrace_id").and_then(Value::as_str) {
        reason.push_str(&format!(" (fbtrace_id {t})"));
    }
    Some(reason)
}

fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

pub async fn send(
    state: &AppState,
    project_id: &str,
    conversation: &Conversation,
    message: &Message,
) -> Result<Sent, SendError> {
    let channel = channels::load(state, project_id, Kind::Whatsapp)
        .await
        // A secret that does not open here (another VIBE_SECRET_KEY, a database
        // error) may open on another node or after a fix: retried.
        .map_err(|e| SendError::Retry(format!("the WhatsApp channel cannot be read: {e:?}")))?
        .filter(|c| c.settings.enabled)
        .ok_or_else(|| SendError::Fail("the WhatsApp channel is not configured".into()))?;
    let (Some(phone_number_id), Some(base)) = (
        config_str(&channel.config, "phone_number_id"),
        config_str(&channel.config, "api_base_url"),
    ) else {
        return Err(SendError::Fail(
            "the WhatsApp channel has no phone_number_id".into(),
        ));
    };
    let token = channel
        .secrets
        .get("access_token")
        .ok_or_else(|| SendError::Fail("the WhatsApp channel has no access token".into()))?;
    let to = recipient_phone(state, project_id, conversation).await?;
    let url = format!("{}/{phone_number_id}/messages", base.trim_end_matches('/'));
    let payload = match &message.template {
        Some(t) => template_body(&to, t)
            .ok_or_else(|| SendError::Fail("the message's template cannot be read".into()))?,
        None => body(&to, &message.body),
    };
    let req = state
        .outbound
        .http
        .post(url)
        .bearer_auth(token)
        .json(&payload);
    let answer = exchange(req, "WhatsApp", describe).await?;
    let id = answer
        .pointer("/messages/0/id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            SendError::Unknown(
                "outcome unknown: WhatsApp accepted the request without a message id (not retried so it cannot be sent twice)".into(),
            )
        })?;
    Ok(Sent {
        channel_message_id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_error_bodies() {
        let b = body("+16505551234", "Hi");
        assert_eq!(b["to"], "16505551234");
        assert_eq!(b["text"]["body"], "Hi");
        assert_eq!(b["text"]["preview_url"], false);
        let e = json!({"error": {"message": "Recipient phone number not in allowed list",
            "type": "OAuthException", "code": 131030, "error_subcode": 2494010, "fbtrace_id": "AbC"}});
        assert_eq!(
            describe(&e).unwrap(),
            "(#131030) Recipient phone number not in allowed list [subcode 2494010] (fbtrace_id AbC)"
        );
        assert_eq!(describe(&json!({"x": 1})), None);
        let t = template_body("+16505551234", r#"{"name":"promo_1","language":"en_US"}"#);
        assert_eq!(
            t.unwrap(),
            json!({"messaging_product": "whatsapp", "to": "16505551234", "type": "template",
                "template": {"name": "promo_1", "language": {"code": "en_US"}}})
        );
        assert_eq!(template_body("+1", "nope"), None);
    }
}
