//! The revenue report, computed from the revenue rollups (`super::rollup`:
//! payments and refunds by day, subscription state and churn as day sums),
//! the period's exchange rates and its active and paying people: nothing
//! here reads events, payments or subscription changes one by one.
//! [`Subscriptions::from_changes`] is the definition over the raw history
//! (the tests' reference). Definitions: docs/metrics.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use vibe_core::day::parse_day;

use super::model::*;
use super::rollup::counts;

/// How many days back a missing rate may be taken from (weekends and
/// holidays have no ECB rates).
pub const RATE_FALLBACK_DAYS: i64 = 7;

/// Exchange rates by base and currency, each a day → rate series.
#[derive(Debug, Default)]
pub struct Rates {
    series: BTreeMap<(String, String), BTreeMap<String, f64>>,
    bases: BTreeSet<String>,
}

impl Rates {
    pub fn new(rows: Vec<ExchangeRate>) -> Self {
        let mut r = Self::default();
        for row in rows {
            r.bases.insert(row.base.clone());
            r.series
                .entry((row.base, row.currency))
                .or_default()
                .insert(row.day, row.rate);
        }
        r
    }

    /// Units of `currency` per unit of `base` on `day`: that day's rate, else
    /// the latest of the [`RATE_FALLBACK_DAYS`] days before.
    fn rate(&self, base: &str, currency: &str, day: &str, earliest: &str) -> Option<f64> {
        if base == currency {
            return Some(1.0);
        }
        let series = self.series.get(&(base.to_owned(), currency.to_owned()))?;
        let (d, rate) = series.range(..=day.to_owned()).next_back()?;
        (d.as_str() >= earliest).then_some(*rate)
    }

    /// `amount` of `from` in `to` on `day`, through the first base (in
    /// alphabetical order) that has a usable rate for both.
    pub fn convert(&self, amount: f64, from: &str, to: &str, day: &str) -> Option<f64> {
        if from == to {
            return Some(amount);
        }
        let earliest = parse_day(day)
            .and_then(|d| {
                d.checked_sub(jiff::Span::new().days(RATE_FALLBACK_DAYS))
                    .ok()
            })
            .map(|d| d.to_string())?;
        self.bases.iter().find_map(|base| {
            let f = self.rate(base, from, day, &earliest)?;
            let t = self.rate(base, to, day, &earliest)?;
            (f > 0.0).then(|| amount * t / f)
        })
    }
}

/// One state of a subscription, from `ts` on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Change {
    pub subscription_id: String,
    pub ts: i64,
    pub event_id: String,
    pub plan: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub interval: String,
}

/// `(day, currency, plan, amount)` of payments paid.
pub type Paid = (String, String, Option<String>, i64);
/// `(refund_day, paid day, currency, plan, amount)` of payments refunded.
pub type Refunded = (String, String, String, Option<String>, i64);

/// `(plan, currency, interval, subscribers, amount)`: the subscriptions
/// counted at the end of the period by plan, currency and billing interval.
pub type Counted = (String, String, String, i64, i64);

/// The subscription half of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Counted (active | past_due) at the start of `from`.
    pub active_at_start: i64,
    /// Of those, canceled at the end of `to`.
    pub canceled: i64,
    /// Counted at the end of `to`.
    pub at_end: Vec<Counted>,
}

impl Subscriptions {
    /// From every subscription change before the end of the period (`ts <`
    /// the start of the day after `to`), `from_ms` the start of `from`: the
    /// definition, which the rollups (`super::rollup`) answer without reading
    /// changes. Kept as the tests' reference.
    pub fn from_changes(mut changes: Vec<Change>, from_ms: i64) -> Self {
        changes.sort_by(|a, b| {
            (&a.subscription_id, a.ts, &a.event_id).cmp(&(&b.subscription_id, b.ts, &b.event_id))
        });
        let mut at_start: HashMap<&str, &Change> = HashMap::new();
        let mut at_end: HashMap<&str, &Change> = HashMap::new();
        for c in &changes {
            if c.ts < from_ms {
                at_start.insert(&c.subscription_id, c);
            }
            at_end.insert(&c.subscription_id, c);
        }
        let active_at_start = at_start.values().filter(|c| counts(&c.status)).count() as i64;
        let canceled = at_start
            .iter()
            .filter(|(id, c)| {
                counts(&c.status) && at_end.get(*id).is_some_and(|e| e.status == "canceled")
            })
            .count() as i64;
        let mut slots: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
        for c in at_end.values().filter(|c| counts(&c.status)) {
            let slot = slots
                .entry((c.plan.clone(), c.currency.clone(), c.interval.clone()))
                .or_default();
            slot.0 += 1;
            slot.1 += c.amount;
        }
        Self {
            active_at_start,
            canceled,
            at_end: slots
                .into_iter()
                .map(|((p, c, i), (n, a))| (p, c, i, n, a))
                .collect(),
        }
    }
}

/// What the report is computed from.
pub struct Inputs {
    pub currency: String,
    pub paid: Vec<Paid>,
    pub refunded: Vec<Refunded>,
    pub paying_users: i64,
    pub active_users: i64,
    pub subscriptions: Subscriptions,
    pub rates: Rates,
}

fn period_of(day: &str, interval: Interval) -> String {
    match interval {
        Interval::Day => day.to_owned(),
        Interval::Month => day.get(..7).unwrap_or(day).to_owned(),
    }
}

/// Every period of `from..=to`.
fn periods(from: Date, to: Date, interval: Interval) -> Vec<String> {
    let mut out: Vec<String> = vibe_core::day::days_between(from, to)
        .iter()
        .map(|d| period_of(&d.to_string(), interval))
        .collect();
    out.dedup();
    out
}

fn round(x: f64) -> i64 {
    x.round() as i64
}

pub fn compute(q: &RevenueQuery, mut inp: Inputs) -> RevenueReport {
    let cur = inp.currency.clone();
    let mut series: BTreeMap<String, i64> = periods(q.from, q.to, q.interval)
        .into_iter()
        .map(|p| (p, 0))
        .collect();
    let mut plans: BTreeMap<Option<String>, PlanRevenue> = BTreeMap::new();
    let plan_row = |plans: &mut BTreeMap<Option<String>, PlanRevenue>, plan: &Option<String>| {
        plans.entry(plan.clone()).or_insert_with(|| PlanRevenue {
            plan: plan.clone(),
            revenue: 0,
            mrr: 0,
            subscribers: 0,
        });
    };
    let mut unconverted: BTreeMap<String, i64> = BTreeMap::new();
    let (mut total, mut refunds) = (0i64, 0i64);
    for (day, currency, plan, amount) in &inp.paid {
        match inp.rates.convert(*amount as f64, currency, &cur, day) {
            Some(v) => {
                let v = round(v);
                total += v;
                *series.entry(period_of(day, q.interval)).or_default() += v;
                plan_row(&mut plans, plan);
                if let Some(p) = plans.get_mut(plan) {
                    p.revenue += v;
                }
            }
            None => *unconverted.entry(currency.clone()).or_default() += amount,
        }
    }
    for (refund_day, day, currency, plan, amount) in &inp.refunded {
        // A refund is converted at its payment's day, so it undoes it exactly.
        match inp.rates.convert(*amount as f64, currency, &cur, day) {
            Some(v) => {
                let v = round(v);
                refunds += v;
                *series.entry(period_of(refund_day, q.interval)).or_default() -= v;
                plan_row(&mut plans, plan);
                if let Some(p) = plans.get_mut(plan) {
                    p.revenue -= v;
                }
            }
            None => *unconverted.entry(currency.clone()).or_default() -= amount,
        }
    }

    // Subscriptions counted at the end of `to`, a yearly price as 1/12 a month.
    let Subscriptions {
        active_at_start,
        canceled,
        at_end,
    } = std::mem::take(&mut inp.subscriptions);
    let mut monthly: BTreeMap<(String, String), (f64, i64)> = BTreeMap::new();
    for (plan, currency, interval, subscribers, amount) in at_end {
        if subscribers == 0 {
            continue;
        }
        let per_month = match interval.as_str() {
            "year" => amount as f64 / 12.0,
            _ => amount as f64,
        };
        let slot = monthly.entry((plan, currency)).or_default();
        slot.0 += per_month;
        slot.1 += subscribers;
    }
    let to_day = q.to.to_string();
    let mut unconverted_mrr: BTreeMap<String, f64> = BTreeMap::new();
    let mut mrr = 0;
    for ((plan, currency), (amount, subscribers)) in monthly {
        let key = Some(plan);
        plan_row(&mut plans, &key);
        let row = plans.get_mut(&key).expect("just added");
        row.subscribers += subscribers;
        match inp.rates.convert(amount, &currency, &cur, &to_day) {
            Some(v) => {
                let v = round(v);
                row.mrr += v;
                mrr += v;
            }
            None => *unconverted_mrr.entry(currency).or_default() += amount,
        }
    }

    let net = total - refunds;
    let mut by_plan: Vec<PlanRevenue> = plans.into_values().collect();
    by_plan.sort_by(|a, b| (b.revenue, b.mrr, &a.plan).cmp(&(a.revenue, a.mrr, &b.plan)));
    let amounts = |m: BTreeMap<String, i64>| {
        m.into_iter()
            .filter(|(_, a)| *a != 0)
            .map(|(currency, amount)| CurrencyAmount { currency, amount })
            .collect()
    };
    RevenueReport {
        currency: cur,
        from: q.from.to_string(),
        to: to_day,
        interval: q.interval,
        total,
        refunds,
        net,
        mrr,
        arpu: (inp.active_users > 0).then(|| round(net as f64 / inp.active_users as f64)),
        paying_users: inp.paying_users,
        active_users: inp.active_users,
        by_plan,
        series: series
            .into_iter()
            .map(|(period, revenue)| PeriodRevenue { period, revenue })
            .collect(),
        subscription_churn: SubscriptionChurn {
            active_at_start,
            canceled,
            rate_pct: (active_at_start > 0)
                .then(|| (canceled as f64 * 10_000.0 / active_at_start as f64).round() / 100.0),
        },
        unconverted: amounts(unconverted),
        unconverted_mrr: amounts(
            unconverted_mrr
                .into_iter()
                .map(|(c, a)| (c, round(a)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(base: &str, currency: &str, day: &str, rate: f64) -> ExchangeRate {
        ExchangeRate {
            base: base.into(),
            currency: currency.into(),
            day: day.into(),
            rate,
        }
    }

    #[test]
    fn cross_rates_and_the_fallback_window() {
        let r = Rates::new(vec![
            rate("EUR", "USD", "2027-01-04", 1.25),
            rate("EUR", "GBP", "2027-01-04", 0.8),
        ]);
        // EUR → USD directly; GBP → USD through EUR.
        assert_eq!(r.convert(100.0, "EUR", "USD", "2027-01-04"), Some(125.0));
        let gbp = r.convert(80.0, "GBP", "USD", "2027-01-04").unwrap();
        assert!((gbp - 125.0).abs() < 1e-9);
        // Up to 7 days later the last rate holds; not after, nor before it.
        assert_eq!(r.convert(100.0, "EUR", "USD", "2027-01-11"), Some(125.0));
        assert_eq!(r.convert(100.0, "EUR", "USD", "2027-01-12"), None);
        assert_eq!(r.convert(100.0, "EUR", "USD", "2027-01-03"), None);
        assert_eq!(r.convert(100.0, "JPY", "USD", "2027-01-04"), None);
        assert_eq!(r.convert(7.0, "JPY", "JPY", "2027-01-04"), Some(7.0));
    }
}
