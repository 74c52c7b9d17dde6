//! One person's revenue for the contact profile: what they spent in the
//! project's reporting currency, their subscription and latest payments.

use serde::Serialize;

use super::report::{Rates, RATE_FALLBACK_DAYS};
use super::{CurrencyAmount, ExchangeRate, PaymentRow, SubscriptionRow};
use crate::db::Db;
use crate::StoreResult;

/// Payments the profile lists, newest first.
pub const PROFILE_PAYMENTS: i64 = 20;

/// Not refunded, per local day and currency: each sum converts at its day.
const SPENT: &str = "SELECT day, currency, CAST(SUM(amount) AS BIGINT) FROM payments
     WHERE project_id = $1 AND site_user_id = $2 AND status = 'succeeded'
     GROUP BY day, currency";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRevenue {
    /// The reporting currency `total_spent` is in (minor units).
    pub currency: String,
    pub total_spent: i64,
    /// Payments without a usable exchange rate, by their own currency.
    pub unconverted: Vec<CurrencyAmount>,
    pub subscription: Option<SubscriptionSummary>,
    pub payments: Vec<PaymentRow>,
}

/// The subscription a profile shows: a live one (not canceled) if there is
/// one, else the latest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionSummary {
    pub subscription_id: String,
    pub plan: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub interval: String,
    /// Its first message.
    pub since: i64,
    pub canceled_at: Option<i64>,
}

pub(crate) async fn person_revenue(
    db: &Db,
    project_id: &str,
    site_user_id: &str,
    currency: String,
) -> StoreResult<PersonRevenue> {
    let who = (project_id, site_user_id);
    let spent: Vec<(String, String, i64)> = db.all(SPENT, who).await?;
    let rates = rates_for(
        db,
        project_id,
        &currency,
        spent.iter().map(|s| (&s.0, &s.1)),
    )
    .await?;
    let (total, unconverted) =
        convert_spent(&rates, &currency, spent.iter().map(|(d, c, a)| (d, c, *a)));

    let subs: Vec<SubscriptionRow> = db.all(super::SUBSCRIPTIONS_OF, who).await?;
    let subscription = subs
        .into_iter()
        .max_by_key(|s| (s.status != "canceled", s.updated_at))
        .map(|s| SubscriptionSummary {
            subscription_id: s.subscription_id,
            plan: s.plan,
            status: s.status,
            amount: s.amount,
            currency: s.currency,
            interval: s.interval,
            since: s.started_at,
            canceled_at: s.canceled_at,
        });
    let payments = db
        .all(
            super::PAYMENTS_OF,
            (project_id, site_user_id, PROFILE_PAYMENTS),
        )
        .await?;
    Ok(PersonRevenue {
        currency,
        total_spent: total,
        unconverted,
        subscription,
        payments,
    })
}

/// The exchange rates converting payments of these `(day, currency)` into
/// `currency`: none are read when every payment is in it already.
async fn rates_for<'a>(
    db: &Db,
    project_id: &str,
    currency: &str,
    days: impl Iterator<Item = (&'a String, &'a String)>,
) -> StoreResult<Rates> {
    let (mut first, mut last, mut foreign) = (None::<&String>, None::<&String>, false);
    for (day, cur) in days {
        foreign |= cur != currency;
        first = Some(first.map_or(day, |f| f.min(day)));
        last = Some(last.map_or(day, |l| l.max(day)));
    }
    if !foreign {
        return Ok(Rates::new(Vec::new()));
    }
    let (first, last) = (
        first.cloned().unwrap_or_default(),
        last.cloned().unwrap_or_default(),
    );
    let rates_from = vibe_core::day::parse_day(&first)
        .and_then(|d| {
            d.checked_sub(jiff::Span::new().days(RATE_FALLBACK_DAYS))
                .ok()
        })
        .map(|d| d.to_string())
        .unwrap_or(first);
    let rates: Vec<ExchangeRate> = db
        .all(
            super::RATES,
            (project_id, rates_from.as_str(), last.as_str()),
        )
        .await?;
    Ok(Rates::new(rates))
}

/// Sums `(day, currency, amount)` in `currency`, each converted at its day;
/// what has no usable rate is returned by its own currency.
fn convert_spent<'a>(
    rates: &Rates,
    currency: &str,
    spent: impl Iterator<Item = (&'a String, &'a String, i64)>,
) -> (i64, Vec<CurrencyAmount>) {
    let mut total = 0.0;
    let mut unconverted: Vec<CurrencyAmount> = Vec::new();
    for (day, cur, amount) in spent {
        match rates.convert(amount as f64, cur, currency, day) {
            Some(v) => total += v.round(),
            None => match unconverted.iter_mut().find(|u| &u.currency == cur) {
                Some(u) => u.amount += amount,
                None => unconverted.push(CurrencyAmount {
                    currency: cur.clone(),
                    amount,
                }),
            },
        }
    }
    unconverted.sort_by(|a, b| a.currency.cmp(&b.currency));
    (total as i64, unconverted)
}

/// What one listed person spent: [`PersonRevenue`]'s first numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListedSpent {
    pub total_spent: i64,
    pub unconverted: Vec<CurrencyAmount>,
}

/// The total spent of each person of a page of the people list, in the
/// reporting `currency`: one grouped read over `payments_person` for the
/// page's people (and the rates, when a payment is in another currency).
/// People without payments are left out.
pub(crate) async fn listed_spent(
    db: &Db,
    project_id: &str,
    site_user_ids: &[String],
    currency: &str,
) -> StoreResult<std::collections::HashMap<String, ListedSpent>> {
    let mut out = std::collections::HashMap::new();
    if site_user_ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<&str> = site_user_ids.iter().map(String::as_str).collect();
    let rows: Vec<(String, String, String, i64)> = db
        .all_in(
            "SELECT site_user_id, day, currency, CAST(SUM(amount) AS BIGINT) FROM payments WHERE project_id = ",
            project_id,
            " AND status = 'succeeded' AND site_user_id",
            &ids,
            " GROUP BY site_user_id, day, currency",
        )
        .await?;
    let rates = rates_for(db, project_id, currency, rows.iter().map(|r| (&r.1, &r.2))).await?;
    let mut by_person: std::collections::BTreeMap<&String, Vec<&(String, String, String, i64)>> =
        Default::default();
    for r in &rows {
        by_person.entry(&r.0).or_default().push(r);
    }
    for (id, spent) in by_person {
        let (total_spent, unconverted) =
            convert_spent(&rates, currency, spent.iter().map(|r| (&r.1, &r.2, r.3)));
        out.insert(
            id.clone(),
            ListedSpent {
                total_spent,
                unconverted,
            },
        );
    }
    Ok(out)
}
