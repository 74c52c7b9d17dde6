//! Campaigns domain (issue 14, items 2 and 3; migration 0038): a project's
//! campaigns (`campaigns`), their recipients (`campaign_recipients`,
//! materialised from the audience when sending starts: `audience.rs`), each
//! recipient's transitions (`campaign_events`), and the addresses later
//! campaigns skip (`unsubscribes`, `bounced_addresses`). The sender
//! (`vibe-server` `campaigns/`) moves recipients through `recipients.rs`:
//! claim (committed before the send) → sent | failed | queued again |
//! unknown. Shared SQL only; every statement filters by project except the
//! sender's scans and its crash recovery, which span them.

mod audience;
mod model;
mod recipients;
mod tracking;

use async_trait::async_trait;

pub use audience::Audience;
pub use model::*;

use crate::db::HasDb;
use crate::inbox::sql::{self, Tx, Val};
use crate::segments::{stored_criteria, Dialect, SegmentStore};
use crate::users::Segment;
use crate::{StoreError, StoreResult};

const COLS: &str = "id, kind, name, channel, template_id, content, data, segment, send_at,
     rate_per_minute, status, recipients, skipped, error, created_by_account_id, created_at,
     updated_at, started_at, finished_at";
const INSERT: &str = "INSERT INTO campaigns (project_id, id, kind, name, channel, template_id,
        content, segment, send_at, rate_per_minute, status, recipients, skipped, error,
        created_by_account_id, created_at, updated_at, started_at, finished_at, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, NULL, $12, $13, $13, NULL, NULL,
        $14)";
/// Only while editable (the status guard in the `WHERE`).
const UPDATE: &str = "UPDATE campaigns SET name = $3, channel = $4, template_id = $5,
        content = $6, segment = $7, send_at = $8, rate_per_minute = $9, updated_at = $10
     WHERE project_id = $1 AND id = $2 AND status IN ('draft', 'scheduled')";
const COUNT_RECIPIENTS: &str = "UPDATE campaigns SET
        recipients = (SELECT COUNT(*) FROM campaign_recipients r
                      WHERE r.project_id = $1 AND r.campaign_id = $2),
        skipped = (SELECT COUNT(*) FROM campaign_recipients r
                   WHERE r.project_id = $1 AND r.campaign_id = $2 AND r.status = 'skipped')
     WHERE project_id = $1 AND id = $2";
const BY_STATUS: &str = "SELECT status, skip_reason, COUNT(*) FROM campaign_recipients
     WHERE project_id = $1 AND campaign_id = $2 GROUP BY status, skip_reason";
const SENT_SINCE: &str = "SELECT COUNT(*) FROM campaign_recipients
     WHERE project_id = $1 AND campaign_id = $2 AND status = 'sent' AND sent_at >= $3";

fn in_list(statuses: &[CampaignStatus], first: usize) -> (String, Vec<Val>) {
    let marks: Vec<String> = (0..statuses.len())
        .map(|i| format!("${}", first + i))
        .collect();
    let vals = statuses.iter().map(|s| s.as_str().into()).collect();
    (marks.join(", "), vals)
}

/// `NotFound` when the project has no such campaign, else `Conflict` with
/// its current status (the guard of a write did not hold).
async fn refused<S: CampaignStore + ?Sized>(store: &S, project_id: &str, id: &str) -> StoreError {
    match store.get_campaign(project_id, id).await {
        Ok(Some(c)) => StoreError::Conflict(c.status),
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

#[async_trait]
pub trait CampaignStore: HasDb + SegmentStore {
    /// Stores a new campaign as `draft` (whatever `c.status` says).
    async fn create_campaign(&self, project_id: &str, c: &Campaign) -> StoreResult<()> {
        let vals: Vec<Val> = vec![
            project_id.into(),
            (&c.id).into(),
            (&c.kind).into(),
            (&c.name).into(),
            (&c.channel).into(),
            (&c.template_id).into(),
            (&c.content).into(),
            (&c.segment).into(),
            c.send_at.into(),
            c.rate_per_minute.into(),
            CampaignStatus::Draft.as_str().into(),
            (&c.created_by_account_id).into(),
            c.created_at.into(),
            (&c.data).into(),
        ];
        sql::execute(self.db(), INSERT, &vals).await.map(drop)
    }

    /// The project's campaigns, newest first.
    async fn list_campaigns(&self, project_id: &str) -> StoreResult<Vec<Campaign>> {
        let q = format!(
            "SELECT {COLS} FROM campaigns WHERE project_id = $1 ORDER BY created_at DESC, id DESC"
        );
        self.db().all(&q, (project_id,)).await
    }

    async fn get_campaign(&self, project_id: &str, id: &str) -> StoreResult<Option<Campaign>> {
        let q = format!("SELECT {COLS} FROM campaigns WHERE project_id = $1 AND id = $2");
        self.db().optional(&q, (project_id, id)).await
    }

    /// Replaces name, channel, content, audience, schedule and rate while
    /// the campaign is `draft` or `scheduled`; `Conflict(status)` after.
    async fn update_campaign(&self, project_id: &str, c: &Campaign) -> StoreResult<()> {
        let vals: Vec<Val> = vec![
            project_id.into(),
            (&c.id).into(),
            (&c.name).into(),
            (&c.channel).into(),
            (&c.template_id).into(),
            (&c.content).into(),
            (&c.segment).into(),
            c.send_at.into(),
            c.rate_per_minute.into(),
            c.updated_at.into(),
        ];
        if sql::execute(self.db(), UPDATE, &vals).await? == 1 {
            return Ok(());
        }
        Err(refused(self, project_id, &c.id).await)
    }

    /// Deletes a campaign with its recipients and events unless it is
    /// `sending` or `paused` (`Conflict(status)`: cancel it first).
    async fn delete_campaign(&self, project_id: &str, id: &str) -> StoreResult<()> {
        let mut tx = Tx::begin(self.db()).await?;
        let n = tx
            .exec(
                "DELETE FROM campaigns WHERE project_id = $1 AND id = $2
                 AND status NOT IN ('sending', 'paused')",
                &[project_id.into(), id.into()],
            )
            .await?;
        if n == 0 {
            tx.rollback().await?;
            return Err(refused(self, project_id, id).await);
        }
        for table in ["campaign_events", "campaign_recipients"] {
            tx.exec(
                &format!("DELETE FROM {table} WHERE project_id = $1 AND campaign_id = $2"),
                &[project_id.into(), id.into()],
            )
            .await?;
        }
        tx.commit().await
    }

    /// A caller's transition ([`CampaignAction`]), guarded by the states it
    /// may start from: the campaign after it, `Conflict(status)` when it is
    /// in another state. Cancelling also cancels the recipients still queued
    /// (one claimed now finishes its send).
    async fn transition_campaign(
        &self,
        project_id: &str,
        id: &str,
        action: CampaignAction,
        now_ms: i64,
    ) -> StoreResult<Campaign> {
        let (marks, from) = in_list(action.from(), 5);
        let mut vals: Vec<Val> = vec![
            project_id.into(),
            id.into(),
            action.to().as_str().into(),
            now_ms.into(),
        ];
        vals.extend(from);
        // Resuming clears the sender's reason for a pause.
        let error = match action {
            CampaignAction::Resume | CampaignAction::Schedule => ", error = NULL",
            _ => "",
        };
        let finished = match action {
            CampaignAction::Cancel => ", finished_at = $4",
            _ => "",
        };
        let mut tx = Tx::begin(self.db()).await?;
        let n = tx
            .exec(
                &format!(
                    "UPDATE campaigns SET status = $3, updated_at = $4{error}{finished}
                     WHERE project_id = $1 AND id = $2 AND status IN ({marks})"
                ),
                &vals,
            )
            .await?;
        if n == 0 {
            tx.rollback().await?;
            return Err(refused(self, project_id, id).await);
        }
        if action == CampaignAction::Cancel {
            tx.exec(
                "UPDATE campaign_recipients SET status = 'cancelled', updated_at = $3
                 WHERE project_id = $1 AND campaign_id = $2 AND status = 'queued'",
                &[project_id.into(), id.into(), now_ms.into()],
            )
            .await?;
        }
        tx.commit().await?;
        self.get_campaign(project_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Starts sending a `scheduled` campaign: in one transaction it becomes
    /// `sending` and its recipients are materialised from its segment (see
    /// [`Audience`]); the campaign after. `Conflict(status)` unless it was
    /// `scheduled`; `Rejected` when its custom segment is gone or its
    /// channel cannot be materialised yet (see [`SENDABLE_CHANNELS`]).
    async fn start_campaign(
        &self,
        project_id: &str,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Campaign> {
        let c = self
            .get_campaign(project_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let audience = match c.segment.as_deref() {
            None => Audience::People(Vec::new()),
            Some(name) => match Segment::parse(name).filter(|_| !name.is_empty()) {
                Some(s) => Audience::BuiltIn(s),
                None => {
                    let s = self.get_segment(project_id, name).await?.ok_or_else(|| {
                        StoreError::Rejected(format!("the segment {name} no longer exists"))
                    })?;
                    Audience::Custom(std::sync::Arc::new(stored_criteria(&s.criteria)?))
                }
            },
        };
        start(self, project_id, &c, &audience, now_ms, "scheduled").await
    }

    /// Creates a `direct` campaign (a template sent to chosen people at once)
    /// already `sending`, its recipients materialised from `person_ids` in
    /// the same transaction; ids of nobody in the project are left out.
    async fn create_direct_campaign(
        &self,
        project_id: &str,
        c: &Campaign,
        person_ids: &[String],
        now_ms: i64,
    ) -> StoreResult<Campaign> {
        let mut ids = person_ids.to_vec();
        ids.sort();
        ids.dedup();
        self.create_campaign(project_id, c).await?;
        start(self, project_id, c, &Audience::People(ids), now_ms, "draft").await
    }

    /// The campaign's recipients by status, skipped ones by reason, and the
    /// ones sent since `since_ms` (the live rate).
    async fn campaign_counts(
        &self,
        project_id: &str,
        id: &str,
        since_ms: i64,
    ) -> StoreResult<CampaignCounts> {
        let rows: Vec<(String, Option<String>, i64)> =
            self.db().all(BY_STATUS, (project_id, id)).await?;
        let mut c = CampaignCounts::default();
        for (status, reason, n) in rows {
            c.total += n;
            match RecipientStatus::parse(&status) {
                Some(RecipientStatus::Queued) => c.queued += n,
                Some(RecipientStatus::Claimed) => c.claimed += n,
                Some(RecipientStatus::Sent) => c.sent += n,
                Some(RecipientStatus::Failed) => c.failed += n,
                Some(RecipientStatus::Unknown) => c.unknown += n,
                Some(RecipientStatus::Cancelled) => c.cancelled += n,
                Some(RecipientStatus::Skipped) => {
                    c.skipped += n;
                    match reason.as_deref().and_then(SkipReason::parse) {
                        Some(SkipReason::NoAddress) => c.skipped_no_address += n,
                        Some(SkipReason::Unsubscribed) => c.skipped_unsubscribed += n,
                        Some(SkipReason::Bounced) => c.skipped_bounced += n,
                        None => {}
                    }
                }
                None => {}
            }
        }
        c.sent_last_minute = self
            .db()
            .scalar(SENT_SINCE, (project_id, id, since_ms))
            .await?;
        Ok(c)
    }

    /// Records that `address` wants no more of the project's campaigns on
    /// `channel` (kept once; the first time stays).
    async fn add_unsubscribe(
        &self,
        project_id: &str,
        channel: &str,
        address: &str,
        person_id: Option<&str>,
        campaign_id: Option<&str>,
        at_ms: i64,
    ) -> StoreResult<()> {
        let vals: Vec<Val> = vec![
            project_id.into(),
            channel.into(),
            address.trim().to_lowercase().into(),
            person_id.map(str::to_owned).into(),
            campaign_id.map(str::to_owned).into(),
            at_ms.into(),
        ];
        sql::execute(
            self.db(),
            "INSERT INTO unsubscribes (project_id, channel, address, person_id, campaign_id, at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (project_id, channel, address) DO NOTHING",
            &vals,
        )
        .await
        .map(drop)
    }

    /// Whether `address` bounced hard on `channel` in one of the project's
    /// campaigns.
    async fn address_bounced(
        &self,
        project_id: &str,
        channel: &str,
        address: &str,
    ) -> StoreResult<bool> {
        let row: Option<(i64,)> = self
            .db()
            .optional(
                "SELECT at FROM bounced_addresses
                 WHERE project_id = $1 AND channel = $2 AND address = $3",
                (project_id, channel, address.trim().to_lowercase().as_str()),
            )
            .await?;
        Ok(row.is_some())
    }

    /// Campaigns in `status` of every project (the sender's scan), and for
    /// `scheduled` only those due by `now_ms`.
    async fn campaigns_to_run(
        &self,
        status: CampaignStatus,
        now_ms: i64,
    ) -> StoreResult<Vec<CampaignRef>> {
        self.db()
            .all(
                "SELECT project_id, id FROM campaigns
                 WHERE status = $1 AND ($1 <> 'scheduled' OR COALESCE(send_at, 0) <= $2)
                 ORDER BY COALESCE(send_at, 0), project_id, id",
                (status.as_str(), now_ms),
            )
            .await
    }

    /// The sender gave up on a campaign for now (its channel is not
    /// configured, …): `sending → paused` with the reason.
    async fn pause_campaign_with_error(
        &self,
        project_id: &str,
        id: &str,
        error: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let n = self
            .db()
            .execute(
                "UPDATE campaigns SET status = 'paused', error = $3, updated_at = $4
                 WHERE project_id = $1 AND id = $2 AND status IN ('sending', 'scheduled')",
                (project_id, id, error, now_ms),
            )
            .await?;
        Ok(n == 1)
    }

    /// `sending → sent` once no recipient is queued or claimed; whether it
    /// finished now.
    async fn finish_campaign_if_done(
        &self,
        project_id: &str,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let n = self
            .db()
            .execute(
                "UPDATE campaigns SET status = 'sent', finished_at = $3, updated_at = $3
                 WHERE project_id = $1 AND id = $2 AND status = 'sending'
                   AND NOT EXISTS (SELECT 1 FROM campaign_recipients r
                       WHERE r.project_id = $1 AND r.campaign_id = $2
                         AND r.status IN ('queued', 'claimed'))",
                (project_id, id, now_ms),
            )
            .await?;
        Ok(n == 1)
    }

    /// When the campaign's next queued recipient is due (`None`: nobody is
    /// queued), so the sender opens no connection for retries not yet due.
    async fn campaign_next_due(&self, project_id: &str, id: &str) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> = self
            .db()
            .optional(
                "SELECT next_attempt_at FROM campaign_recipients
                 WHERE project_id = $1 AND campaign_id = $2 AND status = 'queued'
                 ORDER BY next_attempt_at LIMIT 1",
                (project_id, id),
            )
            .await?;
        Ok(row.map(|(at,)| at))
    }

    /// Claims the next due queued recipient of a `sending` campaign (one
    /// statement, committed before the send): `claimed` with `claimed_at`,
    /// its token set (`token` unless it has one), `attempts + 1`. `None`
    /// when nothing is due or the campaign is no longer sending.
    async fn claim_recipient(
        &self,
        project_id: &str,
        campaign_id: &str,
        token: &str,
        now_ms: i64,
    ) -> StoreResult<Option<ClaimedRecipient>> {
        recipients::claim(self.db(), project_id, campaign_id, token, now_ms).await
    }

    /// Records a claimed recipient's outcome (only if it is still claimed:
    /// a recipient the recovery made `unknown` stays so), with its event;
    /// a hard bounce also remembers the address. Whether it was recorded.
    async fn record_send(
        &self,
        project_id: &str,
        campaign_id: &str,
        person_id: &str,
        outcome: &SendOutcome,
        now_ms: i64,
    ) -> StoreResult<bool> {
        recipients::record(
            self.db(),
            project_id,
            campaign_id,
            person_id,
            outcome,
            now_ms,
        )
        .await
    }

    /// Crash recovery: every recipient (of any project) left `claimed`
    /// since before `claimed_before_ms` becomes `unknown` — its send may
    /// have reached the server, so it is never sent again. How many.
    async fn recover_claimed(&self, claimed_before_ms: i64, now_ms: i64) -> StoreResult<u64> {
        recipients::recover(self.db(), claimed_before_ms, now_ms).await
    }

    /// A page of the campaign's recipients by person id, after `after`.
    async fn campaign_recipients(
        &self,
        project_id: &str,
        campaign_id: &str,
        status: Option<RecipientStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Recipient>> {
        recipients::page(self.db(), project_id, campaign_id, status, after, limit).await
    }

    /// The recipient whose token this is (any project: the token is the
    /// only key a public link carries).
    async fn recipient_by_token(&self, token: &str) -> StoreResult<Option<TrackedRecipient>> {
        tracking::by_token(self.db(), token).await
    }

    /// An open of the recipient with `token` (the pixel): the first time
    /// kept, every open counted and recorded as an `opened` event (detail
    /// `machine` when it looked automated). `None`: no such token, or a
    /// recipient that was never sent.
    async fn record_open(
        &self,
        token: &str,
        now_ms: i64,
        machine: bool,
    ) -> StoreResult<Option<TrackedRecipient>> {
        tracking::open(self.db(), token, now_ms, machine).await
    }

    /// A click on `url` by the recipient with `token`: `clicked` (and
    /// `opened` when it had not opened yet) with their events.
    async fn record_click(
        &self,
        token: &str,
        url: &str,
        now_ms: i64,
    ) -> StoreResult<Option<TrackedRecipient>> {
        tracking::click(self.db(), token, url, now_ms).await
    }

    /// The recipient with `token` unsubscribes: its address goes into
    /// `unsubscribes` for the project and the campaign's channel, with an
    /// `unsubscribed` event. `None`: no such token; `Some(false)`: it had
    /// already (nothing changes).
    async fn unsubscribe_by_token(&self, token: &str, now_ms: i64) -> StoreResult<Option<bool>> {
        tracking::unsubscribe(self.db(), token, now_ms).await
    }

    /// A bounce reported later (the bounce webhook) for `address`: its
    /// recipients sent since `since_ms` become bounced; `hard` also keeps
    /// the address out of later campaigns. How many recipients.
    async fn record_bounce(
        &self,
        project_id: &str,
        address: &str,
        hard: bool,
        reason: &str,
        since_ms: i64,
        now_ms: i64,
    ) -> StoreResult<u64> {
        tracking::bounce(
            self.db(),
            project_id,
            address,
            hard,
            reason,
            (since_ms, now_ms),
        )
        .await
    }

    /// The campaign's counts and hourly series, from its recipient rows.
    async fn campaign_stats(
        &self,
        project_id: &str,
        campaign_id: &str,
    ) -> StoreResult<CampaignStats> {
        tracking::stats(self.db(), project_id, campaign_id).await
    }

    /// A recipient's events, oldest first.
    async fn campaign_events(
        &self,
        project_id: &str,
        campaign_id: &str,
        person_id: &str,
    ) -> StoreResult<Vec<CampaignEvent>> {
        self.db()
            .all(
                "SELECT person_id, kind, at, detail FROM campaign_events
                 WHERE project_id = $1 AND campaign_id = $2 AND person_id = $3
                 ORDER BY at, kind",
                (project_id, campaign_id, person_id),
            )
            .await
    }
}

/// The channels whose recipients can be materialised (each has its address
/// in `audience::addressing`) and which the server's sender delivers.
pub const SENDABLE_CHANNELS: &[&str] = &["email", "push", "in_app"];

/// `from → sending` and the recipients of `audience`, one transaction.
async fn start<S: CampaignStore + ?Sized>(
    store: &S,
    project_id: &str,
    c: &Campaign,
    audience: &Audience,
    now_ms: i64,
    from: &str,
) -> StoreResult<Campaign> {
    if !SENDABLE_CHANNELS.contains(&c.channel.as_str()) {
        return Err(StoreError::Rejected(format!(
            "campaigns on the {} channel cannot be sent yet (only {})",
            c.channel,
            SENDABLE_CHANNELS.join(", ")
        )));
    }
    let db = store.db();
    let mut tx = Tx::begin(db).await?;
    let n = tx
        .exec(
            "UPDATE campaigns SET status = 'sending', started_at = $3, updated_at = $3,
                 error = NULL
             WHERE project_id = $1 AND id = $2 AND status = $4",
            &[
                project_id.into(),
                (&c.id).into(),
                now_ms.into(),
                from.into(),
            ],
        )
        .await?;
    if n == 0 {
        tx.rollback().await?;
        return Err(refused(store, project_id, &c.id).await);
    }
    audience::materialise(
        &mut tx,
        Dialect::of(db),
        project_id,
        &c.id,
        &c.channel,
        audience,
        now_ms,
    )
    .await?;
    tx.exec(COUNT_RECIPIENTS, &[project_id.into(), (&c.id).into()])
        .await?;
    tx.commit().await?;
    store
        .get_campaign(project_id, &c.id)
        .await?
        .ok_or(StoreError::NotFound)
}
