//! `/api/v1/webhooks/whatsapp/{project_id}`: the WhatsApp Cloud API webhook.
//! `GET` is Meta's subscription handshake (`hub.mode=subscribe`, the stored
//! `verify_token`, echo `hub.challenge` as text); `POST` carries
//! `entry[].changes[].value` with `messages[]` (from a contact; names in
//! `contacts[]`) and `statuses[]` (of messages the business sent), signed
//! with `X-Hub-Signature-256` over the raw body.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::signature::{same_secret, verify_whatsapp};
use super::{
    bad_signature, channel_for_body, deliver, enabled_channel, refuse, seconds_to_ms,
    DeliveryStatus, Inbound, InboundMessage, Media, ProviderError, StatusUpdate,
};
use crate::api::channels::settings::Kind;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const CHANNEL: &str = "whatsapp";

/// `GET`: answers `hub.challenge` (text/plain) when the mode is `subscribe`
/// and `hub.verify_token` is the stored one; 403 otherwise.
pub async fn handshake(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let channel = enabled_channel(&state, &project_id, Kind::Whatsapp).await?;
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let stored = channel.secrets.get("verify_token").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str);
    let ok = q.get("hub.mode").map(String::as_str) == Some("subscribe")
        && matches!((stored, token), (Some(s), Some(t)) if same_secret(s, t));
    let challenge = q
        .get("hub.challenge")
        .filter(|c| !c.is_empty() && c.len() <= 512);
    match (ok, challenge) {
        (true, Some(c)) => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            c.clone(),
        )
            .into_response()),
        _ => Err(refuse(
            &state,
            CHANNEL,
            "bad_verify_token",
            ApiError::forbidden(
                "hub.mode must be subscribe and hub.verify_token the channel's verify token",
            ),
        )),
    }
}

/// `POST`: signature first, then the payload.
pub async fn receive(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let channel = channel_for_body(&state, &project_id, Kind::Whatsapp, &body).await?;
    let secret = channel
        .secrets
        .get("app_secret")
        .map(String::as_str)
        .unwrap_or_default();
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    verify_whatsapp(secret.as_bytes(), &body, header)
        .map_err(|r| bad_signature(&state, CHANNEL, r))?;
    let inbound = parse(&body).map_err(|msg| {
        refuse(
            &state,
            CHANNEL,
            "bad_payload",
            ApiError::bad_request("invalid_payload", msg),
        )
    })?;
    deliver(&state, &project_id, CHANNEL, &inbound).await?;
    Ok((
        StatusCode::OK,
        Json(json!({"messages": inbound.messages.len(), "statuses": inbound.statuses.len()})),
    ))
}

/// The typed content of a webhook body. Changes of other fields than
/// `messages`, message entries without an id or sender, and statuses this
/// model does not know (`deleted`, …) are skipped; a body that is not a
/// WhatsApp notification at all is an error.
pub fn parse(body: &[u8]) -> Result<Inbound, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let entries = v["entry"]
        .as_array()
        .ok_or("expected {\"object\": \"whatsapp_business_account\", \"entry\": [...]}")?;
    let mut out = Inbound::default();
    for change in entries
        .iter()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
    {
        if change["field"].as_str().is_some_and(|f| f != "messages") {
            continue;
        }
        let value = &change["value"];
        let to = value["metadata"]["display_phone_number"]
            .as_str()
            .map(str::to_owned);
        let names: HashMap<&str, &str> = value["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["wa_id"].as_str()?, c["profile"]["name"].as_str()?)))
            .collect();
        for m in value["messages"].as_array().into_iter().flatten() {
            if let Some(msg) = message(m, to.as_ref(), &names) {
                out.messages.push(msg);
            }
        }
        for s in value["statuses"].as_array().into_iter().flatten() {
            if let Some(st) = status(s) {
                out.statuses.push(st);
            }
        }
    }
    Ok(out)
}

fn message(m: &Value, to: Option<&String>, names: &HashMap<&str, &str>) -> Option<InboundMessage> {
    let id = m["id"].as_str().filter(|s| !s.is_empty())?;
    let from = m["from"].as_str().filter(|s| !s.is_empty())?;
    let kind = m["type"].as_str().unwrap_or("text");
    let part = &m[kind];
    let body = match kind {
        "text" => part["body"].as_str(),
        "button" => part["text"].as_str(),
        _ => part["caption"].as_str(),
    };
    let media = part["id"]
        .as_str()
        .map(|id| Media {
            reference: id.to_owned(),
            content_type: part["mime_type"].as_str().map(str::to_owned),
        })
        .into_iter()
        .collect();
    Some(InboundMessage {
        channel: CHANNEL,
        external_id: id.to_owned(),
        from: from.to_owned(),
        to: to.cloned(),
        contact_name: names.get(from).map(|n| (*n).to_owned()),
        message_type: kind.to_owned(),
        body: body.map(str::to_owned),
        media,
        sent_at: m["timestamp"].as_str().and_then(seconds_to_ms),
    })
}

fn status(s: &Value) -> Option<StatusUpdate> {
    let id = s["id"].as_str().filter(|s| !s.is_empty())?;
    let word = s["status"].as_str()?;
    let status = match word {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        _ => return None,
    };
    let error = s["errors"]
        .as_array()
        .and_then(|e| e.first())
        .map(|e| ProviderError {
            code: match &e["code"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            },
            title: e["title"]
                .as_str()
                .or(e["message"].as_str())
                .map(str::to_owned),
        });
    Some(StatusUpdate {
        channel: CHANNEL,
        external_id: id.to_owned(),
        status,
        provider_status: word.to_owned(),
        recipient: s["recipient_id"].as_str().map(str::to_owned),
        at: s["timestamp"].as_str().and_then(seconds_to_ms),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shapes of Meta's "messages webhook reference" (a text message with
    /// its contact; a failed and a read status).
    #[test]
    fn parses_messages_and_statuses() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                "messages": [
                    {"from": "16505551234", "id": "wamid.A=", "timestamp": "1749416383",
                     "type": "text", "text": {"body": "Does it come in another color?"}},
                    {"from": "16505551234", "id": "wamid.B=", "timestamp": "1749416384",
                     "type": "image", "image": {"id": "1003383421387256", "mime_type": "image/jpeg", "caption": "this one"}},
                    {"id": "", "from": "1"}
                ],
                "statuses": [
                    {"id": "wamid.C=", "status": "failed", "timestamp": "1750263773", "recipient_id": "16505551234",
                     "errors": [{"code": 131047, "title": "Re-engagement message"}]},
                    {"id": "wamid.D=", "status": "read", "timestamp": "1750263774", "recipient_id": "16505551234"},
                    {"id": "wamid.E=", "status": "deleted", "timestamp": "1"}
                ]}},
                {"field": "account_update", "value": {"messages": [{"id": "x", "from": "y"}]}}]}]});
        let got = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(got.messages.len(), 2);
        let m = &got.messages[0];
        assert_eq!(m.external_id, "wamid.A=");
        assert_eq!(m.from, "16505551234");
        assert_eq!(m.to.as_deref(), Some("15550783881"));
        assert_eq!(m.contact_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(m.body.as_deref(), Some("Does it come in another color?"));
        assert_eq!(m.sent_at, Some(1_749_416_383_000));
        let img = &got.messages[1];
        assert_eq!(
            (img.message_type.as_str(), img.body.as_deref()),
            ("image", Some("this one"))
        );
        assert_eq!(img.media[0].content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(got.statuses.len(), 2);
        let failed = &got.statuses[0];
        assert_eq!(failed.status, DeliveryStatus::Failed);
        assert_eq!(failed.recipient.as_deref(), Some("16505551234"));
        let e = failed.error.as_ref().unwrap();
        assert_eq!(
            (e.code.as_str(), e.title.as_deref()),
            ("131047", Some("Re-engagement message"))
        );
        assert_eq!(got.statuses[1].status, DeliveryStatus::Read);
        assert_eq!(got.statuses[1].at, Some(1_750_263_774_000));
    }

    #[test]
    fn refuses_what_is_not_a_notification() {
        assert!(parse(b"not json").is_err());
        assert!(parse(b"{\"entry\": 3}").is_err());
        assert_eq!(parse(b"{\"entry\": []}").unwrap(), Inbound::default());
    }
}
