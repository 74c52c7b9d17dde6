//! The outbox: every message a provider must deliver has one
//! `outbound_queue` row, written in the transaction that stores the message
//! ([`ENQUEUE`], from `messages::add`), so a stored `queued` message is
//! never forgotten by a crash. The sender (`vibe-server` `outbound/`) moves
//! rows through:
//!
//! - `pending` → **claim** ([`claim`]) → `sending` under the claimer's
//!   `claim_id`, `attempts + 1`, leased until `claimed_until`; committed
//!   before any network call. PostgreSQL takes the rows `FOR UPDATE SKIP
//!   LOCKED`, so two nodes never claim the same row; SQLite has one writer,
//!   the claim is one statement.
//! - **start** ([`start`]): right before its request goes out, the claimer
//!   sets `started_at` and renews the lease — only while the row is still
//!   its own claim, so a row taken back and claimed elsewhere is not sent.
//! - `sending` → [`mark_sent`]: the message `sent` with the provider's id
//!   and `sent_at`, the row `sent`, one transaction.
//! - `sending` → [`retry_later`]: back to `pending`, due at `next_at`.
//! - `pending`/`sending` → [`mark_failed`]: the message `failed` with the
//!   reason (the monotonic delivery rule of [`super::timers`]), the row
//!   `failed`, one transaction.
//! - `sending` past its lease → [`sweep`]: the sender that claimed it died
//!   (or lost the database). Not started: back to `pending`, nothing went
//!   out. Started: the provider may have accepted the message, so it is
//!   failed as an unknown outcome and never retried — nothing is sent twice.
//! - [`release`]: at shutdown, a claim's rows not started go back to
//!   `pending` at once.
//! - `failed` → [`requeue`]: an agent asks to try again (the message goes
//!   back to `queued`).
//!
//! Every transition is a guarded `UPDATE` (its expected state in the
//! `WHERE`), so a late or concurrent writer touches no row.

use serde::Serialize;

use super::sql::{self, Tx, Val};
use super::timers;
use crate::db::Db;
use crate::StoreResult;

/// Bound `($1 project, $2 message id, $3 channel, $4 created_at)`.
pub(crate) const ENQUEUE: &str = "INSERT INTO outbound_queue (project_id, message_id, channel,
        state, attempts, next_attempt_at, created_at, updated_at)
     VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)
     ON CONFLICT (project_id, message_id) DO NOTHING";

/// One claimed row: what the sender must deliver.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboundJob {
    pub project_id: String,
    pub message_id: String,
    pub channel: String,
    /// Including this one.
    pub attempts: i64,
    /// The claim it was taken by (one per [`claim`] call).
    pub claim_id: String,
}

/// A `(project, channel)` the claim must leave alone (this node is busy
/// with it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboundGroup {
    pub project_id: String,
    pub channel: String,
}

/// Queue figures of one channel (or of the whole project).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Waiting for a send (first try or a retry).
    pub queued: i64,
    /// Claimed by a sender right now.
    pub sending: i64,
    /// Failed in the last 24 hours.
    pub failed_24h: i64,
    /// Accepted by the provider in the last hour.
    pub sent_1h: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelQueue {
    pub channel: String,
    #[serde(flatten)]
    pub counts: QueueCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    #[serde(flatten)]
    pub total: QueueCounts,
    /// Sorted by channel; only channels with something to count.
    pub by_channel: Vec<ChannelQueue>,
}

/// Claims up to `limit` due `pending` rows (any project), oldest due first,
/// skipping `busy` groups; each becomes `sending` until `lease_until`.
pub(crate) async fn claim(
    db: &Db,
    claim_id: &str,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
    busy: &[OutboundGroup],
) -> StoreResult<Vec<OutboundJob>> {
    // A read first: an idle queue costs no write (SQLite's one writer is
    // shared with ingest).
    let due: Option<(i64,)> = sql::optional(
        db,
        "SELECT attempts FROM outbound_queue WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1",
        &[now_ms.into()],
    )
    .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let mut vals: Vec<Val> = vec![
        now_ms.into(),
        lease_until.into(),
        limit.into(),
        claim_id.into(),
    ];
    let mut skip = String::new();
    for g in busy {
        let n = vals.len();
        skip.push_str(&format!(
            " AND NOT (project_id = ${} AND channel = ${})",
            n + 1,
            n + 2
        ));
        vals.push((&g.project_id).into());
        vals.push((&g.channel).into());
    }
    let lock = match db {
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE outbound_queue SET state = 'sending', attempts = attempts + 1,
             claimed_until = $2, claim_id = $4, started_at = NULL, updated_at = $1
         WHERE state = 'pending' AND (project_id, message_id) IN (
             SELECT project_id, message_id FROM outbound_queue
             WHERE state = 'pending' AND next_attempt_at <= $1{skip}
             ORDER BY next_attempt_at, project_id, message_id
             LIMIT $3{lock})
         RETURNING project_id, message_id, channel, attempts, claim_id"
    );
    let mut jobs: Vec<OutboundJob> = sql::all(db, &sql, &vals).await?;
    jobs.sort_by(|a, b| (&a.project_id, &a.message_id).cmp(&(&b.project_id, &b.message_id)));
    Ok(jobs)
}

/// Marks a claimed row started (its request goes out now) and renews its
/// lease; `false` when it is no longer this claim's `sending` row (do not
/// send).
pub(crate) async fn start(
    db: &Db,
    job: &OutboundJob,
    now_ms: i64,
    lease_until: i64,
) -> StoreResult<bool> {
    let n = sql::execute(
        db,
        "UPDATE outbound_queue SET claimed_until = $3, started_at = $4, updated_at = $4
         WHERE project_id = $1 AND message_id = $2 AND state = 'sending' AND claim_id = $5",
        &[
            (&job.project_id).into(),
            (&job.message_id).into(),
            lease_until.into(),
            now_ms.into(),
            (&job.claim_id).into(),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// A claim's rows of `group` not started yet go back to `pending` (the
/// attempt is not counted); how many.
pub(crate) async fn release(
    db: &Db,
    claim_id: &str,
    group: &OutboundGroup,
    now_ms: i64,
) -> StoreResult<u64> {
    sql::execute(
        db,
        "UPDATE outbound_queue SET state = 'pending', attempts = attempts - 1,
             claimed_until = NULL, claim_id = NULL, updated_at = $2
         WHERE claim_id = $1 AND state = 'sending' AND started_at IS NULL
           AND project_id = $3 AND channel = $4",
        &[
            claim_id.into(),
            now_ms.into(),
            (&group.project_id).into(),
            (&group.channel).into(),
        ],
    )
    .await
}

/// The provider accepted the message as `channel_message_id`.
pub(crate) async fn mark_sent(
    db: &Db,
    job: &OutboundJob,
    channel_message_id: &str,
    at_ms: i64,
) -> StoreResult<bool> {
    let (project_id, message_id) = (&job.project_id, &job.message_id);
    let row: Vec<Val> = vec![
        project_id.into(),
        message_id.into(),
        at_ms.into(),
        (&job.claim_id).into(),
    ];
    let msg: Vec<Val> = vec![
        project_id.into(),
        message_id.into(),
        at_ms.into(),
        channel_message_id.into(),
    ];
    async {
        let mut tx = Tx::begin(db).await?;
        let n = tx
            .exec(
                "UPDATE outbound_queue SET state = 'sent', claimed_until = NULL, updated_at = $3,
                 last_error = NULL
             WHERE project_id = $1 AND message_id = $2 AND state = 'sending' AND claim_id = $4",
                &row,
            )
            .await?;
        // Only this claim's row: a stale claimer writes nothing. The id is
        // stored whatever the status (a fast `delivered` webhook may have
        // moved it on already); the status only moves forward.
        if n == 1 {
            tx.exec(
                "UPDATE messages SET channel_message_id = COALESCE(channel_message_id, $4),
                     sent_at = COALESCE(sent_at, $3),
                     delivery_status = CASE WHEN delivery_status = 'queued' THEN 'sent'
                         ELSE delivery_status END
                 WHERE project_id = $1 AND id = $2",
                &msg,
            )
            .await?;
            // `sent` once (a webhook's status may have recorded it first).
            super::reporting::delivery(&mut tx, project_id, message_id).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }
    .await
}

/// Not sent; due again at `next_at`.
pub(crate) async fn retry_later(
    db: &Db,
    job: &OutboundJob,
    now_ms: i64,
    next_at: i64,
    error: &str,
) -> StoreResult<bool> {
    let n = sql::execute(
        db,
        "UPDATE outbound_queue SET state = 'pending', claimed_until = NULL, claim_id = NULL,
             next_attempt_at = $4, last_error = $5, updated_at = $3
         WHERE project_id = $1 AND message_id = $2 AND state = 'sending' AND claim_id = $6",
        &[
            (&job.project_id).into(),
            (&job.message_id).into(),
            now_ms.into(),
            next_at.into(),
            error.into(),
            (&job.claim_id).into(),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// Given up: the message `failed` with `reason`.
pub(crate) async fn mark_failed(
    db: &Db,
    job: &OutboundJob,
    at_ms: i64,
    reason: &str,
) -> StoreResult<bool> {
    let row: Vec<Val> = vec![
        (&job.project_id).into(),
        (&job.message_id).into(),
        at_ms.into(),
        reason.into(),
        (&job.claim_id).into(),
    ];
    let fail = timers::delivery_sql(super::DeliveryStatus::Failed).expect("failed has a rule");
    async {
        let mut tx = Tx::begin(db).await?;
        let n = tx
            .exec(
                "UPDATE outbound_queue SET state = 'failed', claimed_until = NULL,
                 last_error = $4, updated_at = $3
             WHERE project_id = $1 AND message_id = $2 AND state = 'sending' AND claim_id = $5",
                &row,
            )
            .await?;
        if n == 1 && tx.exec(&fail, &row[..4]).await? == 1 {
            super::reporting::failed(&mut tx, &job.project_id, &job.message_id, at_ms).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }
    .await
}

/// The reason a row abandoned mid-send is failed with.
pub const INTERRUPTED: &str =
    "outcome unknown: interrupted while sending (not retried so it cannot be sent twice)";

/// Rows left `sending` past their lease at `now_ms` (see the module docs):
/// not started ones back to `pending`; started ones failed with
/// [`INTERRUPTED`] (returned).
pub(crate) async fn sweep(db: &Db, now_ms: i64) -> StoreResult<Vec<OutboundJob>> {
    let expired: Option<(i64,)> = sql::optional(
        db,
        "SELECT attempts FROM outbound_queue WHERE state = 'sending' AND claimed_until < $1 LIMIT 1",
        &[now_ms.into()],
    )
    .await?;
    if expired.is_none() {
        return Ok(Vec::new());
    }
    sql::execute(
        db,
        "UPDATE outbound_queue SET state = 'pending', attempts = attempts - 1,
             claimed_until = NULL, claim_id = NULL, updated_at = $1
         WHERE state = 'sending' AND claimed_until < $1 AND started_at IS NULL",
        &[now_ms.into()],
    )
    .await?;
    let stale: Vec<OutboundJob> = sql::all(
        db,
        "SELECT project_id, message_id, channel, attempts, COALESCE(claim_id, '') AS claim_id FROM outbound_queue
         WHERE state = 'sending' AND claimed_until < $1
         ORDER BY project_id, message_id LIMIT 500",
        &[now_ms.into()],
    )
    .await?;
    let fail = timers::delivery_sql(super::DeliveryStatus::Failed).expect("failed has a rule");
    let mut failed = Vec::new();
    for job in stale {
        let row: Vec<Val> = vec![
            (&job.project_id).into(),
            (&job.message_id).into(),
            now_ms.into(),
            INTERRUPTED.into(),
        ];
        let done = async {
            let mut tx = Tx::begin(db).await?;
            let n = tx
                .exec(
                    "UPDATE outbound_queue SET state = 'failed', claimed_until = NULL,
                     last_error = $4, updated_at = $3
                 WHERE project_id = $1 AND message_id = $2 AND state = 'sending'
                   AND claimed_until < $3",
                    &row,
                )
                .await?;
            if n == 1 && tx.exec(&fail, &row).await? == 1 {
                super::reporting::failed(&mut tx, &job.project_id, &job.message_id, now_ms).await?;
            }
            tx.commit().await?;
            Ok::<_, crate::StoreError>(n == 1)
        }
        .await?;
        if done {
            failed.push(job);
        }
    }
    Ok(failed)
}

/// A `failed` outbound message goes back to `queued`, due now; `false` when
/// it has no failed outbox row.
pub(crate) async fn requeue(
    db: &Db,
    project_id: &str,
    message_id: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let row: Vec<Val> = vec![project_id.into(), message_id.into(), now_ms.into()];
    async {
        let mut tx = Tx::begin(db).await?;
        let n = tx
            .exec(
                "UPDATE outbound_queue SET state = 'pending', attempts = 0, next_attempt_at = $3,
                 claimed_until = NULL, claim_id = NULL, started_at = NULL, last_error = NULL,
                 updated_at = $3
             WHERE project_id = $1 AND message_id = $2 AND state = 'failed'",
                &row,
            )
            .await?;
        if n == 1 {
            tx.exec(
                "UPDATE messages SET delivery_status = 'queued', failed_reason = NULL
                 WHERE project_id = $1 AND id = $2 AND delivery_status = 'failed'",
                &row[..2],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }
    .await
}

/// The project's queue at `now_ms`, per channel.
pub(crate) async fn stats(db: &Db, project_id: &str, now_ms: i64) -> StoreResult<QueueStats> {
    let rows: Vec<(String, String, i64)> = sql::all(
        db,
        "SELECT channel, state, COUNT(*) FROM outbound_queue
         WHERE project_id = $1 AND (state IN ('pending', 'sending')
             OR (state = 'failed' AND updated_at > $2)
             OR (state = 'sent' AND updated_at > $3))
         GROUP BY channel, state ORDER BY channel, state",
        &[
            project_id.into(),
            (now_ms - 24 * 3_600_000).into(),
            (now_ms - 3_600_000).into(),
        ],
    )
    .await?;
    let mut out = QueueStats::default();
    for (channel, state, n) in rows {
        if out.by_channel.last().map(|c| &c.channel) != Some(&channel) {
            out.by_channel.push(ChannelQueue {
                channel,
                counts: QueueCounts::default(),
            });
        }
        let c = &mut out.by_channel.last_mut().expect("pushed").counts;
        for counts in [c, &mut out.total] {
            match state.as_str() {
                "pending" => counts.queued += n,
                "sending" => counts.sending += n,
                "failed" => counts.failed_24h += n,
                _ => counts.sent_1h += n,
            }
        }
    }
    Ok(out)
}

/// Rows waiting or being sent, every project: `(channel, n)`.
pub(crate) async fn depth(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    sql::all(
        db,
        "SELECT channel, COUNT(*) FROM outbound_queue WHERE state IN ('pending', 'sending')
         GROUP BY channel ORDER BY channel",
        &[],
    )
    .await
}

/// Deletes `sent` rows last touched before `before_ms` (the message keeps
/// its status; only the queue's bookkeeping goes), in chunks, each its own
/// statement: after an import or a long stop hundreds of thousands are due
/// at once, and one statement held SQLite's only write lock for 12 s —
/// sign-ins and the collector waited past their busy timeout and failed.
pub(crate) async fn prune_sent(db: &Db, before_ms: i64) -> StoreResult<u64> {
    prune_sent_in_chunks(db, before_ms, 5_000).await
}

pub(crate) async fn prune_sent_in_chunks(db: &Db, before_ms: i64, chunk: i64) -> StoreResult<u64> {
    let mut total = 0;
    loop {
        let done = sql::execute(
            db,
            "DELETE FROM outbound_queue WHERE (project_id, message_id) IN (
               SELECT project_id, message_id FROM outbound_queue
               WHERE state = 'sent' AND updated_at < $1 LIMIT $2)",
            &[before_ms.into(), chunk.into()],
        )
        .await?;
        total += done;
        if done < chunk as u64 {
            return Ok(total);
        }
    }
}
