//! A recipient's way through the sender, every step a guarded statement
//! (its expected status in the `WHERE`), so a late or repeated writer
//! changes nothing:
//!
//! - `queued` → [`claim`] → `claimed` (`claimed_at`, `attempts + 1`, the
//!   token): one statement, committed before the send. PostgreSQL takes the
//!   row `FOR UPDATE SKIP LOCKED`; SQLite has one writer.
//! - `claimed` → [`record`] → `sent` | `failed` | `queued` again (a retry,
//!   due later) | `unknown`, with the event in the same transaction; a hard
//!   bounce also goes into `bounced_addresses`.
//! - `claimed` left by a crash → [`recover`] → `unknown`: the send may have
//!   reached the server, so sending again could deliver it twice.

use super::model::{ClaimedRecipient, Recipient, RecipientStatus, SendOutcome};
use crate::db::Db;
use crate::inbox::sql::{self, Tx, Val};
use crate::StoreResult;

const RECIPIENT_COLS: &str = "campaign_id, person_id, address, status, skip_reason, token,
     attempts, next_attempt_at, claimed_at, sent_at, error, message_id";

pub(crate) async fn claim(
    db: &Db,
    project_id: &str,
    campaign_id: &str,
    token: &str,
    now_ms: i64,
) -> StoreResult<Option<ClaimedRecipient>> {
    let lock = match db {
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    // The campaign's status is read in the same statement, so a pause or a
    // cancel committed before it stops the claim.
    let q = format!(
        "UPDATE campaign_recipients SET status = 'claimed', claimed_at = $3,
             attempts = attempts + 1, token = COALESCE(token, $4), updated_at = $3
         WHERE project_id = $1 AND campaign_id = $2 AND status = 'queued' AND person_id = (
             SELECT r.person_id FROM campaign_recipients r
             WHERE r.project_id = $1 AND r.campaign_id = $2 AND r.status = 'queued'
               AND r.next_attempt_at <= $3
               AND EXISTS (SELECT 1 FROM campaigns c
                   WHERE c.project_id = $1 AND c.id = $2 AND c.status = 'sending')
             ORDER BY r.next_attempt_at, r.person_id
             LIMIT 1{lock})
         RETURNING person_id, address, token, attempts"
    );
    sql::optional(
        db,
        &q,
        &[
            project_id.into(),
            campaign_id.into(),
            now_ms.into(),
            token.into(),
        ],
    )
    .await
}

pub(crate) async fn record(
    db: &Db,
    project_id: &str,
    campaign_id: &str,
    person_id: &str,
    outcome: &SendOutcome,
    now_ms: i64,
) -> StoreResult<bool> {
    let key: [Val; 4] = [
        project_id.into(),
        campaign_id.into(),
        person_id.into(),
        now_ms.into(),
    ];
    let (set, extra, event, detail): (&str, Vec<Val>, &str, Option<String>) = match outcome {
        SendOutcome::Sent { message_id } => (
            "status = 'sent', sent_at = $4, message_id = $5, error = NULL",
            vec![message_id.into()],
            "sent",
            Some(message_id.clone()),
        ),
        SendOutcome::Failed { error, hard_bounce } => (
            if *hard_bounce {
                // Kept on the row too, so the stats count it without events.
                "status = 'failed', error = $5, bounced_at = $4, bounce_kind = 'hard'"
            } else {
                "status = 'failed', error = $5"
            },
            vec![error.into()],
            if *hard_bounce { "bounced" } else { "failed" },
            Some(error.clone()),
        ),
        SendOutcome::Retry {
            error,
            next_attempt_at,
        } => (
            "status = 'queued', error = $5, next_attempt_at = $6",
            vec![error.into(), (*next_attempt_at).into()],
            "deferred",
            Some(error.clone()),
        ),
        SendOutcome::Unknown { error } => (
            "status = 'unknown', error = $5",
            vec![error.into()],
            "unknown",
            Some(error.clone()),
        ),
    };
    let mut vals = key.to_vec();
    vals.extend(extra);
    let mut tx = Tx::begin(db).await?;
    let n = tx
        .exec(
            &format!(
                "UPDATE campaign_recipients SET {set}, updated_at = $4
                 WHERE project_id = $1 AND campaign_id = $2 AND person_id = $3
                   AND status = 'claimed'"
            ),
            &vals,
        )
        .await?;
    if n == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_event(&mut tx, &key, event, detail).await?;
    if let SendOutcome::Failed {
        error,
        hard_bounce: true,
    } = outcome
    {
        tx.exec(
            "INSERT INTO bounced_addresses (project_id, channel, address, campaign_id, detail, at)
             SELECT r.project_id, c.channel, r.address, r.campaign_id, $5, $4
             FROM campaign_recipients r
             JOIN campaigns c ON c.project_id = r.project_id AND c.id = r.campaign_id
             WHERE r.project_id = $1 AND r.campaign_id = $2 AND r.person_id = $3
               AND r.address IS NOT NULL
             ON CONFLICT (project_id, channel, address) DO NOTHING",
            &[
                key[0].clone(),
                key[1].clone(),
                key[2].clone(),
                key[3].clone(),
                error.into(),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn insert_event(
    tx: &mut Tx,
    key: &[Val; 4],
    kind: &str,
    detail: Option<String>,
) -> StoreResult<()> {
    let mut vals = key.to_vec();
    vals.extend([kind.into(), detail.into()]);
    tx.exec(
        "INSERT INTO campaign_events (project_id, campaign_id, person_id, kind, at, detail)
         VALUES ($1, $2, $3, $5, $4, $6)",
        &vals,
    )
    .await
    .map(drop)
}

pub(crate) async fn recover(db: &Db, claimed_before_ms: i64, now_ms: i64) -> StoreResult<u64> {
    const WHY: &str = "outcome unknown: the sender stopped while this recipient was claimed \
                       (not sent again, so it cannot get the message twice)";
    // A read first: with nothing claimed (the usual case) it costs no
    // write (SQLite's one writer is shared with ingest).
    let any: Option<(i64,)> = sql::optional(
        db,
        "SELECT attempts FROM campaign_recipients WHERE status = 'claimed' AND claimed_at < $1 LIMIT 1",
        &[claimed_before_ms.into()],
    )
    .await?;
    if any.is_none() {
        return Ok(0);
    }
    let mut tx = Tx::begin(db).await?;
    let rows: Vec<(String, String, String)> = tx
        .all(
            "UPDATE campaign_recipients SET status = 'unknown', error = $3, updated_at = $2
             WHERE status = 'claimed' AND claimed_at < $1
             RETURNING project_id, campaign_id, person_id",
            &[claimed_before_ms.into(), now_ms.into(), WHY.into()],
        )
        .await?;
    for (project_id, campaign_id, person_id) in &rows {
        let key: [Val; 4] = [
            project_id.into(),
            campaign_id.into(),
            person_id.into(),
            now_ms.into(),
        ];
        insert_event(&mut tx, &key, "unknown", Some(WHY.to_owned())).await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

pub(crate) async fn page(
    db: &Db,
    project_id: &str,
    campaign_id: &str,
    status: Option<RecipientStatus>,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Recipient>> {
    let mut q = format!(
        "SELECT {RECIPIENT_COLS} FROM campaign_recipients
         WHERE project_id = $1 AND campaign_id = $2 AND person_id > $3"
    );
    let mut vals: Vec<Val> = vec![
        project_id.into(),
        campaign_id.into(),
        after.unwrap_or("").into(),
        limit.into(),
    ];
    if let Some(s) = status {
        q.push_str(" AND status = $5");
        vals.push(s.as_str().into());
    }
    q.push_str(" ORDER BY person_id LIMIT $4");
    sql::all(db, &q, &vals).await
}
