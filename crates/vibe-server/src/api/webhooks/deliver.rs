//! The hand-off from a verified, parsed webhook to the Inbox: the provider's
//! values become the store's ([`InboundContactMessage`], [`InboundStatus`])
//! and are stored in one transaction (`InboxStore::receive_inbound`; what it
//! does is `vibe_store::inbox::inbound`'s module docs). The project is the
//! webhook URL's, whose channel secret verified the request: nothing here
//! can reach another project.
//!
//! Channels: a WhatsApp Cloud API message is on `whatsapp`; a Twilio message
//! from `whatsapp:+…` is on `whatsapp` too, any other Twilio message on
//! `sms`. The contact is one person per phone number either way, so the
//! same number on WhatsApp and SMS is one person with two conversations.
//!
//! Answers: an error (the database) is a 5xx, so the provider retries, and
//! the retry stores nothing twice. A sender without a phone number
//! (alphanumeric ids) and a status for a message Vibe does not know (sent
//! from elsewhere, or already deleted) are counted and skipped, and the
//! request is answered 200 — retrying could never make them storable.

use serde_json::{json, Value};
use vibe_store::inbox::inbound::e164;
use vibe_store::inbox::{
    Channel, DeliveryStatus as StoreStatus, InboundContactMessage, InboundStatus,
};

use super::{DeliveryStatus, Inbound, InboundMessage, StatusUpdate};
use crate::error::ApiResult;
use crate::live::record::InboxChange;
use crate::state::AppState;

/// Stores what one verified request carried, for project `project_id`.
pub async fn deliver(
    state: &AppState,
    project_id: &str,
    channel: &'static str,
    inbound: &Inbound,
) -> ApiResult<()> {
    let m = &state.metrics;
    m.webhook_parsed
        .add(channel, "message", inbound.messages.len() as u64);
    m.webhook_parsed
        .add(channel, "status", inbound.statuses.len() as u64);
    let now = state.clock.now_ms();
    let mut messages = Vec::with_capacity(inbound.messages.len());
    let mut no_number = 0;
    for msg in &inbound.messages {
        match contact_message(msg, now) {
            Some(c) => messages.push(c),
            None => no_number += 1,
        }
    }
    let statuses: Vec<InboundStatus> = inbound.statuses.iter().map(|s| status(s, now)).collect();
    let out = state
        .store
        .receive_inbound(project_id, &messages, &statuses)
        .await?;
    // Duplicates (provider retries) have ids nothing was stored under: the
    // hub finds no message and sends nothing for them.
    let mut changes: Vec<InboxChange> = messages
        .iter()
        .map(|m| InboxChange::Message(m.message_id.clone()))
        .collect();
    if out.statuses_applied > 0 {
        changes.extend(statuses.iter().map(|s| {
            InboxChange::DeliveryByChannelId(
                s.channels.iter().map(|c| c.as_str().to_owned()).collect(),
                s.channel_message_id.clone(),
            )
        }));
    }
    crate::live::inbox::publish(state, project_id, changes);
    for (outcome, n) in [
        ("message_stored", out.messages_stored),
        ("message_duplicate", out.messages_duplicate),
        ("message_no_number", no_number),
        ("person_created", out.people_created),
        ("conversation_opened", out.conversations_opened),
        ("status_applied", out.statuses_applied),
        ("status_unchanged", out.statuses_unchanged),
        ("status_unknown", out.statuses_unknown),
    ] {
        if n > 0 {
            m.webhook_stored.add(channel, outcome, n);
        }
    }
    tracing::debug!(
        project = %project_id,
        channel,
        stored = out.messages_stored,
        duplicates = out.messages_duplicate,
        statuses = out.statuses_applied,
        unknown_statuses = out.statuses_unknown,
        "channel webhook stored"
    );
    Ok(())
}

/// The conversation channel of a provider's message.
fn channel_of(msg: &InboundMessage) -> Channel {
    if msg.channel == "whatsapp" || msg.from.starts_with("whatsapp:") {
        Channel::Whatsapp
    } else {
        Channel::Sms
    }
}

fn contact_message(msg: &InboundMessage, now: i64) -> Option<InboundContactMessage> {
    let phone = e164(&msg.from)?;
    // Metadata only: Twilio gives a URL, WhatsApp a media id for the Graph API.
    let by_url = msg.channel == "twilio";
    let attachments: Vec<Value> = msg
        .media
        .iter()
        .map(|m| {
            let place = if by_url { "url" } else { "media_id" };
            json!({ place: m.reference, "type": m.content_type })
        })
        .collect();
    Some(InboundContactMessage {
        channel: channel_of(msg),
        channel_message_id: msg.external_id.clone(),
        phone,
        name: msg.contact_name.clone().filter(|n| !n.trim().is_empty()),
        body: msg.body.clone().unwrap_or_default(),
        attachments: Value::Array(attachments).to_string(),
        at: msg.sent_at.unwrap_or(now),
        message_id: uuid::Uuid::new_v4().to_string(),
        conversation_id: uuid::Uuid::new_v4().to_string(),
    })
}

fn status(s: &StatusUpdate, now: i64) -> InboundStatus {
    let channels = if s.channel == "whatsapp" {
        vec![Channel::Whatsapp]
    } else {
        vec![Channel::Sms, Channel::Whatsapp]
    };
    let status = match s.status {
        DeliveryStatus::Queued => StoreStatus::Queued,
        DeliveryStatus::Sent => StoreStatus::Sent,
        DeliveryStatus::Delivered => StoreStatus::Delivered,
        DeliveryStatus::Read => StoreStatus::Read,
        DeliveryStatus::Failed => StoreStatus::Failed,
    };
    // `30003: Unreachable destination handset`, the code alone, or the
    // provider's word (`undelivered`) when it gave no error.
    let failed_reason = (status == StoreStatus::Failed).then(|| match &s.error {
        Some(e) => match e.title.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => format!("{}: {t}", e.code),
            None => e.code.clone(),
        },
        None => s.provider_status.clone(),
    });
    InboundStatus {
        channels,
        channel_message_id: s.external_id.clone(),
        status,
        at: s.at.unwrap_or(now),
        failed_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::webhooks::{Media, ProviderError};

    fn inbound(channel: &'static str, from: &str) -> InboundMessage {
        InboundMessage {
            channel,
            external_id: "id1".into(),
            from: from.into(),
            to: None,
            contact_name: Some("  ".into()),
            message_type: "text".into(),
            body: None,
            media: vec![Media {
                reference: "ref".into(),
                content_type: Some("image/jpeg".into()),
            }],
            sent_at: None,
        }
    }

    #[test]
    fn channels_numbers_and_media() {
        let wa = contact_message(&inbound("whatsapp", "16505551234"), 7).unwrap();
        assert_eq!(
            (wa.channel, wa.phone.as_str()),
            (Channel::Whatsapp, "+16505551234")
        );
        assert_eq!(
            wa.attachments,
            r#"[{"media_id":"ref","type":"image/jpeg"}]"#
        );
        assert_eq!((wa.at, wa.name, wa.body.as_str()), (7, None, ""));
        let tw = contact_message(&inbound("twilio", "whatsapp:+16505551234"), 7).unwrap();
        assert_eq!(
            (tw.channel, tw.phone.as_str()),
            (Channel::Whatsapp, "+16505551234")
        );
        assert_eq!(tw.attachments, r#"[{"type":"image/jpeg","url":"ref"}]"#);
        let sms = contact_message(&inbound("twilio", "+16505551234"), 7).unwrap();
        assert_eq!(sms.channel, Channel::Sms);
        assert!(contact_message(&inbound("twilio", "VIBESHOP"), 7).is_none());
    }

    #[test]
    fn failed_reasons() {
        let mut s = StatusUpdate {
            channel: "twilio",
            external_id: "SM1".into(),
            status: DeliveryStatus::Failed,
            provider_status: "undelivered".into(),
            recipient: None,
            at: None,
            error: None,
        };
        let st = status(&s, 9);
        assert_eq!(st.channels, [Channel::Sms, Channel::Whatsapp]);
        assert_eq!(
            (st.at, st.failed_reason.as_deref()),
            (9, Some("undelivered"))
        );
        s.error = Some(ProviderError {
            code: "30003".into(),
            title: None,
        });
        assert_eq!(status(&s, 9).failed_reason.as_deref(), Some("30003"));
        s.status = DeliveryStatus::Delivered;
        assert_eq!(status(&s, 9).failed_reason, None);
    }
}
