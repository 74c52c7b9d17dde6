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
    let (first, last) = match (
        spent.iter().map(|s| &s.0).min(),
        spent.iter().map(|s| &s.0).max(),
    ) {
        (Some(first), Some(last)) => (first.clone(), last.clone()),
        _ => (String::new(), String::new()),
    };
    let rates_from = vibe_core::day::parse_day(&first)
        .and_then(|d| {
            d.checked_sub(jiff::Span::new().days(RATE_FALLBACK_DAYS))
                .ok()
        })
        .map(|d| d.to_string())
        .unwrap_or(first);
    let rates: Vec<ExchangeRate> = if spent.iter().any(|s| s.1 != currency) {
        db.all(
            super::RATES,
            (project_id, rates_from.as_str(), last.as_str()),
        )
        .await?
    } else {
        Vec::new()
    };
    let rates = Rates::new(rates);
    let mut total = 0.0;
    let mut unconverted: Vec<CurrencyAmount> = Vec::new();
    for (day, cur, amount) in &spent {
        match rates.convert(*amount as f64, cur, &currency, day) {
            Some(v) => total += v.round(),
            None => match unconverted.iter_mut().find(|u| &u.currency == cur) {
                Some(u) => u.amount += amount,
                None => unconverted.push(CurrencyAmount {
                    currency: cur.clone(),
                    amount: *amount,
                }),
            },
        }
    }
    unconverted.sort_by(|a, b| a.currency.cmp(&b.currency));

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
        total_spent: total as i64,
        unconverted,
        subscription,
        payments,
    })
}
