//! Twilio Messages API: `POST {api_base_url}/2010-04-01/Accounts/{sid}/Messages.json`
//! with HTTP Basic `account_sid:auth_token`, a form with `To`, `From`,
//! `Body` and, when the public URL is known, `StatusCallback` (the channel's
//! webhook, so delivery statuses come back). SMS conversations and WhatsApp
//! ones without a Cloud API channel use it; on WhatsApp both numbers carry
//! the `whatsapp:` prefix. The answer's `sid` (`SM…`) is the message's
//! `channel_message_id`.

use serde_json::Value;
use vibe_store::inbox::{Channel, Conversation, Message};

use super::{config_str, exchange, recipient_phone, SendError, Sent};
use crate::api::channels::{self, settings::Kind, webhook_url};
use crate::state::AppState;

/// `{"code","message","more_info","status"}` as a reason.
pub fn describe(v: &Value) -> Option<String> {
    let message = v.get("message").and_then(Value::as_str)?;
    Some(match v.get("code").filter(|c| !c.is_null()) {
        Some(code) => format!(
            "error {}: {message}",
            code.as_str()
                .map_or_else(|| code.to_string(), str::to_owned)
        ),
        None => message.to_owned(),
    })
}

/// `whatsapp:` in front of an address that lacks it.
fn on_whatsapp(address: &str) -> String {
    if address.starts_with("whatsapp:") {
        address.to_owned()
    } else {
        format!("whatsapp:{address}")
    }
}

pub async fn send(
    state: &AppState,
    project_id: &str,
    conversation: &Conversation,
    message: &Message,
) -> Result<Sent, SendError> {
    let whatsapp = conversation.channel == Channel::Whatsapp.as_str();
    let channel = channels::load(state, project_id, Kind::Twilio)
        .await
        // A secret that does not open here (another VIBE_SECRET_KEY, a database
        // error) may open on another node or after a fix: retried.
        .map_err(|e| SendError::Retry(format!("the Twilio channel cannot be read: {e:?}")))?
        .filter(|c| c.settings.enabled)
        .ok_or_else(|| {
            SendError::Fail(if whatsapp {
                "neither the WhatsApp nor the Twilio channel is configured".into()
            } else {
                "the Twilio channel is not configured".into()
            })
        })?;
    let (Some(sid), Some(from), Some(base)) = (
        config_str(&channel.config, "account_sid"),
        config_str(&channel.config, "from"),
        config_str(&channel.config, "api_base_url"),
    ) else {
        return Err(SendError::Fail("the Twilio channel is incomplete".into()));
    };
    let token = channel
        .secrets
        .get("auth_token")
        .ok_or_else(|| SendError::Fail("the Twilio channel has no auth token".into()))?;
    let to = recipient_phone(state, project_id, conversation).await?;
    let (to, from) = if whatsapp {
        // A messaging service (MG…) picks its own sender.
        let from = if from.starts_with("MG") {
            from.to_owned()
        } else {
            on_whatsapp(from)
        };
        (on_whatsapp(&to), from)
    } else {
        (to, from.to_owned())
    };
    let from_key = if from.starts_with("MG") {
        "MessagingServiceSid"
    } else {
        "From"
    };
    let mut form: Vec<(&str, String)> =
        vec![("To", to), (from_key, from), ("Body", message.body.clone())];
    if let Some(base) = &state.config.public_url {
        if let Some(url) = webhook_url(base.trim_end_matches('/'), project_id, Kind::Twilio) {
            form.push(("StatusCallback", url));
        }
    }
    let url = format!(
        "{}/2010-04-01/Accounts/{sid}/Messages.json",
        base.trim_end_matches('/')
    );
    let req = state
        .outbound
        .http
        .post(url)
        .basic_auth(sid, Some(token))
        .form(&form);
    let answer = exchange(req, "Twilio", describe).await?;
    let id = answer
        .get("sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            SendError::Unknown(
                "outcome unknown: Twilio accepted the request without a sid (not retried so it cannot be sent twice)".into(),
            )
        })?;
    Ok(Sent {
        channel_message_id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_bodies_and_prefixes() {
        let e = json!({"code": 21211, "message": "The 'To' number is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400});
        assert_eq!(
            describe(&e).unwrap(),
            "error 21211: The 'To' number is not a valid phone number."
        );
        assert_eq!(on_whatsapp("+1555"), "whatsapp:+1555");
        assert_eq!(on_whatsapp("whatsapp:+1555"), "whatsapp:+1555");
    }
}
