//! Revenue records: exchange rates and the revenue report.

use serde::Serialize;

/// `rate` units of `currency` per 1 unit of `base` on `day` (the ECB
/// publishes units per 1 EUR).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ExchangeRate {
    pub base: String,
    pub currency: String,
    pub day: String,
    pub rate: f64,
}

/// How the report's series is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Month,
}

/// A report's period: local days `from..=to` in the project's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevenueQuery {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub interval: Interval,
}

/// Amounts are minor units (cents) of `currency`, the project's reporting
/// currency; definitions in docs/metrics.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevenueReport {
    pub currency: String,
    pub from: String,
    pub to: String,
    pub interval: Interval,
    pub total: i64,
    pub refunds: i64,
    pub net: i64,
    pub mrr: i64,
    pub arpu: Option<i64>,
    pub paying_users: i64,
    pub active_users: i64,
    pub by_plan: Vec<PlanRevenue>,
    pub series: Vec<PeriodRevenue>,
    pub subscription_churn: SubscriptionChurn,
    /// Net payments of the period that had no usable rate, in their own currency.
    pub unconverted: Vec<CurrencyAmount>,
    /// MRR of subscriptions whose currency had no usable rate on `to`.
    pub unconverted_mrr: Vec<CurrencyAmount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRevenue {
    pub plan: Option<String>,
    pub revenue: i64,
    pub mrr: i64,
    pub subscribers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodRevenue {
    pub period: String,
    pub revenue: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionChurn {
    pub active_at_start: i64,
    pub canceled: i64,
    /// `canceled / active_at_start × 100`, two decimals; `null` without any.
    pub rate_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyAmount {
    pub currency: String,
    pub amount: i64,
}

/// A stored payment, as a profile or a test reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PaymentRow {
    pub payment_id: String,
    pub site_user_id: String,
    pub amount: i64,
    pub currency: String,
    pub plan: Option<String>,
    pub status: String,
    pub paid_at: i64,
    pub day: String,
    pub refunded_at: Option<i64>,
    pub refund_day: Option<String>,
    pub event_id: String,
}

/// A stored subscription's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub subscription_id: String,
    pub site_user_id: String,
    pub plan: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub interval: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub canceled_at: Option<i64>,
}
