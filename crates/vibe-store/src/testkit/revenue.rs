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
