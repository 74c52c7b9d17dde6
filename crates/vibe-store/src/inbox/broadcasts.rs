//! Template broadcasts (issue 12): one outbound WhatsApp template message per
//! person with a phone, each stored `queued` through [`messages::store_tagged`]
//! so its outbox row commits with it and the sender delivers it like any reply
//! (throttled per project and channel, retried, its outcome the message's
//! `delivery_status`). Every recipient is its own short transaction, so a big
//! segment never holds one long write lock. Creating the same broadcast id
//! again adds no message twice: a conversation that already has the
//! broadcast's message is skipped (and `messages_broadcast` is unique).

use std::collections::HashMap;

use serde::Serialize;

use super::conversations;
use super::messages::{self, BroadcastTag};
use super::model::{
    Channel, DeliveryStatus, Direction, NewConversation, NewMessage, Priority, Sender, Status,
};
use super::sql::{self, Val};
use crate::db::Db;
use crate::{StoreError, StoreResult};

/// A broadcast to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBroadcast {
    pub id: String,
    pub segment_id: String,
    pub template_name: String,
    pub template_language: String,
    /// What the thread shows for the template message.
    pub body: String,
    pub created_by_account_id: Option<String>,
    pub created_at: i64,
}

/// One person a broadcast is for, with the ids to use if their message (and
/// conversation) must be created. `phone: None` is counted as skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastPerson {
    pub person_id: String,
    pub phone: Option<String>,
    pub conversation_id: String,
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Broadcast {
    pub id: String,
    pub channel: String,
    pub segment_id: String,
    pub template_name: String,
    pub template_language: String,
    pub body: String,
    pub created_by_account_id: Option<String>,
    pub created_at: i64,
    pub recipients: i64,
    pub skipped: i64,
}

/// A broadcast's messages per delivery status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BroadcastStats {
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
}

impl BroadcastStats {
    fn count(&mut self, status: &str, n: i64) {
        match DeliveryStatus::parse(status) {
            Some(DeliveryStatus::Queued) => self.queued = n,
            Some(DeliveryStatus::Sent) => self.sent = n,
            Some(DeliveryStatus::Delivered) => self.delivered = n,
            Some(DeliveryStatus::Read) => self.read = n,
            Some(DeliveryStatus::Failed) => self.failed = n,
            None => {}
        }
    }
}

/// A person's phone (E.164): a `tel:+…` id (what the inbound webhooks
/// create), else their `phone` trait when it is one (the same rule as the
/// outbound transports).
pub fn contact_phone(person_id: &str, traits: &str) -> Option<String> {
    let id = person_id.strip_prefix("uid:").unwrap_or(person_id);
    if let Some(phone) = id.strip_prefix("tel:").and_then(super::inbound::e164) {
        return Some(phone);
    }
    serde_json::from_str::<serde_json::Value>(traits)
        .ok()
        .and_then(|t| t.get("phone").and_then(|p| p.as_str()).map(str::to_owned))
        .and_then(|p| super::inbound::e164(&p.replace([' ', '-', '(', ')', '.'], "")))
}

const SELECT: &str = "SELECT id, channel, segment_id, template_name, template_language, body,
        created_by_account_id, created_at, recipients, skipped
     FROM broadcasts";
const INSERT: &str = "INSERT INTO broadcasts (project_id, id, channel, segment_id, template_name,
        template_language, body, created_by_account_id, created_at, recipients, skipped)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0)
     ON CONFLICT (project_id, id) DO NOTHING";
const LATEST: &str = "SELECT id FROM conversations
     WHERE project_id = $1 AND site_user_id = $2 AND channel = $3
     ORDER BY created_at DESC, id DESC LIMIT 1";
const HAS_MESSAGE: &str = "SELECT id FROM messages
     WHERE project_id = $1 AND broadcast_id = $2 AND conversation_id = $3";
const COUNTS: &str = "UPDATE broadcasts SET skipped = $3,
        recipients = (SELECT COUNT(*) FROM messages m
                      WHERE m.project_id = $1 AND m.broadcast_id = $2)
     WHERE project_id = $1 AND id = $2";
const BY_STATUS: &str = "SELECT delivery_status, COUNT(*) FROM messages
     WHERE project_id = $1 AND broadcast_id = $2 GROUP BY delivery_status";

/// Creates `new` and queues one message per person with a phone; the
/// broadcast as stored after (created again: nothing is added twice).
pub(crate) async fn create(
    db: &Db,
    project_id: &str,
    new: &NewBroadcast,
    people: &[BroadcastPerson],
) -> StoreResult<Broadcast> {
    let channel = Channel::Whatsapp.as_str();
    let vals: Vec<Val> = vec![
        project_id.into(),
        (&new.id).into(),
        channel.into(),
        (&new.segment_id).into(),
        (&new.template_name).into(),
        (&new.template_language).into(),
        (&new.body).into(),
        (&new.created_by_account_id).into(),
        new.created_at.into(),
    ];
    sql::execute(db, INSERT, &vals).await?;
    let template =
        serde_json::json!({"name": new.template_name, "language": new.template_language})
            .to_string();
    let tag = BroadcastTag {
        broadcast_id: &new.id,
        template: &template,
    };
    let mut skipped = 0i64;
    for p in people {
        if p.phone.is_none() {
            skipped += 1;
            continue;
        }
        let latest: Option<(String,)> = sql::optional(
            db,
            LATEST,
            &[project_id.into(), (&p.person_id).into(), channel.into()],
        )
        .await?;
        let conversation_id = match latest {
            Some((id,)) => id,
            None => {
                let conv = NewConversation {
                    id: p.conversation_id.clone(),
                    site_user_id: p.person_id.clone(),
                    channel: Channel::Whatsapp,
                    status: Status::Open,
                    priority: Priority::Medium,
                    assignee_account_id: None,
                    team_id: None,
                    inbox_id: None,
                    handled_by_bot: false,
                    intent: None,
                    is_lead: false,
                    external_id: None,
                    created_by_account_id: new.created_by_account_id.clone(),
                    created_at: new.created_at,
                };
                conversations::create(db, project_id, &conv).await?.0.id
            }
        };
        let done: Option<(String,)> = sql::optional(
            db,
            HAS_MESSAGE,
            &[
                project_id.into(),
                (&new.id).into(),
                (&conversation_id).into(),
            ],
        )
        .await?;
        if done.is_some() {
            continue;
        }
        let message = NewMessage {
            id: p.message_id.clone(),
            conversation_id,
            direction: Direction::Out,
            sender: Sender::Agent,
            sender_account_id: new.created_by_account_id.clone(),
            body: new.body.clone(),
            private: false,
            attachments: "[]".into(),
            delivery_status: DeliveryStatus::Queued,
            channel_message_id: None,
            created_at: new.created_at,
        };
        messages::store_tagged(db, project_id, &message, Some(&tag)).await?;
    }
    sql::execute(
        db,
        COUNTS,
        &[project_id.into(), (&new.id).into(), skipped.into()],
    )
    .await?;
    get(db, project_id, &new.id)
        .await?
        .ok_or(StoreError::NotFound)
}

pub(crate) async fn get(db: &Db, project_id: &str, id: &str) -> StoreResult<Option<Broadcast>> {
    let sql = format!("{SELECT} WHERE project_id = $1 AND id = $2");
    sql::optional(db, &sql, &[project_id.into(), id.into()]).await
}

/// The project's broadcasts, newest first.
pub(crate) async fn list(db: &Db, project_id: &str, limit: i64) -> StoreResult<Vec<Broadcast>> {
    let sql = format!("{SELECT} WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
    sql::all(db, &sql, &[project_id.into(), limit.into()]).await
}

/// The broadcast's messages per delivery status.
pub(crate) async fn stats(db: &Db, project_id: &str, id: &str) -> StoreResult<BroadcastStats> {
    let rows: Vec<(String, i64)> = sql::all(db, BY_STATUS, &[project_id.into(), id.into()]).await?;
    let mut s = BroadcastStats::default();
    for (status, n) in rows {
        s.count(&status, n);
    }
    Ok(s)
}

/// Broadcasts created in `[from_ms, to_ms)`, newest first, at most `limit`.
const CREATED_BETWEEN: &str = "WHERE project_id = $1 AND created_at >= $2 AND created_at < $3
     ORDER BY created_at DESC, id DESC LIMIT $4";
/// Their messages per broadcast and delivery status, in one read (the
/// `messages_broadcast` index), instead of one stats read per broadcast.
const BY_BROADCAST_STATUS: &str =
    "SELECT m.broadcast_id, m.delivery_status, COUNT(*) FROM messages m
     WHERE m.project_id = $1 AND m.broadcast_id IN (SELECT b.id FROM broadcasts b
         WHERE b.project_id = $1 AND b.created_at >= $2 AND b.created_at < $3
         ORDER BY b.created_at DESC, b.id DESC LIMIT $4)
     GROUP BY m.broadcast_id, m.delivery_status";

/// The broadcasts created in a range with their stats (two reads).
pub(crate) async fn created_between(
    db: &Db,
    project_id: &str,
    from_ms: i64,
    to_ms: i64,
    limit: i64,
) -> StoreResult<Vec<(Broadcast, BroadcastStats)>> {
    let args = [
        project_id.into(),
        from_ms.into(),
        to_ms.into(),
        limit.into(),
    ];
    let list: Vec<Broadcast> = sql::all(db, &format!("{SELECT} {CREATED_BETWEEN}"), &args).await?;
    let rows: Vec<(String, String, i64)> = sql::all(db, BY_BROADCAST_STATUS, &args).await?;
    let mut stats: HashMap<String, BroadcastStats> = HashMap::new();
    for (id, status, n) in rows {
        stats.entry(id).or_default().count(&status, n);
    }
    Ok(list
        .into_iter()
        .map(|b| {
            let s = stats.remove(&b.id).unwrap_or_default();
            (b, s)
        })
        .collect())
}
