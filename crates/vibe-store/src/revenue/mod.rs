//! Revenue domain: payments and subscriptions kept at ingest from the
//! reserved `payment` / `subscription` events ([`ingest`]), the project's
//! reporting currency, exchange rates, and the revenue report ([`report`]).
//! All of it is shared SQL; every statement filters by project.

pub mod ingest;
mod model;
pub mod person;
pub mod report;
pub mod rollup;

use crate::db::BeginWrite;
use async_trait::async_trait;
use jiff::ToSpan;
use vibe_core::day::ProjectTz;

pub use model::*;

use crate::db::{err, found, on_db, Arg, HasDb};
use crate::StoreResult;
use ingest::RevenueEvent;
use report::{Change, Inputs, Paid, Rates, Refunded, Subscriptions};
use rollup::Contributions;

const CURRENCY: &str = "SELECT currency FROM projects WHERE id = $1";
const SET_CURRENCY: &str = "UPDATE projects SET currency = $1 WHERE id = $2";
const UPSERT_RATE: &str = "INSERT INTO exchange_rates (project_id, base, currency, day, rate)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (project_id, base, currency, day) DO UPDATE SET rate = excluded.rate";
const RATES: &str = "SELECT base, currency, day, rate FROM exchange_rates
     WHERE project_id = $1 AND day >= $2 AND day <= $3";
/// Payments and refunds of the range, from the rollups (the same groups as
/// `SUM(amount) … GROUP BY` over `payments`, plan '' being none).
const PAID: &str = "SELECT day, currency, NULLIF(plan, ''), amount FROM payment_days
     WHERE project_id = $1 AND day >= $2 AND day <= $3";
const REFUNDED: &str = "SELECT refund_day, day, currency, NULLIF(plan, ''), amount FROM refund_days
     WHERE project_id = $1 AND refund_day >= $2 AND refund_day <= $3";
/// Counted subscriptions at the end of day `$2`: the day deltas up to it.
const COUNTED_AT_END: &str = "SELECT plan, currency, \"interval\",
     CAST(SUM(subscribers) AS BIGINT), CAST(SUM(amount) AS BIGINT) FROM subscription_state_days
     WHERE project_id = $1 AND day <= $2 GROUP BY plan, currency, \"interval\"
     HAVING SUM(subscribers) <> 0";
/// Counted subscriptions at the start of day `$2`.
const COUNTED_AT_START: &str =
    "SELECT CAST(COALESCE(SUM(subscribers), 0) AS BIGINT) FROM subscription_state_days
     WHERE project_id = $1 AND day < $2";
/// Counted at the start of `$2` and canceled at the end of `$3`.
const CANCELED: &str = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM subscription_churn_corners
     WHERE project_id = $1 AND x_day < $2 AND y_day <= $3";
/// The columns of a [`PaymentRow`] (the profile and the timeline read them too).
macro_rules! payment_cols {
    () => {
        "payment_id, site_user_id, amount, currency, plan, status, paid_at, day,
         refunded_at, refund_day, event_id"
    };
}
/// The columns of a [`SubscriptionRow`].
macro_rules! subscription_cols {
    () => {
        "subscription_id, site_user_id, plan, status, amount, currency,
         \"interval\", started_at, updated_at, canceled_at"
    };
}
pub(crate) const PAYMENT_COLUMNS: &str = payment_cols!();
const PAYMENTS_OF: &str = concat!(
    "SELECT ",
    payment_cols!(),
    " FROM payments WHERE project_id = $1 AND site_user_id = $2 ORDER BY paid_at DESC LIMIT $3"
);
const PAYMENTS: &str = concat!(
    "SELECT ",
    payment_cols!(),
    " FROM payments WHERE project_id = $1"
);
const SUBSCRIPTIONS: &str = concat!(
    "SELECT ",
    subscription_cols!(),
    " FROM subscriptions WHERE project_id = $1"
);
const SUBSCRIPTIONS_OF: &str = concat!(
    "SELECT ",
    subscription_cols!(),
    " FROM subscriptions WHERE project_id = $1 AND site_user_id = $2"
);
const CHANGE_ROWS: &str =
    "SELECT subscription_id, ts, event_id, plan, status, amount, currency, \"interval\"
     FROM subscription_changes WHERE project_id = $1";
/// Stored revenue events with the person each resolves to now (as the
/// rollup rebuild resolves them).
const REVENUE_EVENTS: &str = "SELECT e.id, e.ts, e.name, e.props,
     COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id)
     FROM user_events e
     LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
     LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
     WHERE e.project_id = $1 AND e.kind = 'event' AND e.name IN ('payment', 'subscription')
     ORDER BY e.ts, e.id";
/// Every payment's rollup inputs (see [`rollup::PAYMENT_STATE`]).
const PAYMENT_STATES: &str = "SELECT day, currency, COALESCE(plan, ''), amount, refund_day,
     event_id FROM payments WHERE project_id = $1";
const CLEAR: [&str; 3] = [
    "DELETE FROM payments WHERE project_id = $1",
    "DELETE FROM subscriptions WHERE project_id = $1",
    "DELETE FROM subscription_changes WHERE project_id = $1",
];

/// At most this many rows are returned by [`RevenueStore::exchange_rates`].
pub const MAX_RATES_LISTED: i64 = 10_000;

#[async_trait]
pub trait RevenueStore: HasDb {
    /// The project's reporting currency (ISO 4217, default `USD`).
    async fn revenue_currency(&self, project_id: &str) -> StoreResult<String> {
        self.db()
            .one::<(String,)>(CURRENCY, (project_id,))
            .await
            .map(|(c,)| c)
    }

    /// Sets the reporting currency (already validated, upper case).
    async fn set_revenue_currency(&self, project_id: &str, currency: &str) -> StoreResult<()> {
        found(
            self.db()
                .execute(SET_CURRENCY, (currency, project_id))
                .await?,
        )
    }

    /// Stores rates (each `(day, currency, rate)`, units per 1 `base`) in one
    /// transaction, replacing rates of the same base, currency and day.
    async fn put_exchange_rates(
        &self,
        project_id: &str,
        base: &str,
        rows: &[(String, String, f64)],
    ) -> StoreResult<u64> {
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_write().await.map_err(err)?;
            for (day, currency, rate) in rows {
                sqlx::query(UPSERT_RATE)
                    .bind(project_id)
                    .bind(base)
                    .bind(currency)
                    .bind(day)
                    .bind(rate)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            tx.commit().await.map_err(err)?;
        });
        Ok(rows.len() as u64)
    }

    /// Rates of local days `from..=to`, newest day first, at most
    /// [`MAX_RATES_LISTED`].
    async fn exchange_rates(
        &self,
        project_id: &str,
        from: &str,
        to: &str,
    ) -> StoreResult<Vec<ExchangeRate>> {
        let sql = format!("{RATES} ORDER BY day DESC, base, currency LIMIT $4");
        self.db()
            .all(&sql, (project_id, from, to, MAX_RATES_LISTED))
            .await
    }

    /// The revenue report of `q` (see `report::compute` and docs/metrics.md).
    async fn revenue_report(
        &self,
        project_id: &str,
        // The rollups' days are already the project's local days.
        _timezone: &str,
        q: &RevenueQuery,
    ) -> StoreResult<RevenueReport> {
        let currency = self.revenue_currency(project_id).await?;
        report_of(self.db(), project_id, currency, q, Part::Whole).await
    }

    /// The payments' part of the report alone — `total`, `refunds`, `net`,
    /// `series`, each plan's `revenue`, `unconverted` — with the subscription
    /// and people figures (MRR, subscribers, churn, ARPU, users) left zero:
    /// what the overview's all-time and this-month cards show, without the
    /// subscription rollups' reads over the whole history.
    async fn revenue_payments(
        &self,
        project_id: &str,
        q: &RevenueQuery,
    ) -> StoreResult<RevenueReport> {
        let currency = self.revenue_currency(project_id).await?;
        report_of(self.db(), project_id, currency, q, Part::Payments).await
    }

    /// A person's spending, subscription and latest payments (the profile).
    async fn person_revenue(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<person::PersonRevenue> {
        let currency = self.revenue_currency(project_id).await?;
        person::person_revenue(self.db(), project_id, site_user_id, currency).await
    }

    /// The total spent of each person of a page of the people list, in the
    /// reporting currency (see [`person::listed_spent`]).
    async fn listed_spent(
        &self,
        project_id: &str,
        site_user_ids: &[String],
        currency: &str,
    ) -> StoreResult<std::collections::HashMap<String, person::ListedSpent>> {
        person::listed_spent(self.db(), project_id, site_user_ids, currency).await
    }

    /// A person's latest payments, newest first.
    async fn payments_of(
        &self,
        project_id: &str,
        site_user_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<PaymentRow>> {
        self.db()
            .all(PAYMENTS_OF, (project_id, site_user_id, limit))
            .await
    }

    /// Every payment, subscription and subscription change of a project,
    /// sorted by id (rebuild checks, exports).
    async fn revenue_rows(
        &self,
        project_id: &str,
    ) -> StoreResult<(Vec<PaymentRow>, Vec<SubscriptionRow>, Vec<Change>)> {
        let db = self.db();
        let mut payments: Vec<PaymentRow> = db.all(PAYMENTS, (project_id,)).await?;
        payments.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
        let mut subs: Vec<SubscriptionRow> = db.all(SUBSCRIPTIONS, (project_id,)).await?;
        subs.sort_by(|a, b| a.subscription_id.cmp(&b.subscription_id));
        let mut changes: Vec<Change> = db.all(CHANGE_ROWS, (project_id,)).await?;
        changes.sort_by(|a, b| {
            (&a.subscription_id, a.ts, &a.event_id).cmp(&(&b.subscription_id, b.ts, &b.event_id))
        });
        Ok((payments, subs, changes))
    }

    /// Recomputes `payments`, `subscriptions` and `subscription_changes` of a
    /// project from its stored events, in one transaction, with the
    /// statements ingest runs, then the revenue rollups from them with the
    /// contributions ingest adds ([`rollup::Contributions`]) (`vibe stats
    /// rebuild`). Returns the events replayed.
    async fn rebuild_revenue(&self, project_id: &str, timezone: &str) -> StoreResult<usize> {
        let tz = ProjectTz::or_utc(timezone);
        type EventRow = (String, i64, String, Option<String>, String);
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_write().await.map_err(err)?;
            for sql in CLEAR.iter().chain(&rollup::CLEAR) {
                sqlx::query(sql).bind(project_id).execute(&mut *tx).await.map_err(err)?;
            }
            let rows: Vec<EventRow> = sqlx::query_as(REVENUE_EVENTS)
                .bind(project_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
            let props: Vec<Option<serde_json::Map<String, serde_json::Value>>> = rows
                .iter()
                .map(|r| r.3.as_deref().and_then(|p| serde_json::from_str(p).ok()))
                .collect();
            let events: Vec<RevenueEvent<'_>> = rows
                .iter()
                .zip(&props)
                .filter_map(|((id, ts, name, _, person), props)| {
                    RevenueEvent::parse(project_id, person, id, *ts, tz.day_of(*ts), name, props.as_ref())
                })
                .collect();
            // Binds and runs one shared statement on the transaction.
            macro_rules! run {
                ($sql:expr, $args:expr) => {{
                    let mut q = sqlx::query($sql);
                    for a in $args {
                        q = match a {
                            Arg::Text(s) => q.bind(s),
                            Arg::Int(i) => q.bind(i),
                            Arg::Blob(b) => q.bind(b),
                        };
                    }
                    q.execute(&mut *tx).await.map_err(err)?;
                }};
            }
            for event in &events {
                for (sql, args) in event.statements() {
                    run!(sql, args);
                }
            }
            // The rollups: every stored payment's and subscription's
            // contribution, through the functions ingest uses.
            let payments: Vec<rollup::PaymentState> = sqlx::query_as(PAYMENT_STATES)
                .bind(project_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
            let changes: Vec<Change> = sqlx::query_as(CHANGE_ROWS)
                .bind(project_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
            let mut sums = Contributions::default();
            for p in &payments {
                sums.payment(p, 1);
            }
            let mut by_subscription: std::collections::BTreeMap<&str, Vec<rollup::ChangeRow>> =
                Default::default();
            for c in &changes {
                by_subscription
                    .entry(c.subscription_id.as_str())
                    .or_default()
                    .push(rollup::change_row(c));
            }
            for rows in by_subscription.values() {
                sums.subscription(rows, &tz, 1);
            }
            for (sql, args) in sums.statements(project_id) {
                run!(sql, args);
            }
            tx.commit().await.map_err(err)?;
            Ok(events.len())
        })
    }
}

/// Which part of the revenue report to read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    Payments,
}

async fn report_of(
    db: &crate::db::Db,
    project_id: &str,
    currency: String,
    q: &RevenueQuery,
    part: Part,
) -> StoreResult<RevenueReport> {
    let (from, to) = (q.from.to_string(), q.to.to_string());
    let range = (project_id, from.as_str(), to.as_str());
    let paid: Vec<Paid> = db.all(PAID, range).await?;
    let refunded: Vec<Refunded> = db.all(REFUNDED, range).await?;
    let (mut paying_users, mut active_users) = (0, 0);
    let mut subscriptions = Subscriptions::default();
    if part == Part::Whole {
        paying_users = crate::uniques::paying_users(db, project_id, &from, &to).await?;
        active_users =
            crate::uniques::count(db, project_id, crate::uniques::ACTIVE, &from, &to).await?;
        subscriptions = Subscriptions {
            active_at_start: db
                .scalar(COUNTED_AT_START, (project_id, from.as_str()))
                .await?,
            canceled: db.scalar(CANCELED, range).await?,
            at_end: db.all(COUNTED_AT_END, (project_id, to.as_str())).await?,
        };
    }
    // Refunds convert at their payment's day, which may precede `from`.
    let earliest = refunded
        .iter()
        .map(|r| r.1.as_str())
        .chain([from.as_str()])
        .min()
        .and_then(vibe_core::day::parse_day)
        .unwrap_or(q.from);
    let rates_from = earliest
        .checked_sub(report::RATE_FALLBACK_DAYS.days())
        .unwrap_or(earliest)
        .to_string();
    let rates: Vec<ExchangeRate> = db
        .all(RATES, (project_id, rates_from.as_str(), to.as_str()))
        .await?;
    Ok(report::compute(
        q,
        Inputs {
            currency,
            paid,
            refunded,
            paying_users,
            active_users,
            subscriptions,
            rates: Rates::new(rates),
        },
    ))
}
