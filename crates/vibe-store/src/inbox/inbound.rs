//! What a verified channel webhook stores, in one transaction per delivery:
//! contacts by phone number, their messages threaded into conversations, and
//! delivery statuses of the business's own messages.
//!
//! - **Contact.** One person per E.164 number, whatever the channel: the
//!   person whose `user_id` is `tel:+<digits>` (a server-side identity, so
//!   its `id` is `uid:tel:+<digits>`, as ingest names people known only by a
//!   user id — a later `identify` with that user id finds the same person).
//!   Created with the number as the `phone` trait, the provider's profile
//!   name as `name`, `first_seen = last_seen` = the message time, no events
//!   and no sessions; its first-seen day counts one new user in
//!   `daily_stats`, which is what `rollup::rebuild` derives from
//!   `site_users.first_seen`, so the rebuild and this path agree. A known
//!   person keeps their name (only a missing one is filled).
//! - **Conversation.** The contact's conversation on that channel that is
//!   `open` or `pending`, else their latest one (an inbound message reopens
//!   a resolved or closed conversation — the store's reopen rule in
//!   [`super::timers`]), else a new `open` one, `medium` priority, in the
//!   project's oldest inbox of that channel (and so that inbox's team) when
//!   it has one.
//! - **Message.** `in`, sender `contact`, `delivered`, idempotent on
//!   `(project, channel, channel_message_id)`: a provider's retry stores
//!   nothing (no person, no conversation, no message). The timers move as
//!   for any inbound message ([`super::timers::ON_INBOUND`]).
//! - **Status.** Moves the outbound message with that provider id through
//!   [`super::timers::delivery_sql`] (forward only, idempotent); an unknown
//!   id is counted and ignored.
//!
//! The person's row is locked (a no-op `UPDATE`) before its conversation is
//! looked up, so two deliveries from one contact at once cannot open two
//! conversations on PostgreSQL; messages and statuses are taken in a sorted
//! order, and the `daily_stats` rows written after every person's, so
//! concurrent deliveries (and ingest: people, then rollups) lock rows in the
//! same order.

use vibe_core::day::ProjectTz;

use super::model::{Channel, DeliveryStatus};
use super::reporting;
use super::sql::{Tx, Val};
use super::timers;
use crate::db::Db;
use crate::ingest::io::{INSERT_DAILY_STATS, ON_DAILY_STATS_CONFLICT};
use crate::StoreResult;

/// A contact's message as a channel delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundContactMessage {
    /// `whatsapp` or `sms`.
    pub channel: Channel,
    /// The provider's id: a retry carries the same one.
    pub channel_message_id: String,
    /// E.164, `+` and 1–15 digits (see [`e164`]).
    pub phone: String,
    /// The provider's profile name, for a new person.
    pub name: Option<String>,
    pub body: String,
    /// A JSON array as text.
    pub attachments: String,
    /// When it was sent (the provider's time, else when it arrived), Unix ms.
    pub at: i64,
    /// The new message's id.
    pub message_id: String,
    /// The id a conversation takes if this message opens one.
    pub conversation_id: String,
}

/// A provider's delivery report for a message the business sent.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundStatus {
    /// Where the message may be: WhatsApp's ids are on `whatsapp`, Twilio's
    /// on `sms` or `whatsapp`.
    pub channels: Vec<Channel>,
    pub channel_message_id: String,
    pub status: DeliveryStatus,
    pub at: i64,
    /// For `failed`: the provider's code and title.
    pub failed_reason: Option<String>,
}

/// What one delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboundOutcome {
    pub messages_stored: u64,
    /// Already stored (a provider retry).
    pub messages_duplicate: u64,
    pub people_created: u64,
    pub conversations_opened: u64,
    pub statuses_applied: u64,
    /// Known message, but a repeat or a late lower status.
    pub statuses_unchanged: u64,
    /// No outbound message of the project has that id.
    pub statuses_unknown: u64,
}

/// `+<digits>` from a WhatsApp id (`16505551234`) or a Twilio address
/// (`+16505551234`, `whatsapp:+16505551234`); `None` for anything else
/// (alphanumeric sender ids have no number to find a person by).
pub fn e164(address: &str) -> Option<String> {
    let a = address.trim();
    let a = a
        .strip_prefix("whatsapp:")
        .or_else(|| a.strip_prefix("sms:"))
        .unwrap_or(a);
    let digits = a.strip_prefix('+').unwrap_or(a);
    let ok = (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+{digits}"))
}

/// The `user_id` of the person a phone number is.
pub fn phone_user_id(phone: &str) -> String {
    format!("tel:{phone}")
}

pub(super) const TIMEZONE: &str = "SELECT timezone FROM projects WHERE id = $1";
pub(super) const PERSON_OF_USER: &str =
    "SELECT id FROM site_users WHERE project_id = $1 AND user_id = $2";
const INSERT_PERSON: &str = "INSERT INTO site_users (project_id, id, user_id, name, traits,
        first_seen, last_seen, event_count, session_count)
     VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 0)
     ON CONFLICT DO NOTHING";
/// Fills a missing name and, touching the row, locks it until commit.
pub(super) const LOCK_PERSON: &str = "UPDATE site_users SET name = COALESCE(name, $3)
     WHERE project_id = $1 AND id = $2";
pub(super) const KNOWN_MESSAGE: &str = "SELECT id FROM messages
     WHERE project_id = $1 AND channel = $2 AND channel_message_id = $3";
const CONVERSATION_OF: &str = "SELECT id FROM conversations
     WHERE project_id = $1 AND site_user_id = $2 AND channel = $3
     ORDER BY CASE WHEN status IN ('open', 'pending') THEN 0 ELSE 1 END,
              last_message_at DESC, id DESC
     LIMIT 1";
pub(super) const INBOX_OF: &str =
    "SELECT id, team_id FROM inboxes WHERE project_id = $1 AND channel = $2
     ORDER BY created_at, id LIMIT 1";
const INSERT_CONVERSATION: &str = "INSERT INTO conversations (project_id, id, site_user_id,
        channel, status, priority, team_id, inbox_id, handled_by_bot, is_lead,
        opened_at, last_message_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'open', 'medium', $5, $6, 0, 0, $7, $7, $7, $7)";
const DROP_CONVERSATION: &str = "DELETE FROM conversations WHERE project_id = $1 AND id = $2";
pub(super) const INSERT_MESSAGE: &str =
    "INSERT INTO messages (project_id, id, conversation_id, channel,
        direction, sender, body, private, attachments, delivery_status, sent_at,
        channel_message_id, created_at)
     VALUES ($1, $2, $3, $4, 'in', 'contact', $5, 0, $6, 'delivered', $7, $8, $7)
     ON CONFLICT (project_id, channel, channel_message_id) DO NOTHING";

/// The `WHERE` of an outbound message by provider id on `channels` (fixed
/// names from [`Channel::as_str`], never input).
fn outbound_by_channel_id(channels: &[Channel]) -> String {
    let list: Vec<String> = channels
        .iter()
        .map(|c| format!("'{}'", c.as_str()))
        .collect();
    let list = if list.is_empty() {
        "''".to_owned()
    } else {
        list.join(", ")
    };
    format!(
        "SELECT id FROM messages WHERE project_id = $1 AND channel_message_id = $2
           AND direction = 'out' AND channel IN ({list})
         ORDER BY id LIMIT 1"
    )
}

/// Stores one webhook delivery (see the module docs).
pub(crate) async fn receive(
    db: &Db,
    project_id: &str,
    messages: &[InboundContactMessage],
    statuses: &[InboundStatus],
) -> StoreResult<InboundOutcome> {
    let mut messages: Vec<&InboundContactMessage> = messages.iter().collect();
    messages.sort_by(|a, b| (&a.phone, a.at).cmp(&(&b.phone, b.at)));
    let mut statuses: Vec<&InboundStatus> = statuses.iter().collect();
    statuses.sort_by(|a, b| a.channel_message_id.cmp(&b.channel_message_id));
    let project: Vec<Val> = vec![project_id.into()];
    // The stored contacts' messages, for the inbox's bot after the commit.
    let mut stored: Vec<(String, String, String, i64)> = Vec::new();
    let outcome = async {
        let mut out = InboundOutcome::default();
        // New people per local day, written after the people's rows (as
        // ingest orders its locks: people, then rollups).
        let mut new_users: std::collections::BTreeMap<String, i64> = Default::default();
        let mut tx = Tx::begin(db).await?;
        let tz: Option<(String,)> = tx.optional::<(String,)>(TIMEZONE, &project).await?;
        let tz = ProjectTz::or_utc(tz.as_ref().map_or("UTC", |t| t.0.as_str()));
        for m in &messages {
            let channel = m.channel.as_str();
            let key: Vec<Val> = vec![project_id.into(), channel.into(), (&m.channel_message_id).into()];
            if tx.optional::<(String,)>(KNOWN_MESSAGE, &key).await?.is_some() {
                out.messages_duplicate += 1;
                continue;
            }
            // The contact.
            let user_id = phone_user_id(&m.phone);
            let by_user: Vec<Val> = vec![project_id.into(), (&user_id).into()];
            let person = match tx.optional::<(String,)>(PERSON_OF_USER, &by_user).await? {
                Some((id,)) => id,
                None => {
                    let id = format!("uid:{user_id}");
                    let traits = serde_json::json!({ "phone": m.phone }).to_string();
                    let row: Vec<Val> = vec![
                        project_id.into(),
                        (&id).into(),
                        (&user_id).into(),
                        (&m.name).into(),
                        traits.into(),
                        m.at.into(),
                    ];
                    if tx.exec(INSERT_PERSON, &row).await? == 1 {
                        out.people_created += 1;
                        *new_users.entry(tz.day_of(m.at)).or_insert(0) += 1;
                        id
                    } else {
                        // Another delivery created them since.
                        tx.optional::<(String,)>(PERSON_OF_USER, &by_user).await?
                            .map(|r| r.0)
                            .ok_or_else(|| crate::StoreError::Conflict("person".into()))?
                    }
                }
            };
            let lock: Vec<Val> = vec![project_id.into(), (&person).into(), (&m.name).into()];
            tx.exec(LOCK_PERSON, &lock).await?;
            // The conversation.
            let of: Vec<Val> = vec![project_id.into(), (&person).into(), channel.into()];
            let (conversation, opened) = match tx.optional::<(String,)>(CONVERSATION_OF, &of).await? {
                Some((id,)) => (id, false),
                None => {
                    let inbox_key: Vec<Val> = vec![project_id.into(), channel.into()];
                    let inbox: Option<(String, Option<String>)> =
                        tx.optional::<(String, Option<String>)>(INBOX_OF, &inbox_key).await?;
                    let (inbox_id, team_id) = match inbox {
                        Some((i, t)) => (Some(i), t),
                        None => (None, None),
                    };
                    let row: Vec<Val> = vec![
                        project_id.into(),
                        (&m.conversation_id).into(),
                        (&person).into(),
                        channel.into(),
                        team_id.into(),
                        inbox_id.into(),
                        m.at.into(),
                    ];
                    tx.exec(INSERT_CONVERSATION, &row).await?;
                    (m.conversation_id.clone(), true)
                }
            };
            // The message, then what it does to the conversation.
            let row: Vec<Val> = vec![
                project_id.into(),
                (&m.message_id).into(),
                (&conversation).into(),
                channel.into(),
                (&m.body).into(),
                (&m.attachments).into(),
                m.at.into(),
                (&m.channel_message_id).into(),
            ];
            let conv: Vec<Val> = vec![project_id.into(), (&conversation).into(), m.at.into()];
            if tx.exec(INSERT_MESSAGE, &row).await? == 0 {
                // Stored meanwhile by a concurrent delivery of the same retry.
                if opened {
                    tx.exec(DROP_CONVERSATION, &conv[..2]).await?;
                }
                out.messages_duplicate += 1;
                continue;
            }
            if opened {
                // Only now: a duplicate above drops the new conversation.
                reporting::created(&mut tx, project_id, &conversation).await?;
            }
            reporting::on_inbound(&mut tx, project_id, &conversation, &m.message_id, m.at).await?;
            stored.push((conversation.clone(), m.message_id.clone(), m.body.clone(), m.at));
            out.messages_stored += 1;
            out.conversations_opened += u64::from(opened);
        }
        let stats = format!(
            "{INSERT_DAILY_STATS} VALUES ($1, $2, 0, $3, 0, 0, 0, 0, 0, 0, 0, 0){ON_DAILY_STATS_CONFLICT}"
        );
        for (day, n) in &new_users {
            let row: Vec<Val> = vec![project_id.into(), day.into(), (*n).into()];
            tx.exec(&stats, &row).await?;
        }
        for s in &statuses {
            let find = outbound_by_channel_id(&s.channels);
            let key: Vec<Val> = vec![project_id.into(), (&s.channel_message_id).into()];
            let Some((id,)) = tx.optional::<(String,)>(&find, &key).await? else {
                out.statuses_unknown += 1;
                continue;
            };
            let Some(sql) = timers::delivery_sql(s.status) else {
                out.statuses_unchanged += 1;
                continue;
            };
            let mut vals: Vec<Val> = vec![project_id.into(), (&id).into(), s.at.into()];
            if s.status == DeliveryStatus::Failed {
                vals.push((&s.failed_reason).into());
            }
            if tx.exec(&sql, &vals).await? == 1 {
                reporting::on_delivery(&mut tx, project_id, &id, s.status, s.at).await?;
                out.statuses_applied += 1;
            } else {
                out.statuses_unchanged += 1;
            }
        }
        tx.commit().await?;
        Ok(out)
    }
    .await?;
    for (conversation, message, body, at) in &stored {
        super::automation::on_inbound(db, project_id, conversation, message, body, *at).await?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        assert_eq!(e164("16505551234").as_deref(), Some("+16505551234"));
        assert_eq!(e164("+16505551234").as_deref(), Some("+16505551234"));
        assert_eq!(
            e164("whatsapp:+16505551234").as_deref(),
            Some("+16505551234")
        );
        assert_eq!(e164("VIBESHOP"), None);
        assert_eq!(e164("+"), None);
        assert_eq!(e164("+1234567890123456"), None);
        assert_eq!(phone_user_id("+1650"), "tel:+1650");
    }
}
