//! Messages of a conversation: insert (idempotent on the provider's message
//! id per channel, timers applied in the same transaction), thread pages,
//! delivery-status updates and reads.

use super::conversations;
use super::model::{
    Conversation, Cursor, DeliveryStatus, Direction, Message, NewMessage, Page, Sender,
};
use super::outbox;
use super::reporting;
use super::scope::Scope;
use super::sql::{self, Tx, Val};
use super::timers;
use crate::db::Db;
use crate::{StoreError, StoreResult};

const SELECT: &str = "SELECT id, conversation_id, channel, direction, sender, sender_account_id,
        body, private, attachments, delivery_status, sent_at, delivered_at, read_at,
        failed_reason, channel_message_id, created_at, template
     FROM messages";
const INSERT: &str = "INSERT INTO messages (project_id, id, conversation_id, channel, direction,
        sender, sender_account_id, body, private, attachments, delivery_status, sent_at,
        channel_message_id, created_at, broadcast_id, template)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (project_id, channel, channel_message_id) DO NOTHING";
const CHANNEL: &str = "SELECT channel FROM conversations WHERE project_id = $1 AND id = $2";

/// Whether `scope` may see conversation `id`.
async fn visible(db: &Db, project_id: &str, scope: &Scope, id: &str) -> StoreResult<bool> {
    Ok(conversations::get(db, project_id, scope, id)
        .await?
        .is_some())
}

/// Whether a new message waits for the outbound sender: outbound, not an
/// internal note, stored `queued`, on a channel a provider delivers (any
/// sender: an agent's reply, a bot's, a system message, a broadcast).
pub(crate) fn needs_sending(new: &NewMessage, channel: &str) -> bool {
    new.direction == Direction::Out
        && !new.private
        && new.delivery_status == DeliveryStatus::Queued
        && super::Channel::parse(channel).is_some_and(super::Channel::is_external)
}

/// One message by id, any conversation of the project.
pub(crate) async fn by_id(db: &Db, project_id: &str, id: &str) -> StoreResult<Option<Message>> {
    let sql = format!("{SELECT} WHERE project_id = $1 AND id = $2");
    sql::optional(db, &sql, &[project_id.into(), id.into()]).await
}

/// Adds `new` to its conversation (`None` when `scope` may not see it).
/// A message whose `(channel, channel_message_id)` is already stored is not
/// added again: the stored one comes back with `false`. A message that
/// [`needs_sending`] gets its outbox row in the same transaction. A new
/// contact's message then goes to the inbox's built-in bot
/// ([`super::automation`]).
pub(crate) async fn add(
    db: &Db,
    project_id: &str,
    scope: &Scope,
    new: &NewMessage,
) -> StoreResult<Option<(Message, bool)>> {
    if !visible(db, project_id, scope, &new.conversation_id).await? {
        return Ok(None);
    }
    let found = store(db, project_id, new).await?;
    if found.1 && new.direction == Direction::In && new.sender == Sender::Contact {
        let (c, body, at) = (&new.conversation_id, &new.body, new.created_at);
        super::automation::on_inbound(db, project_id, c, &new.id, body, at).await?;
    }
    Ok(Some(found))
}

/// [`add`] without the scope check and the bot (the bot's own replies).
pub(crate) async fn store(
    db: &Db,
    project_id: &str,
    new: &NewMessage,
) -> StoreResult<(Message, bool)> {
    store_tagged(db, project_id, new, None).await
}

/// A broadcast's part of a message: its broadcast id and the template (JSON
/// text `{"name","language"}`) the transport sends instead of the body.
pub(crate) struct BroadcastTag<'a> {
    pub broadcast_id: &'a str,
    pub template: &'a str,
}

/// [`store`] of a message that may belong to a broadcast.
pub(crate) async fn store_tagged(
    db: &Db,
    project_id: &str,
    new: &NewMessage,
    tag: Option<&BroadcastTag<'_>>,
) -> StoreResult<(Message, bool)> {
    let (channel,): (String,) = sql::optional(
        db,
        CHANNEL,
        &[project_id.into(), (&new.conversation_id).into()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let sent_at = matches!(
        new.delivery_status,
        DeliveryStatus::Sent | DeliveryStatus::Delivered | DeliveryStatus::Read
    )
    .then_some(new.created_at);
    let vals: Vec<Val> = vec![
        project_id.into(),
        (&new.id).into(),
        (&new.conversation_id).into(),
        (&channel).into(),
        new.direction.as_str().into(),
        new.sender.as_str().into(),
        (&new.sender_account_id).into(),
        (&new.body).into(),
        new.private.into(),
        (&new.attachments).into(),
        new.delivery_status.as_str().into(),
        sent_at.into(),
        (&new.channel_message_id).into(),
        new.created_at.into(),
        tag.map(|t| t.broadcast_id.to_owned()).into(),
        tag.map(|t| t.template.to_owned()).into(),
    ];
    let conv: Vec<Val> = vec![
        project_id.into(),
        (&new.conversation_id).into(),
        new.created_at.into(),
    ];
    let by_id = format!("{SELECT} WHERE project_id = $1 AND id = $2");
    let by_channel_id =
        format!("{SELECT} WHERE project_id = $1 AND channel = $2 AND channel_message_id = $3");
    let mut tx = Tx::begin(db).await?;
    if tx.exec(INSERT, &vals).await? == 0 {
        let key: Vec<Val> = vec![
            project_id.into(),
            (&channel).into(),
            (&new.channel_message_id).into(),
        ];
        let stored: Option<Message> = tx.optional(&by_channel_id, &key).await?;
        tx.commit().await?;
        return stored.map(|m| (m, false)).ok_or(StoreError::NotFound);
    }
    if new.direction == Direction::In {
        // Timers, waiting, reopen and their facts (one path for every writer).
        reporting::on_inbound(
            &mut tx,
            project_id,
            &new.conversation_id,
            &new.id,
            new.created_at,
        )
        .await?;
    } else {
        if !new.private {
            tx.exec(timers::ON_OUTBOUND, &conv).await?;
        }
        reporting::on_outbound(&mut tx, project_id, new).await?;
    }
    if needs_sending(new, &channel) {
        // The outbox row commits with the message (see `outbox`).
        let row: Vec<Val> = vec![
            project_id.into(),
            (&new.id).into(),
            (&channel).into(),
            new.created_at.into(),
        ];
        tx.exec(outbox::ENQUEUE, &row).await?;
    }
    let key: Vec<Val> = vec![project_id.into(), (&new.id).into()];
    let stored: Option<Message> = tx.optional(&by_id, &key).await?;
    tx.commit().await?;
    let found = stored.map(|m| (m, true)).ok_or(StoreError::NotFound)?;
    Ok(found)
}

/// One page of a thread, newest first (`None` when `scope` may not see it).
/// Private notes are part of it: only agents read threads.
pub(crate) async fn list(
    db: &Db,
    project_id: &str,
    scope: &Scope,
    conversation_id: &str,
    cursor: Option<&Cursor>,
    limit: i64,
) -> StoreResult<Option<Page<Message>>> {
    if !visible(db, project_id, scope, conversation_id).await? {
        return Ok(None);
    }
    let (ts, id) = match cursor {
        Some(c) => (c.ts, c.id.clone()),
        None => (i64::MAX, String::new()),
    };
    let all = i64::from(cursor.is_none());
    let sql = format!(
        "{SELECT} WHERE project_id = $1 AND conversation_id = $2
           AND (created_at < $3 OR (created_at = $3 AND ($4 = 1 OR id < $5)))
         ORDER BY created_at DESC, id DESC LIMIT $6"
    );
    let vals: Vec<Val> = vec![
        project_id.into(),
        conversation_id.into(),
        ts.into(),
        all.into(),
        id.into(),
        (limit + 1).into(),
    ];
    let mut items: Vec<Message> = sql::all(db, &sql, &vals).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|m| Cursor {
            ts: m.created_at,
            id: m.id.clone(),
        })
    } else {
        None
    };
    Ok(Some(Page { items, next_cursor }))
}

/// One message of the project by id, whoever may see its conversation (for
/// the live feed, which decides per subscriber).
pub(crate) async fn get(
    db: &Db,
    project_id: &str,
    message_id: &str,
) -> StoreResult<Option<Message>> {
    let sql = format!("{SELECT} WHERE project_id = $1 AND id = $2");
    sql::optional(db, &sql, &[project_id.into(), message_id.into()]).await
}

/// The message a provider numbered `channel_message_id` on `channel`.
pub(crate) async fn by_channel_id(
    db: &Db,
    project_id: &str,
    channel: &str,
    channel_message_id: &str,
) -> StoreResult<Option<Message>> {
    let sql =
        format!("{SELECT} WHERE project_id = $1 AND channel = $2 AND channel_message_id = $3");
    sql::optional(
        db,
        &sql,
        &[project_id.into(), channel.into(), channel_message_id.into()],
    )
    .await
}

/// Moves a message to `status` if the order allows (see
/// [`timers::delivery_from`]); the message as stored after, `None` when the
/// project has no such message. Repeats and late lower statuses change nothing.
pub(crate) async fn set_delivery(
    db: &Db,
    project_id: &str,
    message_id: &str,
    status: DeliveryStatus,
    at_ms: i64,
    failed_reason: Option<&str>,
) -> StoreResult<Option<Message>> {
    if let Some(sql) = timers::delivery_sql(status) {
        let mut vals: Vec<Val> = vec![project_id.into(), message_id.into(), at_ms.into()];
        if status == DeliveryStatus::Failed {
            vals.push(failed_reason.map(str::to_owned).into());
        }
        // The facts only when the guarded update moved the message.
        let mut tx = Tx::begin(db).await?;
        if tx.exec(&sql, &vals).await? == 1 {
            reporting::on_delivery(&mut tx, project_id, message_id, status, at_ms).await?;
        }
        tx.commit().await?;
    }
    let sql = format!("{SELECT} WHERE project_id = $1 AND id = $2");
    sql::optional(db, &sql, &[project_id.into(), message_id.into()]).await
}

/// [`set_delivery`] of the message a provider numbered `channel_message_id`.
pub(crate) async fn set_delivery_by_channel_id(
    db: &Db,
    project_id: &str,
    channel: &str,
    channel_message_id: &str,
    status: DeliveryStatus,
    at_ms: i64,
    failed_reason: Option<&str>,
) -> StoreResult<Option<Message>> {
    let id: Option<(String,)> = sql::optional(
        db,
        "SELECT id FROM messages WHERE project_id = $1 AND channel = $2 AND channel_message_id = $3",
        &[project_id.into(), channel.into(), channel_message_id.into()],
    )
    .await?;
    match id {
        Some((id,)) => set_delivery(db, project_id, &id, status, at_ms, failed_reason).await,
        None => Ok(None),
    }
}

const READ_UP_TO: &str = "UPDATE messages SET delivery_status = 'read', read_at = $5,
        delivered_at = COALESCE(delivered_at, $5)
     WHERE project_id = $1 AND conversation_id = $2 AND direction = 'in' AND read_at IS NULL
       AND (created_at < $3 OR (created_at = $3 AND id <= $4))";
const RECOUNT_UNREAD: &str =
    "UPDATE conversations SET unread_count = (SELECT COUNT(*) FROM messages m
        WHERE m.project_id = $1 AND m.conversation_id = $2 AND m.direction = 'in'
          AND m.read_at IS NULL)
     WHERE project_id = $1 AND id = $2";

/// An agent has read the thread up to `message_id` (inclusive): every
/// inbound message until it becomes `read`, and the unread count is
/// recounted. `None` when `scope` may not see the conversation or it has no
/// such message.
pub(crate) async fn mark_read(
    db: &Db,
    project_id: &str,
    scope: &Scope,
    conversation_id: &str,
    message_id: &str,
    now_ms: i64,
) -> StoreResult<Option<Conversation>> {
    if !visible(db, project_id, scope, conversation_id).await? {
        return Ok(None);
    }
    let at: Option<(i64,)> = sql::optional(
        db,
        "SELECT created_at FROM messages WHERE project_id = $1 AND conversation_id = $2 AND id = $3",
        &[project_id.into(), conversation_id.into(), message_id.into()],
    )
    .await?;
    let Some((created_at,)) = at else {
        return Ok(None);
    };
    let vals: Vec<Val> = vec![
        project_id.into(),
        conversation_id.into(),
        created_at.into(),
        message_id.into(),
        now_ms.into(),
    ];
    let mut tx = Tx::begin(db).await?;
    tx.exec(READ_UP_TO, &vals).await?;
    tx.exec(RECOUNT_UNREAD, &vals[..2]).await?;
    tx.commit().await?;
    conversations::by_id(db, project_id, conversation_id).await
}
