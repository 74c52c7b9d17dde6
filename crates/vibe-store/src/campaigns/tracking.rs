//! What a recipient did with the message (issue 14, items 4-6; migration
//! 0040), found by its token (the unguessable key in its unsubscribe,
//! pixel and click links): opens, clicks, unsubscribes and bounces. Each is
//! a guarded statement on the recipient row (the first time kept,
//! counters added) plus an event in `campaign_events` in the same
//! transaction, so the stats ([`stats`]) read the recipient rows of one
//! campaign and never the events.

use super::model::{CampaignStats, SeriesPoint, TrackedRecipient};
use crate::db::Db;
use crate::inbox::sql::{self, Tx, Val};
use crate::StoreResult;

/// Statuses whose message may have reached the person (a recipient whose
/// outcome is `unknown` may well have got it).
const REACHED: &str = "'sent', 'unknown', 'claimed'";
const HOUR_MS: i64 = 3_600_000;

async fn event(
    tx: &mut Tx,
    r: &TrackedRecipient,
    kind: &str,
    at: i64,
    detail: Option<String>,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO campaign_events (project_id, campaign_id, person_id, kind, at, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            (&r.project_id).into(),
            (&r.campaign_id).into(),
            (&r.person_id).into(),
            kind.into(),
            at.into(),
            detail.into(),
        ],
    )
    .await
    .map(drop)
}

pub(crate) async fn by_token(db: &Db, token: &str) -> StoreResult<Option<TrackedRecipient>> {
    sql::optional(
        db,
        "SELECT r.project_id, r.campaign_id, r.person_id, r.address, c.channel, r.status,
                r.sent_at, r.opened_at, r.unsubscribed_at
         FROM campaign_recipients r
         JOIN campaigns c ON c.project_id = r.project_id AND c.id = r.campaign_id
         WHERE r.token = $1",
        &[token.into()],
    )
    .await
}

/// First open (kept) and every open counted, `machine` ones too.
async fn mark_open(tx: &mut Tx, token: &str, now: i64, machine: bool) -> StoreResult<u64> {
    tx.exec(
        &format!(
            "UPDATE campaign_recipients SET
                 first_open_machine = CASE WHEN opened_at IS NULL THEN $3 ELSE first_open_machine END,
                 opened_at = COALESCE(opened_at, $2), opens = opens + 1,
                 machine_opens = machine_opens + $3, updated_at = $2
             WHERE token = $1 AND status IN ({REACHED})"
        ),
        &[token.into(), now.into(), i64::from(machine).into()],
    )
    .await
}

pub(crate) async fn open(
    db: &Db,
    token: &str,
    now: i64,
    machine: bool,
) -> StoreResult<Option<TrackedRecipient>> {
    let Some(r) = by_token(db, token).await? else {
        return Ok(None);
    };
    let mut tx = Tx::begin(db).await?;
    if mark_open(&mut tx, token, now, machine).await? == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    event(
        &mut tx,
        &r,
        "opened",
        now,
        machine.then(|| "machine".to_owned()),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(r))
}

pub(crate) async fn click(
    db: &Db,
    token: &str,
    url: &str,
    now: i64,
) -> StoreResult<Option<TrackedRecipient>> {
    let Some(r) = by_token(db, token).await? else {
        return Ok(None);
    };
    let mut tx = Tx::begin(db).await?;
    // A click is an open too when no pixel was loaded (images blocked).
    let first_open = tx
        .exec(
            &format!(
                "UPDATE campaign_recipients SET opened_at = $2, opens = opens + 1, updated_at = $2
                 WHERE token = $1 AND opened_at IS NULL AND status IN ({REACHED})"
            ),
            &[token.into(), now.into()],
        )
        .await?;
    if first_open == 1 {
        event(
            &mut tx,
            &r,
            "opened",
            now,
            Some("implied by a click".into()),
        )
        .await?;
    }
    let n = tx
        .exec(
            &format!(
                "UPDATE campaign_recipients SET clicked_at = COALESCE(clicked_at, $2),
                     clicks = clicks + 1, updated_at = $2
                 WHERE token = $1 AND status IN ({REACHED})"
            ),
            &[token.into(), now.into()],
        )
        .await?;
    if n == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    event(&mut tx, &r, "clicked", now, Some(url.to_owned())).await?;
    tx.commit().await?;
    Ok(Some(r))
}

/// `None`: no such token. Else whether this call unsubscribed it (a
/// repeated one changes nothing).
pub(crate) async fn unsubscribe(db: &Db, token: &str, now: i64) -> StoreResult<Option<bool>> {
    let Some(r) = by_token(db, token).await? else {
        return Ok(None);
    };
    let mut tx = Tx::begin(db).await?;
    let n = tx
        .exec(
            "UPDATE campaign_recipients SET unsubscribed_at = $2, updated_at = $2
             WHERE token = $1 AND unsubscribed_at IS NULL",
            &[token.into(), now.into()],
        )
        .await?;
    if n == 0 {
        tx.rollback().await?;
        return Ok(Some(false));
    }
    if let Some(address) = &r.address {
        tx.exec(
            "INSERT INTO unsubscribes (project_id, channel, address, person_id, campaign_id, at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (project_id, channel, address) DO NOTHING",
            &[
                (&r.project_id).into(),
                (&r.channel).into(),
                address.into(),
                (&r.person_id).into(),
                (&r.campaign_id).into(),
                now.into(),
            ],
        )
        .await?;
    }
    event(&mut tx, &r, "unsubscribed", now, None).await?;
    tx.commit().await?;
    Ok(Some(true))
}

/// A bounce reported after the send (the webhook): the project's
/// recipients at `address` sent since `since`, not bounced yet, become
/// bounced; a hard bounce also goes into `bounced_addresses`. How many.
pub(crate) async fn bounce(
    db: &Db,
    project_id: &str,
    address: &str,
    hard: bool,
    reason: &str,
    (since, now): (i64, i64),
) -> StoreResult<u64> {
    let address = address.trim().to_lowercase();
    let kind = if hard { "hard" } else { "soft" };
    let mut tx = Tx::begin(db).await?;
    let rows: Vec<TrackedRecipient> = tx
        .all(
            "UPDATE campaign_recipients SET bounced_at = $4, bounce_kind = $5, updated_at = $4
             WHERE project_id = $1 AND address = $2 AND sent_at >= $3 AND bounced_at IS NULL
             RETURNING project_id, campaign_id, person_id, address, 'email' AS channel, status,
                 sent_at, opened_at, unsubscribed_at",
            &[
                project_id.into(),
                address.as_str().into(),
                since.into(),
                now.into(),
                kind.into(),
            ],
        )
        .await?;
    for r in &rows {
        let what = if hard { "bounced" } else { "soft_bounced" };
        event(&mut tx, r, what, now, Some(reason.to_owned())).await?;
    }
    // Only a bounce of mail we sent is remembered.
    if hard && !rows.is_empty() {
        tx.exec(
            "INSERT INTO bounced_addresses (project_id, channel, address, campaign_id, detail, at)
             VALUES ($1, 'email', $2, $3, $4, $5)
             ON CONFLICT (project_id, channel, address) DO NOTHING",
            &[
                project_id.into(),
                address.as_str().into(),
                rows.first().map(|r| r.campaign_id.clone()).into(),
                reason.into(),
                now.into(),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

const COUNTS: &str = "SELECT COUNT(*) AS recipients,
        COUNT(CASE WHEN status = 'skipped' THEN 1 END) AS skipped,
        COUNT(CASE WHEN status = 'sent' THEN 1 END) AS sent,
        COUNT(CASE WHEN status = 'failed' THEN 1 END) AS failed,
        COUNT(CASE WHEN status = 'unknown' THEN 1 END) AS unknown,
        COUNT(bounced_at) AS bounced,
        COUNT(CASE WHEN status = 'sent' AND bounced_at IS NULL THEN 1 END) AS delivered,
        COUNT(opened_at) AS opened,
        COUNT(CASE WHEN first_open_machine = 1 THEN 1 END) AS opened_machine_first,
        COUNT(clicked_at) AS clicked,
        COUNT(unsubscribed_at) AS unsubscribed,
        CAST(COALESCE(SUM(opens), 0) AS BIGINT) AS opens,
        CAST(COALESCE(SUM(machine_opens), 0) AS BIGINT) AS machine_opens,
        CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS clicks
     FROM campaign_recipients WHERE project_id = $1 AND campaign_id = $2";

const SERIES: &str = "SELECT kind, hour, n FROM (
        SELECT 'sent' AS kind, sent_at / 3600000 AS hour, COUNT(*) AS n
        FROM campaign_recipients WHERE project_id = $1 AND campaign_id = $2 AND sent_at IS NOT NULL
        GROUP BY sent_at / 3600000
        UNION ALL
        SELECT 'opened' AS kind, opened_at / 3600000 AS hour, COUNT(*) AS n
        FROM campaign_recipients WHERE project_id = $1 AND campaign_id = $2 AND opened_at IS NOT NULL
        GROUP BY opened_at / 3600000
        UNION ALL
        SELECT 'clicked' AS kind, clicked_at / 3600000 AS hour, COUNT(*) AS n
        FROM campaign_recipients WHERE project_id = $1 AND campaign_id = $2 AND clicked_at IS NOT NULL
        GROUP BY clicked_at / 3600000
     ) s ORDER BY hour";

pub(crate) async fn stats(
    db: &Db,
    project_id: &str,
    campaign_id: &str,
) -> StoreResult<CampaignStats> {
    let key: [Val; 2] = [project_id.into(), campaign_id.into()];
    let mut s: CampaignStats = sql::optional(db, COUNTS, &key).await?.unwrap_or_default();
    let rows: Vec<(String, i64, i64)> = sql::all(db, SERIES, &key).await?;
    for (kind, hour, n) in rows {
        let at = hour * HOUR_MS;
        if s.series.last().map(|p| p.at) != Some(at) {
            s.series.push(SeriesPoint {
                at,
                ..SeriesPoint::default()
            });
        }
        let p = s.series.last_mut().expect("pushed above");
        match kind.as_str() {
            "sent" => p.sent = n,
            "opened" => p.opened = n,
            _ => p.clicked = n,
        }
    }
    Ok(s)
}
