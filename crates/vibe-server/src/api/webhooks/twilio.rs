//! `POST /api/v1/webhooks/twilio/{project_id}`: Twilio's messaging webhook,
//! for both inbound messages (SMS, MMS, WhatsApp through Twilio) and status
//! callbacks, form-encoded and signed with `X-Twilio-Signature`.
//!
//! Twilio signs the URL *it* requested. Behind a proxy this server sees
//! another one, so it rebuilds it as the public base URL (`public_url`, else
//! `X-Forwarded-Proto`/`X-Forwarded-Host`/`Host` of the request, as the
//! `webhook_url` shown in the channel's settings) followed by the path and
//! query as received. Configure Twilio with exactly the `webhook_url` shown.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::signature::verify_twilio;
use super::{
    bad_signature, channel_for_body, deliver, refuse, DeliveryStatus, Inbound, InboundMessage,
    Media, ProviderError, StatusUpdate,
};
use crate::api::channels::settings::Kind;
use crate::api::projects::snippet::public_base_url;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const CHANNEL: &str = "twilio";
/// An empty TwiML answer: nothing to reply (replies go out through the API).
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

pub async fn receive(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let channel = channel_for_body(&state, &project_id, Kind::Twilio, &body).await?;
    let token = channel
        .secrets
        .get("auth_token")
        .map(String::as_str)
        .unwrap_or_default();
    let url = signed_url(&public_base_url(&state, &headers), &uri);
    let params = parse_form(&body);
    let header = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    verify_twilio(token.as_bytes(), &url, &params, header)
        .map_err(|r| bad_signature(&state, CHANNEL, r))?;
    let inbound = parse(&params).map_err(|msg| {
        refuse(
            &state,
            CHANNEL,
            "bad_payload",
            ApiError::bad_request("invalid_payload", msg),
        )
    })?;
    deliver(&state, &project_id, CHANNEL, &inbound).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        EMPTY_TWIML,
    )
        .into_response())
}

/// The URL Twilio signed: the public base URL, then the path and query.
pub fn signed_url(base: &str, uri: &axum::http::Uri) -> String {
    let path = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    format!("{}{path}", base.trim_end_matches('/'))
}

/// `application/x-www-form-urlencoded` pairs in order, duplicates kept;
/// undecodable bytes become U+FFFD (and then fail the signature).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let name = decode(it.next().unwrap_or_default());
            let value = decode(it.next().unwrap_or_default());
            (name, value)
        })
        .collect()
}

fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                let hex = std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A status callback when `MessageStatus` is an outbound state; otherwise an
/// inbound message. Statuses this model has no place for (`canceled`, …)
/// yield nothing.
pub fn parse(params: &[(String, String)]) -> Result<Inbound, String> {
    let sid = get(params, "MessageSid")
        .or_else(|| get(params, "SmsSid"))
        .ok_or("MessageSid is missing")?
        .to_owned();
    let mut out = Inbound::default();
    match get(params, "MessageStatus").filter(|s| *s != "received" && *s != "receiving") {
        Some(word) => {
            let status = match word {
                "accepted" | "scheduled" | "queued" | "sending" => DeliveryStatus::Queued,
                "sent" => DeliveryStatus::Sent,
                "delivered" => DeliveryStatus::Delivered,
                "read" => DeliveryStatus::Read,
                "undelivered" | "failed" => DeliveryStatus::Failed,
                _ => return Ok(out),
            };
            let error = get(params, "ErrorCode").map(|code| ProviderError {
                code: code.to_owned(),
                title: get(params, "ErrorMessage").map(str::to_owned),
            });
            out.statuses.push(StatusUpdate {
                channel: CHANNEL,
                external_id: sid,
                status,
                provider_status: word.to_owned(),
                recipient: get(params, "To").map(str::to_owned),
                at: None,
                error,
            });
        }
        None => {
            let from = get(params, "From").ok_or("From is missing")?.to_owned();
            let num_media: usize = get(params, "NumMedia")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
                .min(10);
            let media: Vec<Media> = (0..num_media)
                .filter_map(|i| {
                    Some(Media {
                        reference: get(params, &format!("MediaUrl{i}"))?.to_owned(),
                        content_type: get(params, &format!("MediaContentType{i}"))
                            .map(str::to_owned),
                    })
                })
                .collect();
            let message_type = if from.starts_with("whatsapp:") {
                "whatsapp"
            } else if media.is_empty() {
                "sms"
            } else {
                "mms"
            };
            out.messages.push(InboundMessage {
                channel: CHANNEL,
                external_id: sid,
                from,
                to: get(params, "To").map(str::to_owned),
                contact_name: get(params, "ProfileName").map(str::to_owned),
                message_type: message_type.to_owned(),
                body: params
                    .iter()
                    .find(|(n, _)| n == "Body")
                    .map(|(_, v)| v.clone()),
                media,
                sent_at: None,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(s: &str) -> Vec<(String, String)> {
        parse_form(s.as_bytes())
    }

    #[test]
    fn form_decoding() {
        assert_eq!(
            form("Body=Hi+there%21&From=%2B15551234567&Empty=&Flag&Bad=%zz&Cut=%4"),
            [
                ("Body", "Hi there!"),
                ("From", "+15551234567"),
                ("Empty", ""),
                ("Flag", ""),
                ("Bad", "%zz"),
                ("Cut", "%4"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(form("Body=caf%C3%A9")[0].1, "café");
    }

    #[test]
    fn inbound_messages_and_status_callbacks() {
        let m = parse(&form(
            "MessageSid=SM1&SmsStatus=received&From=%2B15551234567&To=%2B15557654321&Body=Hello&NumMedia=1\
             &MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm%2F1&MediaContentType0=image%2Fpng",
        ))
        .unwrap();
        let msg = &m.messages[0];
        assert_eq!(
            (msg.external_id.as_str(), msg.from.as_str()),
            ("SM1", "+15551234567")
        );
        assert_eq!(msg.to.as_deref(), Some("+15557654321"));
        assert_eq!(msg.body.as_deref(), Some("Hello"));
        assert_eq!(msg.message_type, "mms");
        assert_eq!(msg.media[0].reference, "https://api.twilio.com/m/1");
        assert!(m.statuses.is_empty());

        let s = parse(&form(
            "MessageSid=SM2&MessageStatus=undelivered&ErrorCode=30003&To=%2B15551234567",
        ))
        .unwrap();
        let st = &s.statuses[0];
        assert_eq!(st.status, DeliveryStatus::Failed);
        assert_eq!(st.provider_status, "undelivered");
        assert_eq!(st.error.as_ref().unwrap().code, "30003");
        for (word, want) in [
            ("queued", DeliveryStatus::Queued),
            ("sent", DeliveryStatus::Sent),
            ("delivered", DeliveryStatus::Delivered),
            ("failed", DeliveryStatus::Failed),
            ("read", DeliveryStatus::Read),
        ] {
            let got = parse(&form(&format!("MessageSid=SM3&MessageStatus={word}"))).unwrap();
            assert_eq!(got.statuses[0].status, want, "{word}");
        }
        assert_eq!(
            parse(&form("MessageSid=SM4&MessageStatus=canceled")).unwrap(),
            Inbound::default()
        );
        assert!(parse(&form("From=%2B1")).is_err());
        assert!(
            parse(&form("MessageSid=SM5")).is_err(),
            "an inbound message needs From"
        );
    }

    #[test]
    fn the_signed_url_is_the_public_base_and_the_request_path() {
        let uri: axum::http::Uri = "/api/v1/webhooks/twilio/p1?x=1".parse().unwrap();
        assert_eq!(
            signed_url("https://vibe.example.com/", &uri),
            "https://vibe.example.com/api/v1/webhooks/twilio/p1?x=1"
        );
    }
}
