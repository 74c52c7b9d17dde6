//! The revenue rollups the report reads (migration 0019): `payment_days`,
//! `refund_days`, `subscription_state_days` and `subscription_churn_corners`.
//!
//! Each is a sum of *contributions*: what one payment row or one
//! subscription's stored changes add to it ([`Contributions::payment`],
//! [`Contributions::subscription`]). Ingest reads a payment's row / a
//! subscription's changes before and after a message's upserts and writes
//! the difference; the rebuild adds the contributions of every stored row.
//! Both go through the same two functions, so they agree by construction,
//! whatever order messages arrive in.
//!
//! A subscription's changes are first reduced to its state at the end of each
//! day it changed (the last change of the day, by time then event id, as
//! `report::compute` orders them), since the report only asks for states at
//! day boundaries of the project time zone: the state at the start of `from`
//! is the one after the last change of a day `< from`, the state at the end
//! of `to` the one after the last change of a day `<= to`.

use std::collections::BTreeMap;

use vibe_core::day::ProjectTz;

use super::report::Change;
use crate::db::Arg;

/// A counted subscription (MRR, subscribers, churn's "active at start").
pub fn counts(status: &str) -> bool {
    matches!(status, "active" | "past_due")
}

/// `(day, currency, plan or '', amount, refund_day, event_id)` of a stored payment.
pub type PaymentState = (String, String, String, i64, Option<String>, String);
/// `(ts, event_id, plan, status, amount, currency, interval)` of a stored change.
pub type ChangeRow = (i64, String, String, String, i64, String, String);

/// A payment's rollup inputs.
pub const PAYMENT_STATE: &str =
    "SELECT day, currency, COALESCE(plan, ''), amount, refund_day, event_id FROM payments
     WHERE project_id = $1 AND payment_id = $2";
/// A subscription's stored changes (the primary key's prefix).
pub const CHANGES_OF: &str =
    "SELECT ts, event_id, plan, status, amount, currency, \"interval\" FROM subscription_changes
     WHERE project_id = $1 AND subscription_id = $2";

const ADD_PAID: &str = "INSERT INTO payment_days (project_id, day, currency, plan, amount, payments)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (project_id, day, currency, plan) DO UPDATE SET
     amount = payment_days.amount + excluded.amount, payments = payment_days.payments + excluded.payments";
const DROP_PAID: &str = "DELETE FROM payment_days
     WHERE project_id = $1 AND day = $2 AND currency = $3 AND plan = $4 AND amount = 0 AND payments = 0";
const ADD_REFUNDED: &str =
    "INSERT INTO refund_days (project_id, refund_day, day, currency, plan, amount, payments)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (project_id, refund_day, day, currency, plan) DO UPDATE SET
     amount = refund_days.amount + excluded.amount, payments = refund_days.payments + excluded.payments";
const DROP_REFUNDED: &str = "DELETE FROM refund_days
     WHERE project_id = $1 AND refund_day = $2 AND day = $3 AND currency = $4 AND plan = $5
     AND amount = 0 AND payments = 0";
const ADD_STATE: &str = "INSERT INTO subscription_state_days
     (project_id, day, plan, currency, \"interval\", subscribers, amount)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (project_id, day, plan, currency, \"interval\") DO UPDATE SET
     subscribers = subscription_state_days.subscribers + excluded.subscribers,
     amount = subscription_state_days.amount + excluded.amount";
const DROP_STATE: &str = "DELETE FROM subscription_state_days
     WHERE project_id = $1 AND day = $2 AND plan = $3 AND currency = $4 AND \"interval\" = $5
     AND subscribers = 0 AND amount = 0";
const ADD_CORNER: &str = "INSERT INTO subscription_churn_corners (project_id, x_day, y_day, n)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id, x_day, y_day) DO UPDATE SET n = subscription_churn_corners.n + excluded.n";
const DROP_CORNER: &str = "DELETE FROM subscription_churn_corners
     WHERE project_id = $1 AND x_day = $2 AND y_day = $3 AND n = 0";

/// Empties a project's rollups (the rebuild).
pub const CLEAR: [&str; 4] = [
    "DELETE FROM payment_days WHERE project_id = $1",
    "DELETE FROM refund_days WHERE project_id = $1",
    "DELETE FROM subscription_state_days WHERE project_id = $1",
    "DELETE FROM subscription_churn_corners WHERE project_id = $1",
];

/// Signed additions to the four rollups.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Contributions {
    /// `(day, currency, plan)` → `(amount, payments)`.
    pub paid: BTreeMap<(String, String, String), (i64, i64)>,
    /// `(refund_day, day, currency, plan)` → `(amount, payments)`.
    pub refunded: BTreeMap<(String, String, String, String), (i64, i64)>,
    /// `(day, plan, currency, interval)` → `(subscribers, amount)`.
    pub state: BTreeMap<(String, String, String, String), (i64, i64)>,
    /// `(x_day, y_day)` → `n`.
    pub corners: BTreeMap<(String, String), i64>,
}

fn add2<K: Ord>(m: &mut BTreeMap<K, (i64, i64)>, k: K, a: i64, b: i64) {
    let slot = m.entry(k).or_default();
    slot.0 += a;
    slot.1 += b;
}

/// The class of a state for churn: counted, canceled, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Counted,
    Canceled,
    Other,
}

fn class(status: &str) -> Class {
    if counts(status) {
        Class::Counted
    } else if status == "canceled" {
        Class::Canceled
    } else {
        Class::Other
    }
}

impl Contributions {
    /// Adds `sign` × a payment's contribution: its amount on its paid day,
    /// and on its refund day if refunded.
    pub fn payment(&mut self, p: &PaymentState, sign: i64) {
        let (day, currency, plan, amount, refund_day, _) = p;
        add2(
            &mut self.paid,
            (day.clone(), currency.clone(), plan.clone()),
            sign * amount,
            sign,
        );
        if let Some(r) = refund_day {
            add2(
                &mut self.refunded,
                (r.clone(), day.clone(), currency.clone(), plan.clone()),
                sign * amount,
                sign,
            );
        }
    }

    /// Adds `sign` × one subscription's contribution, from all its stored
    /// changes (any order).
    pub fn subscription(&mut self, changes: &[ChangeRow], tz: &ProjectTz, sign: i64) {
        let mut sorted: Vec<&ChangeRow> = changes.iter().collect();
        sorted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        // The state at the end of each day it changed: the day's last change.
        let mut days: Vec<(String, &ChangeRow)> = Vec::new();
        for c in sorted {
            let day = tz.day_of(c.0);
            match days.last_mut() {
                Some((d, last)) if *d == day => *last = c,
                _ => days.push((day, c)),
            }
        }
        // MRR and subscribers: +state on the day it is entered, -state on the
        // day the next one starts.
        for (i, (day, c)) in days.iter().enumerate() {
            if !counts(&c.3) {
                continue;
            }
            let key = |d: &String| (d.clone(), c.2.clone(), c.5.clone(), c.6.clone());
            add2(&mut self.state, key(day), sign, sign * c.4);
            if let Some((next, _)) = days.get(i + 1) {
                add2(&mut self.state, key(next), -sign, -sign * c.4);
            }
        }
        // Churn: runs of one class, each from its first day to the next
        // run's first day (None: still in it).
        let mut runs: Vec<(Class, &String, Option<&String>)> = Vec::new();
        for (day, c) in &days {
            let k = class(&c.3);
            if runs.last().is_some_and(|r| r.0 == k) {
                continue;
            }
            if let Some(last) = runs.last_mut() {
                last.2 = Some(day);
            }
            runs.push((k, day, None));
        }
        // Counted at the start of `from`: run k holds after the end of day
        // from-1, i.e. start_k < from and not end_k < from. Canceled at the
        // end of `to`: start_j <= to and not end_j <= to. Their product over
        // (from, to) is a rectangle of four corners under the prefix sum
        // Σ n WHERE x_day < from AND y_day <= to; corners at +∞ never count.
        for (k, counted) in runs.iter().enumerate() {
            if counted.0 != Class::Counted {
                continue;
            }
            for canceled in runs[k + 1..].iter().filter(|r| r.0 == Class::Canceled) {
                for (x, sx) in [(Some(counted.1), 1), (counted.2, -1)] {
                    for (y, sy) in [(Some(canceled.1), 1), (canceled.2, -1)] {
                        if let (Some(x), Some(y)) = (x, y) {
                            *self.corners.entry((x.clone(), y.clone())).or_default() +=
                                sign * sx * sy;
                        }
                    }
                }
            }
        }
    }

    /// Adds another set of contributions.
    pub fn merge(&mut self, other: Contributions) {
        for (k, (a, b)) in other.paid {
            add2(&mut self.paid, k, a, b);
        }
        for (k, (a, b)) in other.refunded {
            add2(&mut self.refunded, k, a, b);
        }
        for (k, (a, b)) in other.state {
            add2(&mut self.state, k, a, b);
        }
        for (k, n) in other.corners {
            *self.corners.entry(k).or_default() += n;
        }
    }

    /// Drops the keys that add nothing.
    fn nonzero(&mut self) {
        self.paid.retain(|_, v| *v != (0, 0));
        self.refunded.retain(|_, v| *v != (0, 0));
        self.state.retain(|_, v| *v != (0, 0));
        self.corners.retain(|_, n| *n != 0);
    }

    /// The statements adding these to the rollups of `project`, each upsert
    /// followed by the deletion of its key if the sums dropped to 0.
    pub fn statements<'a>(&'a mut self, project: &'a str) -> Vec<(&'static str, Vec<Arg<'a>>)> {
        self.nonzero();
        let mut out = Vec::new();
        for ((day, currency, plan), (amount, n)) in &self.paid {
            let key: Vec<Arg<'a>> = vec![project.into(), day.into(), currency.into(), plan.into()];
            let mut args = key.clone();
            args.extend([Arg::Int(*amount), Arg::Int(*n)]);
            out.push((ADD_PAID, args));
            out.push((DROP_PAID, key));
        }
        for ((refund_day, day, currency, plan), (amount, n)) in &self.refunded {
            let key: Vec<Arg<'a>> = vec![
                project.into(),
                refund_day.into(),
                day.into(),
                currency.into(),
                plan.into(),
            ];
            let mut args = key.clone();
            args.extend([Arg::Int(*amount), Arg::Int(*n)]);
            out.push((ADD_REFUNDED, args));
            out.push((DROP_REFUNDED, key));
        }
        for ((day, plan, currency, interval), (subscribers, amount)) in &self.state {
            let key: Vec<Arg<'a>> = vec![
                project.into(),
                day.into(),
                plan.into(),
                currency.into(),
                interval.into(),
            ];
            let mut args = key.clone();
            args.extend([Arg::Int(*subscribers), Arg::Int(*amount)]);
            out.push((ADD_STATE, args));
            out.push((DROP_STATE, key));
        }
        for ((x, y), n) in &self.corners {
            let key: Vec<Arg<'a>> = vec![project.into(), x.into(), y.into()];
            let mut args = key.clone();
            args.push(Arg::Int(*n));
            out.push((ADD_CORNER, args));
            out.push((DROP_CORNER, key));
        }
        out
    }
}

/// A stored change as the rollup reads it.
pub fn change_row(c: &Change) -> ChangeRow {
    (
        c.ts,
        c.event_id.clone(),
        c.plan.clone(),
        c.status.clone(),
        c.amount,
        c.currency.clone(),
        c.interval.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    // 2027-01-01 00:00 UTC.
    const D0: i64 = 1_798_761_600_000;

    fn ch(day: i64, id: &str, status: &str) -> ChangeRow {
        (
            D0 + day * DAY + 1000,
            id.into(),
            "pro".into(),
            status.into(),
            100,
            "USD".into(),
            "month".into(),
        )
    }

    fn day(n: i64) -> String {
        ProjectTz::or_utc("UTC").day_of(D0 + n * DAY)
    }

    /// Brute force: counted at the start of `from`, canceled at the end of `to`.
    fn churned(changes: &[ChangeRow], from: i64, to: i64) -> i64 {
        let mut sorted = changes.to_vec();
        sorted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let start = sorted.iter().rfind(|c| c.0 < D0 + from * DAY);
        let end = sorted.iter().rfind(|c| c.0 < D0 + (to + 1) * DAY);
        i64::from(start.is_some_and(|c| counts(&c.3)) && end.is_some_and(|c| c.3 == "canceled"))
    }

    #[test]
    fn churn_corners_match_the_definition_on_every_period() {
        let tz = ProjectTz::or_utc("UTC");
        let histories: Vec<Vec<ChangeRow>> = vec![
            vec![ch(1, "a", "active"), ch(4, "b", "canceled")],
            vec![
                ch(1, "a", "trialing"),
                ch(2, "b", "active"),
                ch(3, "c", "past_due"),
                ch(5, "d", "canceled"),
                ch(6, "e", "active"),
                ch(6, "f", "canceled"),
                ch(8, "g", "active"),
                ch(9, "h", "canceled"),
            ],
            vec![ch(2, "b", "canceled"), ch(3, "a", "active")],
        ];
        for h in &histories {
            let mut c = Contributions::default();
            c.subscription(h, &tz, 1);
            for from in 0..12 {
                for to in from..12 {
                    let sum: i64 = c
                        .corners
                        .iter()
                        .filter(|((x, y), _)| *x < day(from) && *y <= day(to))
                        .map(|(_, n)| n)
                        .sum();
                    assert_eq!(sum, churned(h, from, to), "{h:?} {from}..{to}");
                }
            }
            // Without and with: the difference of the whole history is 0.
            c.subscription(h, &tz, -1);
            c.nonzero();
            assert_eq!(c, Contributions::default());
        }
    }
}
