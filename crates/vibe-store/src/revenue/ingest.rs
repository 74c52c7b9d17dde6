//! Revenue at ingest: each new `payment` / `subscription` event becomes
//! upserts of `payments`, `subscriptions` and `subscription_changes`, in the
//! ingest transaction (called once from `ingest::batch::write_batch`). The
//! same statements replay stored events in [`super::RevenueStore::rebuild_revenue`],
//! so a rebuild yields what ingest kept. Each upsert is order-independent
//! (the earliest message dates a payment, the latest one states a
//! subscription), so batches arriving out of order, retries (same message id:
//! not new, never reach this) and replays (new id, same `payment_id`) agree.
//! The revenue rollups ([`super::rollup`]) get, per event, the difference of
//! what its payment / subscription contributed before and after its upserts.

use vibe_core::reserved::payment::Payment;
use vibe_core::reserved::subscription::Subscription;
use vibe_core::{Message, MessageKind};

use super::rollup::{self, ChangeRow, Contributions, PaymentState};
use crate::db::{Arg, TxExec, TxRead};
use crate::ingest::{Resolved, TimeZones};
use crate::StoreResult;

/// The revenue half of the ingest I/O: shared statements only.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait RevenueIo: TxExec + TxRead<PaymentState> + TxRead<ChangeRow> {
    async fn revenue_statements(&mut self, statements: &[Statement<'_>]) -> StoreResult<()> {
        for (sql, args) in statements {
            self.execute(sql, args).await?;
        }
        Ok(())
    }
}

impl<T: TxExec + TxRead<PaymentState> + TxRead<ChangeRow>> RevenueIo for T {}

/// What the row(s) an event upserts contribute to the rollups now, times
/// `sign` (`mine`: the payment row was just inserted from this event, so it
/// contributed nothing before).
async fn contributions<I: RevenueIo>(
    io: &mut I,
    event: &RevenueEvent<'_>,
    tz: &vibe_core::day::ProjectTz,
    sign: i64,
    into: &mut Contributions,
) -> StoreResult<()> {
    match &event.what {
        Revenue::Payment(p) => {
            let args = [event.project.into(), p.payment_id.as_str().into()];
            let row: Option<PaymentState> =
                crate::db::first_row(io, rollup::PAYMENT_STATE, &args).await?;
            if let Some(row) = row.filter(|r| sign > 0 || r.5 != event.event_id) {
                into.payment(&row, sign);
            }
        }
        Revenue::Subscription(s) => {
            let args = [event.project.into(), s.subscription_id.as_str().into()];
            let rows: Vec<ChangeRow> =
                TxRead::<ChangeRow>::all_rows(io, rollup::CHANGES_OF, &args).await?;
            into.subscription(&rows, tz, sign);
        }
    }
    Ok(())
}

/// One statement with its arguments.
pub type Statement<'a> = (&'static str, Vec<Arg<'a>>);

/// Applies the batch's new revenue events (`resolved` is sorted by time).
pub async fn apply<I: RevenueIo>(
    io: &mut I,
    resolved: &[Resolved<'_>],
    tzs: &TimeZones,
) -> StoreResult<()> {
    let events: Vec<RevenueEvent<'_>> = resolved
        .iter()
        .filter(|r| is_revenue(r.msg))
        .filter_map(|r| {
            RevenueEvent::parse(
                r.project_id,
                r.person_id,
                &r.msg.id,
                r.msg.ts,
                tzs.get(r.project_id).day_of(r.msg.ts),
                r.msg.name.as_deref().unwrap_or_default(),
                r.msg.props.as_ref(),
            )
        })
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    // Each event's rows without and with it: the rollups get the difference.
    let mut by_project: std::collections::BTreeMap<&str, Contributions> = Default::default();
    for event in &events {
        let tz = tzs.get(event.project);
        let diff = by_project.entry(event.project).or_default();
        let statements = event.statements();
        // Lock the payment / subscription row first (PostgreSQL: a concurrent
        // batch for the same id waits for this one to commit, then reads what
        // it wrote): its first statement upserts the subscription; a payment
        // is claimed by inserting its row, or a no-op update of it.
        let (first, rest) = statements.split_first().expect("one statement or more");
        if matches!(event.what, Revenue::Payment(_)) {
            io.execute(CLAIM_PAYMENT, &first.1).await?;
            contributions(io, event, tz, -1, diff).await?;
            io.revenue_statements(&statements).await?;
        } else {
            io.revenue_statements(std::slice::from_ref(first)).await?;
            contributions(io, event, tz, -1, diff).await?;
            io.revenue_statements(rest).await?;
        }
        contributions(io, event, tz, 1, diff).await?;
    }
    for (project, diff) in &mut by_project {
        io.revenue_statements(&diff.statements(project)).await?;
    }
    Ok(())
}

/// `(project, payment_id)` of the batch's valid payment events: the rows the
/// uniques' payers sketches read back (`uniques::ingest::Adds::payments`).
pub fn payment_ids<'a>(resolved: &[Resolved<'a>]) -> Vec<(&'a str, String)> {
    resolved
        .iter()
        .filter(|r| r.msg.kind == MessageKind::Event && r.msg.name.as_deref() == Some("payment"))
        .filter_map(|r| {
            let p = Payment::parse(r.msg.props.as_ref(), "props").ok()?;
            Some((r.project_id, p.payment_id))
        })
        .collect()
}

fn is_revenue(m: &Message) -> bool {
    m.kind == MessageKind::Event && matches!(m.name.as_deref(), Some("payment" | "subscription"))
}

/// What a reserved revenue event says.
#[derive(Debug, Clone)]
pub enum Revenue {
    Payment(Payment),
    Subscription(Subscription),
}

/// A stored revenue event, with the person and local day it counts for.
#[derive(Debug, Clone)]
pub struct RevenueEvent<'a> {
    pub project: &'a str,
    pub person: &'a str,
    pub event_id: &'a str,
    pub ts: i64,
    pub day: String,
    pub what: Revenue,
}

impl<'a> RevenueEvent<'a> {
    /// `None` for other names, and for events whose props do not parse
    /// (stored before the names were reserved): they count for nothing.
    pub fn parse(
        project: &'a str,
        person: &'a str,
        event_id: &'a str,
        ts: i64,
        day: String,
        name: &str,
        props: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Option<Self> {
        let what = match name {
            "payment" => Revenue::Payment(Payment::parse(props, "props").ok()?),
            "subscription" => Revenue::Subscription(Subscription::parse(props, "props").ok()?),
            _ => return None,
        };
        Some(Self {
            project,
            person,
            event_id,
            ts,
            day,
            what,
        })
    }

    /// The statements this event runs, in order (a subscription's row first:
    /// ingest reads its changes once that row is locked).
    pub fn statements(&self) -> Vec<Statement<'_>> {
        let (project, person, event_id, ts, day) = (
            self.project,
            self.person,
            self.event_id,
            self.ts,
            self.day.as_str(),
        );
        match &self.what {
            Revenue::Payment(p) => vec![(
                UPSERT_PAYMENT,
                vec![
                    project.into(),
                    p.payment_id.as_str().into(),
                    person.into(),
                    p.amount.into(),
                    p.currency.as_str().into(),
                    p.plan.as_deref().unwrap_or_default().into(),
                    p.status.into(),
                    ts.into(),
                    day.into(),
                    event_id.into(),
                ],
            )],
            Revenue::Subscription(s) => vec![
                (
                    UPSERT_SUBSCRIPTION,
                    vec![
                        project.into(),
                        s.subscription_id.as_str().into(),
                        person.into(),
                        s.plan.as_str().into(),
                        s.status.into(),
                        s.amount.into(),
                        s.currency.as_str().into(),
                        s.interval.into(),
                        ts.into(),
                        event_id.into(),
                    ],
                ),
                (
                    INSERT_CHANGE,
                    vec![
                        project.into(),
                        s.subscription_id.as_str().into(),
                        ts.into(),
                        event_id.into(),
                        s.plan.as_str().into(),
                        s.status.into(),
                        s.amount.into(),
                        s.currency.as_str().into(),
                        s.interval.into(),
                    ],
                ),
            ],
        }
    }
}

/// A payment row, or its refund. `$7` is the message's status: a refund
/// stamps `refunded_at`/`refund_day` (the earliest refund message); the
/// earliest message (by time, then event id) dates the payment and states its
/// amount, currency, plan and person. A refund for a payment never seen
/// creates it, paid and refunded at the refund's time.
pub const UPSERT_PAYMENT: &str = "INSERT INTO payments
    (project_id, payment_id, site_user_id, amount, currency, plan, status, paid_at, day, refunded_at, refund_day, event_id)
    VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9,
        CASE WHEN $7 = 'refunded' THEN $8 END, CASE WHEN $7 = 'refunded' THEN $9 END, $10)
    ON CONFLICT (project_id, payment_id) DO UPDATE SET
    status = CASE WHEN excluded.status = 'refunded' THEN 'refunded' ELSE payments.status END,
    refund_day = CASE WHEN excluded.status = 'refunded' AND (payments.refunded_at IS NULL OR excluded.paid_at < payments.refunded_at)
        THEN excluded.day ELSE payments.refund_day END,
    refunded_at = CASE WHEN excluded.status = 'refunded' AND (payments.refunded_at IS NULL OR excluded.paid_at < payments.refunded_at)
        THEN excluded.paid_at ELSE payments.refunded_at END,
    site_user_id = CASE WHEN excluded.paid_at < payments.paid_at OR (excluded.paid_at = payments.paid_at AND excluded.event_id < payments.event_id)
        THEN excluded.site_user_id ELSE payments.site_user_id END,
    amount = CASE WHEN excluded.paid_at < payments.paid_at OR (excluded.paid_at = payments.paid_at AND excluded.event_id < payments.event_id)
        THEN excluded.amount ELSE payments.amount END,
    currency = CASE WHEN excluded.paid_at < payments.paid_at OR (excluded.paid_at = payments.paid_at AND excluded.event_id < payments.event_id)
        THEN excluded.currency ELSE payments.currency END,
    plan = CASE WHEN excluded.paid_at < payments.paid_at OR (excluded.paid_at = payments.paid_at AND excluded.event_id < payments.event_id)
        THEN excluded.plan ELSE payments.plan END,
    day = CASE WHEN excluded.paid_at < payments.paid_at OR (excluded.paid_at = payments.paid_at AND excluded.event_id < payments.event_id)
        THEN excluded.day ELSE payments.day END,
    event_id = CASE WHEN excluded.paid_at < payments.paid_at OR (excluded.paid_at = payments.paid_at AND excluded.event_id < payments.event_id)
        THEN excluded.event_id ELSE payments.event_id END,
    paid_at = CASE WHEN excluded.paid_at < payments.paid_at THEN excluded.paid_at ELSE payments.paid_at END";

/// Locks a payment's row before its rollup contribution is read: inserts it
/// from the message (as [`UPSERT_PAYMENT`] would) or updates nothing. The
/// row then carries this message's event id only if this inserted it.
pub const CLAIM_PAYMENT: &str = "INSERT INTO payments
    (project_id, payment_id, site_user_id, amount, currency, plan, status, paid_at, day, refunded_at, refund_day, event_id)
    VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9,
        CASE WHEN $7 = 'refunded' THEN $8 END, CASE WHEN $7 = 'refunded' THEN $9 END, $10)
    ON CONFLICT (project_id, payment_id) DO UPDATE SET event_id = payments.event_id";

/// One state of a subscription (a replayed message id is stored once).
pub const INSERT_CHANGE: &str = "INSERT INTO subscription_changes
    (project_id, subscription_id, ts, event_id, plan, status, amount, currency, \"interval\")
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING";

/// The current state: the latest message (by time, then event id) wins;
/// `started_at` is the earliest; `canceled_at` is the latest message's time
/// when it says `canceled`.
pub const UPSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions
    (project_id, subscription_id, site_user_id, plan, status, amount, currency, \"interval\", started_at, updated_at, canceled_at, last_event_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, CASE WHEN $5 = 'canceled' THEN $9 END, $10)
    ON CONFLICT (project_id, subscription_id) DO UPDATE SET
    site_user_id = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.site_user_id ELSE subscriptions.site_user_id END,
    plan = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.plan ELSE subscriptions.plan END,
    status = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.status ELSE subscriptions.status END,
    amount = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.amount ELSE subscriptions.amount END,
    currency = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.currency ELSE subscriptions.currency END,
    \"interval\" = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.\"interval\" ELSE subscriptions.\"interval\" END,
    canceled_at = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.canceled_at ELSE subscriptions.canceled_at END,
    last_event_id = CASE WHEN excluded.updated_at > subscriptions.updated_at OR (excluded.updated_at = subscriptions.updated_at AND excluded.last_event_id > subscriptions.last_event_id)
        THEN excluded.last_event_id ELSE subscriptions.last_event_id END,
    updated_at = CASE WHEN excluded.updated_at > subscriptions.updated_at THEN excluded.updated_at ELSE subscriptions.updated_at END,
    started_at = CASE WHEN excluded.started_at < subscriptions.started_at THEN excluded.started_at ELSE subscriptions.started_at END";
