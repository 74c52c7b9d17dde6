//! Revenue: payments and subscriptions kept at ingest from the reserved
//! events, the report's maths (refunds, yearly MRR, conversion through a
//! cross rate, a missing rate, churn), replays, merges and rebuilds.

use serde_json::{json, Value};
use vibe_core::Message;

use super::fixture::*;
use super::T0;
use crate::revenue::{CurrencyAmount, Interval, PeriodRevenue, PlanRevenue, RevenueQuery};

const DAY: i64 = 86_400_000;

fn payment(user: &str, ts: i64, props: Value) -> Msg {
    server_event(user, ts, "payment").with("props", props)
}

#[allow(clippy::too_many_arguments)]
fn subscription(
    user: &str,
    ts: i64,
    id: &str,
    plan: &str,
    status: &str,
    amount: i64,
    currency: &str,
    interval: &str,
) -> Msg {
    server_event(user, ts, "subscription").with(
        "props",
        json!({"subscription_id": id, "plan": plan, "status": status, "amount": amount,
               "currency": currency, "interval": interval}),
    )
}

fn query(from: &str, to: &str, interval: Interval) -> RevenueQuery {
    RevenueQuery {
        from: vibe_core::day::parse_day(from).unwrap(),
        to: vibe_core::day::parse_day(to).unwrap(),
        interval,
    }
}

/// T0 is 2027-01-15 08:00 UTC; the report covers 2027-01-14 … 2027-01-20.
pub async fn revenue_report_on_a_hand_made_history(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    fx.set_revenue_currency(&p.id, "EUR").await.unwrap();
    assert_eq!(fx.revenue_currency(&p.id).await.unwrap(), "EUR");
    assert_eq!(fx.revenue_currency(&other.id).await.unwrap(), "USD");
    // Units per 1 EUR (the ECB's way) on the 13th: two days before, within
    // the 7-day fallback. USD → EUR directly; no GBP rate at all.
    let rates = vec![("2027-01-13".to_string(), "USD".to_string(), 1.25)];
    fx.put_exchange_rates(&p.id, "EUR", &rates).await.unwrap();
    // A second base gives a cross rate CHF → EUR through USD (1 USD = 0.8 EUR).
    let usd_base = vec![("2027-01-13".to_string(), "CHF".to_string(), 0.5)];
    fx.put_exchange_rates(&p.id, "USD", &usd_base)
        .await
        .unwrap();
    let usd_eur = vec![("2027-01-13".to_string(), "EUR".to_string(), 0.8)];
    fx.put_exchange_rates(&p.id, "USD", &usd_eur).await.unwrap();

    let p1: Message = payment(
        "ana",
        T0,
        json!({"payment_id": "p1", "amount": 1000, "currency": "eur", "plan": "pro"}),
    )
    .into();
    fx.ingest(
        &p,
        [
            p1.clone(),
            payment(
                "bob",
                T0,
                json!({"payment_id": "p2", "amount": 1250, "currency": "USD", "plan": "basic"}),
            )
            .into(),
            payment(
                "ana",
                T0 + 1,
                json!({"payment_id": "p3", "amount": 500, "currency": "GBP"}),
            )
            .into(),
            payment(
                "cy",
                T0 + 2,
                json!({"payment_id": "p4", "amount": 100, "currency": "CHF", "plan": "pro"}),
            )
            .into(),
            subscription(
                "ana",
                T0 - 2 * DAY,
                "s1",
                "pro",
                "active",
                12_000,
                "EUR",
                "year",
            )
            .into(),
            subscription("bob", T0, "s2", "basic", "active", 900, "USD", "month").into(),
            subscription(
                "cy",
                T0 - 3 * DAY,
                "s3",
                "basic",
                "trialing",
                500,
                "EUR",
                "month",
            )
            .into(),
            subscription(
                "cy",
                T0 - 2 * DAY,
                "s3",
                "basic",
                "active",
                500,
                "EUR",
                "month",
            )
            .into(),
        ],
    )
    .await;
    // A retry (same message id) and a replay (new id, same payment id, later).
    let again = fx.ingest(&p, [p1]).await;
    assert_eq!(again[0].duplicates, 1);
    fx.ingest(
        &p,
        [payment(
            "ana",
            T0 + DAY,
            json!({"payment_id": "p1", "amount": 1000, "currency": "EUR", "plan": "pro"}),
        )],
    )
    .await;
    // Bob's payment is refunded two days later; Cy cancels on the 16th.
    fx.ingest(
        &p,
        [
            payment("bob", T0 + 2 * DAY, json!({"payment_id": "p2", "amount": 1250, "currency": "USD", "status": "refunded"})),
            subscription("cy", T0 + DAY, "s3", "basic", "canceled", 500, "EUR", "month"),
        ],
    )
    .await;
    // Another project's payment counts nowhere here.
    fx.ingest(
        &other,
        [payment(
            "ana",
            T0,
            json!({"payment_id": "p1", "amount": 99_999, "currency": "EUR"}),
        )],
    )
    .await;

    let r = fx
        .revenue_report(
            &p.id,
            &p.timezone,
            &query("2027-01-14", "2027-01-20", Interval::Day),
        )
        .await
        .unwrap();
    assert_eq!(r.currency, "EUR");
    // p1 1000 EUR + p2 1250 USD = 1000 EUR + p4 100 CHF = 200 USD = 160 EUR.
    assert_eq!((r.total, r.refunds, r.net), (2160, 1000, 1160));
    assert_eq!(
        r.unconverted,
        [CurrencyAmount {
            currency: "GBP".into(),
            amount: 500
        }]
    );
    // s1: 12000 a year = 1000 a month; s2: 900 USD = 720 EUR; s3 canceled.
    assert_eq!(r.mrr, 1720);
    assert!(r.unconverted_mrr.is_empty());
    // Ana, Bob and Cy were active; Bob's only payment was refunded.
    assert_eq!((r.active_users, r.paying_users, r.arpu), (3, 2, Some(387)));
    assert_eq!(
        r.by_plan,
        [
            PlanRevenue {
                plan: Some("pro".into()),
                revenue: 1160,
                mrr: 1000,
                subscribers: 1
            },
            PlanRevenue {
                plan: Some("basic".into()),
                revenue: 0,
                mrr: 720,
                subscribers: 1
            },
        ]
    );
    assert_eq!(r.series.len(), 7);
    assert_eq!(
        r.series[1],
        PeriodRevenue {
            period: "2027-01-15".into(),
            revenue: 2160
        }
    );
    assert_eq!(
        r.series[3],
        PeriodRevenue {
            period: "2027-01-17".into(),
            revenue: -1000
        }
    );
    assert_eq!(r.series.iter().map(|s| s.revenue).sum::<i64>(), r.net);
    // s1 and s3 were active on the 14th; s3 ended canceled.
    assert_eq!(
        (
            r.subscription_churn.active_at_start,
            r.subscription_churn.canceled
        ),
        (2, 1)
    );
    assert_eq!(r.subscription_churn.rate_pct, Some(50.0));
    // The payments' part alone (the overview's cards): the same payment
    // figures, nothing of subscriptions or people.
    let paid = fx
        .revenue_payments(&p.id, &query("2027-01-14", "2027-01-20", Interval::Day))
        .await
        .unwrap();
    assert_eq!(
        (
            paid.total,
            paid.refunds,
            paid.net,
            &paid.series,
            &paid.unconverted
        ),
        (r.total, r.refunds, r.net, &r.series, &r.unconverted)
    );
    assert_eq!(
        (paid.mrr, paid.active_users, paid.paying_users, paid.arpu),
        (0, 0, 0, None)
    );
    assert_eq!(paid.subscription_churn.active_at_start, 0);

    let months = fx
        .revenue_report(
            &p.id,
            &p.timezone,
            &query("2027-01-01", "2027-01-31", Interval::Month),
        )
        .await
        .unwrap();
    assert_eq!(
        months.series,
        [PeriodRevenue {
            period: "2027-01".into(),
            revenue: 1160
        }]
    );
    // Rates are used up to 7 days after their day: on the 21st the rates of
    // the 13th are too old, so s2's MRR is unconverted.
    let late = fx
        .revenue_report(
            &p.id,
            &p.timezone,
            &query("2027-01-21", "2027-01-21", Interval::Day),
        )
        .await
        .unwrap();
    assert_eq!((late.total, late.mrr), (0, 1000));
    assert_eq!(
        late.unconverted_mrr,
        [CurrencyAmount {
            currency: "USD".into(),
            amount: 900
        }]
    );
    assert_eq!(late.subscription_churn.active_at_start, 2);

    // The replay counted once, dated by its first message.
    let (payments, subs, changes) = fx.revenue_rows(&p.id).await.unwrap();
    assert_eq!(payments.len(), 4);
    let first = &payments[0];
    assert_eq!(
        (
            first.payment_id.as_str(),
            first.paid_at,
            first.status.as_str()
        ),
        ("p1", T0, "succeeded")
    );
    let refunded = &payments[1];
    assert_eq!(
        (
            refunded.status.as_str(),
            refunded.refunded_at,
            refunded.refund_day.as_deref()
        ),
        ("refunded", Some(T0 + 2 * DAY), Some("2027-01-17"))
    );
    assert_eq!(subs.len(), 3);
    assert_eq!(
        (
            subs[2].status.as_str(),
            subs[2].started_at,
            subs[2].canceled_at
        ),
        ("canceled", T0 - 3 * DAY, Some(T0 + DAY))
    );
    assert_eq!(changes.len(), 5);
    let rates = fx
        .exchange_rates(&p.id, "2027-01-01", "2027-01-31")
        .await
        .unwrap();
    assert_eq!(rates.len(), 3);
    assert!(fx
        .exchange_rates(&other.id, "0000", "9999")
        .await
        .unwrap()
        .is_empty());

    // Rebuilding from the stored events yields the same rows.
    assert_eq!(fx.rebuild_revenue(&p.id, &p.timezone).await.unwrap(), 11);
    assert_eq!(
        fx.revenue_rows(&p.id).await.unwrap(),
        (payments, subs, changes),
        "rebuild = incremental"
    );
    assert_eq!(
        fx.revenue_report(
            &p.id,
            &p.timezone,
            &query("2027-01-14", "2027-01-20", Interval::Day)
        )
        .await
        .unwrap(),
        r
    );
}

/// Out-of-order arrival: a refund seen before its payment, replays with other
/// times; the rows come out as if in order, and a rebuild agrees.
pub async fn revenue_upserts_ignore_arrival_order(fx: Fixture) {
    let p = fx.project("Shop").await;
    fx.ingest(
        &p,
        [payment(
            "ana",
            T0 + DAY,
            json!({"payment_id": "x", "amount": 700, "currency": "USD", "status": "refunded"}),
        )],
    )
    .await;
    fx.ingest(
        &p,
        [payment(
            "ana",
            T0,
            json!({"payment_id": "x", "amount": 700, "currency": "USD", "plan": "pro"}),
        )],
    )
    .await;
    fx.ingest(
        &p,
        [subscription(
            "ana",
            T0 + DAY,
            "s",
            "pro",
            "canceled",
            700,
            "USD",
            "month",
        )],
    )
    .await;
    fx.ingest(
        &p,
        [subscription(
            "ana", T0, "s", "pro", "active", 700, "USD", "month",
        )],
    )
    .await;
    let (payments, subs, changes) = fx.revenue_rows(&p.id).await.unwrap();
    let x = &payments[0];
    assert_eq!(
        (x.paid_at, x.day.as_str(), x.plan.as_deref()),
        (T0, "2027-01-15", Some("pro"))
    );
    assert_eq!(
        (x.status.as_str(), x.refunded_at),
        ("refunded", Some(T0 + DAY))
    );
    let s = &subs[0];
    assert_eq!(
        (s.status.as_str(), s.started_at, s.updated_at, s.canceled_at),
        ("canceled", T0, T0 + DAY, Some(T0 + DAY))
    );
    fx.rebuild_revenue(&p.id, &p.timezone).await.unwrap();
    assert_eq!(
        fx.revenue_rows(&p.id).await.unwrap(),
        (payments, subs, changes)
    );
}

/// An identify merging an anonymous payer into the identified person moves
/// their payments and subscriptions.
pub async fn merges_move_payments(fx: Fixture) {
    let p = fx.project("Shop").await;
    let anon_pay = payment(
        "ignored",
        T0,
        json!({"payment_id": "a-pay", "amount": 300, "currency": "USD"}),
    )
    .with("user_id", Value::Null)
    .with("anonymous_id", "anon-1");
    let anon_sub = subscription("ignored", T0, "a-sub", "pro", "active", 300, "USD", "month")
        .with("user_id", Value::Null)
        .with("anonymous_id", "anon-1");
    fx.ingest(&p, [anon_pay, anon_sub]).await;
    fx.ingest(
        &p,
        [payment(
            "u1",
            T0 + 1,
            json!({"payment_id": "u-pay", "amount": 200, "currency": "USD"}),
        )],
    )
    .await;
    let before = fx.payments_of(&p.id, "anon-1", 20).await.unwrap();
    assert_eq!(before.len(), 1);
    fx.ingest(&p, [identify("anon-1", "s-1", T0 + 2, "u1")])
        .await;
    let person = fx.person_of(&p, "anon-1").await;
    assert_ne!(person.id, "anon-1");
    let moved = fx.payments_of(&p.id, &person.id, 20).await.unwrap();
    let ids: Vec<&str> = moved.iter().map(|m| m.payment_id.as_str()).collect();
    assert_eq!(ids, ["u-pay", "a-pay"]);
    assert!(fx
        .payments_of(&p.id, "anon-1", 20)
        .await
        .unwrap()
        .is_empty());
    let (payments, subs, changes) = fx.revenue_rows(&p.id).await.unwrap();
    assert_eq!(subs[0].site_user_id, person.id);
    fx.rebuild_revenue(&p.id, &p.timezone).await.unwrap();
    assert_eq!(
        fx.revenue_rows(&p.id).await.unwrap(),
        (payments, subs, changes),
        "rebuild = incremental after a merge"
    );
    // The payers sketches moved the anonymous payer too, and a rollup rebuild
    // stores the same ones.
    let sketches = super::uniques::checked_sketches(&*fx, &p.id).await;
    assert!(sketches.keys().any(|(m, _, _)| m == "paying"));
    let day = vibe_core::day::parse_day("2027-01-15").unwrap();
    crate::rollup::rebuild(&*fx, &p, day, day).await.unwrap();
    assert_eq!(
        super::uniques::checked_sketches(&*fx, &p.id).await,
        sketches
    );
}

/// The report as `report::compute` makes it from the raw rows (every
/// subscription change before the end of `to`, `payments` grouped): the
/// reference the rollups must equal. The distinct counts (ARPU's active and
/// the paying people) are not the rollups' business: taken from `r`.
async fn report_from_raw_rows(
    fx: &Fixture,
    p: &crate::projects::Project,
    q: &RevenueQuery,
    r: &crate::revenue::RevenueReport,
) -> crate::revenue::RevenueReport {
    use crate::revenue::report::{self, Change, Inputs, Paid, Rates, Refunded, Subscriptions};
    use crate::revenue::ExchangeRate;
    const PAID: &str = "SELECT day, currency, plan, CAST(SUM(amount) AS BIGINT) FROM payments
         WHERE project_id = $1 AND day >= $2 AND day <= $3 GROUP BY day, currency, plan";
    const REFUNDED: &str =
        "SELECT refund_day, day, currency, plan, CAST(SUM(amount) AS BIGINT) FROM payments
         WHERE project_id = $1 AND refund_day >= $2 AND refund_day <= $3
         GROUP BY refund_day, day, currency, plan";
    const CHANGES: &str =
        "SELECT subscription_id, ts, event_id, plan, status, amount, currency, \"interval\"
         FROM subscription_changes WHERE project_id = $1 AND ts < $2";
    const RATES: &str = "SELECT base, currency, day, rate FROM exchange_rates
         WHERE project_id = $1 AND day <= $2";
    let db = fx.db();
    let tz = vibe_core::day::ProjectTz::or_utc(&p.timezone);
    let (from, to) = (q.from.to_string(), q.to.to_string());
    let range = (p.id.as_str(), from.as_str(), to.as_str());
    let paid: Vec<Paid> = db.all(PAID, range).await.unwrap();
    let refunded: Vec<Refunded> = db.all(REFUNDED, range).await.unwrap();
    let from_ms = tz.start_of(q.from);
    let end_ms = q.to.tomorrow().map(|d| tz.start_of(d)).unwrap();
    let changes: Vec<Change> = db.all(CHANGES, (p.id.as_str(), end_ms)).await.unwrap();
    let rates: Vec<ExchangeRate> = db.all(RATES, (p.id.as_str(), to.as_str())).await.unwrap();
    report::compute(
        q,
        Inputs {
            currency: fx.revenue_currency(&p.id).await.unwrap(),
            paid,
            refunded,
            paying_users: r.paying_users,
            active_users: r.active_users,
            subscriptions: Subscriptions::from_changes(changes, from_ms),
            rates: Rates::new(rates),
        },
    )
}

/// Every row of the four revenue rollups, sorted.
async fn rollup_rows(fx: &Fixture, project_id: &str) -> Vec<String> {
    let db = fx.db();
    let mut out = Vec::new();
    let paid: Vec<(String, String, String, i64, i64)> = db
        .all(
            "SELECT day, currency, plan, amount, payments FROM payment_days WHERE project_id = $1",
            (project_id,),
        )
        .await
        .unwrap();
    out.extend(paid.iter().map(|r| format!("paid {r:?}")));
    let refunded: Vec<(String, String, String, String, i64, i64)> = db
        .all(
            "SELECT refund_day, day, currency, plan, amount, payments FROM refund_days WHERE project_id = $1",
            (project_id,),
        )
        .await
        .unwrap();
    out.extend(refunded.iter().map(|r| format!("refunded {r:?}")));
    let state: Vec<(String, String, String, String, i64, i64)> = db
        .all(
            "SELECT day, plan, currency, \"interval\", subscribers, amount FROM subscription_state_days WHERE project_id = $1",
            (project_id,),
        )
        .await
        .unwrap();
    out.extend(state.iter().map(|r| format!("state {r:?}")));
    let corners: Vec<(String, String, i64)> = db
        .all(
            "SELECT x_day, y_day, n FROM subscription_churn_corners WHERE project_id = $1",
            (project_id,),
        )
        .await
        .unwrap();
    out.extend(corners.iter().map(|r| format!("corner {r:?}")));
    out.sort();
    out
}

/// The report read from the rollups equals `report::compute` over the raw
/// rows on every period of a hand-made history (yearly plan, upgrade,
/// past_due, cancel, reactivate-then-cancel, changes arriving out of order,
/// a refund before its payment, a replayed payment, two currencies and a
/// missing rate, a local time zone), and a rebuild yields the same rollups.
pub async fn revenue_rollups_match_the_raw_history(fx: Fixture) {
    // UTC-5 in January: T0 (08:00 UTC) is 03:00 on the 15th, T0 - 4 h the 14th.
    let p = fx.project_in("Shop", "America/New_York").await;
    let other = fx.project("Other").await;
    fx.set_revenue_currency(&p.id, "EUR").await.unwrap();
    let rates: Vec<(String, String, f64)> = ["2027-01-05", "2027-01-12", "2027-01-19"]
        .iter()
        .map(|d| (d.to_string(), "USD".to_string(), 1.25))
        .collect();
    fx.put_exchange_rates(&p.id, "EUR", &rates).await.unwrap();
    let h = 3_600_000;
    let sub = |user: &str,
               ts: i64,
               id: &str,
               plan: &str,
               status: &str,
               amount: i64,
               cur: &str,
               int: &str|
     -> Message { subscription(user, ts, id, plan, status, amount, cur, int).into() };
    let pay = |user: &str, ts: i64, props: Value| -> Message { payment(user, ts, props).into() };
    let batches: Vec<Vec<Message>> = vec![
        vec![
            // s1: yearly, from well before.
            sub(
                "ana",
                T0 - 20 * DAY,
                "s1",
                "pro",
                "active",
                12_000,
                "EUR",
                "year",
            ),
            // s2: monthly USD, upgraded on the 17th, then past_due and back.
            sub(
                "bob",
                T0 - 8 * DAY,
                "s2",
                "basic",
                "active",
                900,
                "USD",
                "month",
            ),
            sub(
                "bob",
                T0 + 2 * DAY,
                "s2",
                "pro",
                "active",
                2_900,
                "USD",
                "month",
            ),
            // s4: canceled later, arriving first (out of order).
            sub(
                "dan",
                T0 + 6 * DAY,
                "s4",
                "basic",
                "canceled",
                500,
                "EUR",
                "month",
            ),
            pay(
                "ana",
                T0,
                json!({"payment_id": "p1", "amount": 1000, "currency": "EUR", "plan": "pro"}),
            ),
            // A refund seen before its payment.
            pay(
                "bob",
                T0 + 3 * DAY,
                json!({"payment_id": "p2", "amount": 1250, "currency": "USD", "status": "refunded"}),
            ),
        ],
        vec![
            pay(
                "bob",
                T0 - 4 * h,
                json!({"payment_id": "p2", "amount": 1250, "currency": "USD", "plan": "basic"}),
            ),
            sub(
                "bob",
                T0 + 4 * DAY,
                "s2",
                "pro",
                "past_due",
                2_900,
                "USD",
                "month",
            ),
            sub(
                "bob",
                T0 + 5 * DAY,
                "s2",
                "pro",
                "active",
                2_900,
                "USD",
                "month",
            ),
            // s3: trial, active, canceled, reactivated, canceled again (all in the period).
            sub(
                "cy",
                T0 - 3 * DAY,
                "s3",
                "basic",
                "trialing",
                500,
                "EUR",
                "month",
            ),
            sub(
                "cy",
                T0 - 2 * DAY,
                "s3",
                "basic",
                "active",
                500,
                "EUR",
                "month",
            ),
            sub(
                "cy",
                T0 + DAY,
                "s3",
                "basic",
                "canceled",
                500,
                "EUR",
                "month",
            ),
            sub(
                "cy",
                T0 + 3 * DAY,
                "s3",
                "basic",
                "active",
                500,
                "EUR",
                "month",
            ),
            // A GBP plan: no rate at all.
            sub(
                "eve",
                T0 - 6 * DAY,
                "s5",
                "pro",
                "active",
                700,
                "GBP",
                "month",
            ),
            pay(
                "eve",
                T0 + h,
                json!({"payment_id": "p3", "amount": 700, "currency": "GBP", "plan": "pro"}),
            ),
            // A free plan's 0 payment still lists the plan.
            pay(
                "fay",
                T0 + 2 * h,
                json!({"payment_id": "p4", "amount": 0, "currency": "EUR", "plan": "free"}),
            ),
        ],
        vec![
            // s4's start, arriving after its cancel; two changes on one day.
            sub(
                "dan",
                T0 - 5 * DAY,
                "s4",
                "basic",
                "trialing",
                500,
                "EUR",
                "month",
            ),
            sub(
                "dan",
                T0 - 5 * DAY + h,
                "s4",
                "basic",
                "active",
                500,
                "EUR",
                "month",
            ),
            sub(
                "cy",
                T0 + 7 * DAY,
                "s3",
                "basic",
                "canceled",
                500,
                "EUR",
                "month",
            ),
            // s1 canceled at 23:00 local on the 22nd (the 23rd in UTC).
            sub(
                "ana",
                T0 + 7 * DAY + 20 * h,
                "s1",
                "pro",
                "canceled",
                12_000,
                "EUR",
                "year",
            ),
            // A replay of p1 dated earlier: the payment moves to its day.
            pay(
                "ana",
                T0 - DAY,
                json!({"payment_id": "p1", "amount": 1000, "currency": "EUR", "plan": "pro"}),
            ),
            pay(
                "gus",
                T0 + 4 * DAY,
                json!({"payment_id": "p5", "amount": 2000, "currency": "USD"}),
            ),
            pay(
                "gus",
                T0 + 6 * DAY,
                json!({"payment_id": "p5", "amount": 2000, "currency": "USD", "status": "refunded"}),
            ),
        ],
    ];
    fx.ingest_history(&p, batches).await;
    fx.ingest(
        &other,
        [sub(
            "ana", T0, "s1", "pro", "active", 99_999, "EUR", "month",
        )],
    )
    .await;

    let days: Vec<String> = (0..16)
        .map(|i| {
            vibe_core::day::parse_day("2027-01-08")
                .unwrap()
                .checked_add(jiff::Span::new().days(i))
                .unwrap()
                .to_string()
        })
        .collect();
    let check = |label: &'static str| {
        let (fx, p, days) = (&fx, &p, &days);
        async move {
            let mut seen_churn = false;
            for (i, from) in days.iter().enumerate() {
                for to in days[i..].iter().step_by(2) {
                    let q = query(from, to, Interval::Day);
                    let r = fx.revenue_report(&p.id, &p.timezone, &q).await.unwrap();
                    let want = report_from_raw_rows(fx, p, &q, &r).await;
                    assert_eq!(r, want, "{label}: {from}..{to}");
                    seen_churn |= r.subscription_churn.canceled > 1;
                }
            }
            assert!(seen_churn, "{label}: the history has churn");
        }
    };
    check("ingest").await;
    // Spot checks of the definitions on 2027-01-14 … 2027-01-23.
    let r = fx
        .revenue_report(
            &p.id,
            &p.timezone,
            &query("2027-01-14", "2027-01-23", Interval::Day),
        )
        .await
        .unwrap();
    // At the start of the 14th: s1, s2, s3 (active from the 13th), s4, s5.
    assert_eq!(r.subscription_churn.active_at_start, 5);
    // Canceled at the end of the 23rd: s1, s3, s4.
    assert_eq!(r.subscription_churn.canceled, 3);
    // Still counted: s2 (2900 USD = 2320 EUR); s5 is GBP.
    assert_eq!(r.mrr, 2320);
    assert_eq!(
        r.unconverted_mrr,
        [CurrencyAmount {
            currency: "GBP".into(),
            amount: 700
        }]
    );
    assert!(r.by_plan.iter().any(|b| b.plan.as_deref() == Some("free")));

    let before = rollup_rows(&fx, &p.id).await;
    assert!(!before.is_empty());
    fx.rebuild_revenue(&p.id, &p.timezone).await.unwrap();
    assert_eq!(rollup_rows(&fx, &p.id).await, before, "rebuild = ingest");
    check("rebuild").await;
    // Rebuilding one project leaves another's rollups.
    assert!(!rollup_rows(&fx, &other.id).await.is_empty());
}

/// Batches for the same subscription and payment ingested at the same time
/// (transactions at once on PostgreSQL): the rollups still equal a rebuild's.
/// A smoke test: the race the row locks prevent is narrow, and this case did
/// not catch it with the payment claim removed.
pub async fn concurrent_batches_keep_the_rollups(fx: Fixture) {
    let p = fx.project("Shop").await;
    let statuses = [
        "active", "past_due", "canceled", "active", "canceled", "trialing",
    ];
    for (i, status) in statuses.iter().enumerate() {
        let i = i as i64;
        let a = subscription(
            "ana",
            T0 + i * DAY,
            "s",
            "pro",
            status,
            700 + i,
            "USD",
            "month",
        );
        let b = subscription(
            "ana",
            T0 - i * DAY,
            "s",
            "pro",
            "active",
            600,
            "USD",
            "year",
        );
        let pa = payment(
            "bob",
            T0 + i * DAY,
            json!({"payment_id": "x", "amount": 100 + i, "currency": "USD", "plan": "pro"}),
        );
        let pb = payment(
            "cy",
            T0 + (5 - i) * DAY,
            json!({"payment_id": "x", "amount": 100, "currency": "USD", "status": if i % 2 == 0 { "refunded" } else { "succeeded" }}),
        );
        tokio::join!(
            fx.ingest(&p, [a]),
            fx.ingest(&p, [b]),
            fx.ingest(&p, [pa]),
            fx.ingest(&p, [pb])
        );
    }
    let before = rollup_rows(&fx, &p.id).await;
    fx.rebuild_revenue(&p.id, &p.timezone).await.unwrap();
    assert_eq!(
        rollup_rows(&fx, &p.id).await,
        before,
        "rebuild = concurrent ingest"
    );
}
