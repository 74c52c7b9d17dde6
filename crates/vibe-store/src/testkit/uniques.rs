//! Distinct people from the per-day sketches (`uniques`): the reports' counts
//! equal an exact `COUNT(DISTINCT …)` over the exact tables (a merge
//! included), the stored sketches are exactly those tables' sets while small,
//! a rebuild stores what ingest kept, and big days estimate within 3σ.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::features::LIVE;
use super::fixture::*;
use super::T0;
use crate::revenue::{Interval, RevenueQuery};
use crate::uniques::{self, Sketch};
use crate::*;

const DAY: i64 = 86_400_000;
const D0: &str = "2027-01-15";
const D1: &str = "2027-01-16";

fn ai(anon: &str, ts: i64, model: &str) -> Msg {
    event(anon, &format!("s-{anon}"), ts, "ai_usage").with(
        "props",
        json!({"model": model, "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.01}),
    )
}

fn payment(user: &str, ts: i64, id: &str, status: &str) -> Msg {
    server_event(user, ts, "payment").with(
        "props",
        json!({"payment_id": id, "amount": 100, "currency": "USD", "status": status}),
    )
}

fn query(from: &str, to: &str) -> RevenueQuery {
    RevenueQuery {
        from: vibe_core::day::parse_day(from).unwrap(),
        to: vibe_core::day::parse_day(to).unwrap(),
        interval: Interval::Day,
    }
}

/// What every distinct count is, recomputed exactly from the exact tables.
struct Exact {
    features: BTreeMap<String, i64>,
    active: i64,
    ai: i64,
    paying: i64,
}

async fn exact(store: &dyn Store, project: &str, from: &str, to: &str) -> Exact {
    let db = store.db();
    let range = (project, from, to);
    let features: Vec<(String, i64)> = db
        .all(
            "SELECT name, COUNT(DISTINCT site_user_id) FROM feature_user_days
             WHERE project_id = $1 AND day >= $2 AND day <= $3 GROUP BY name",
            range,
        )
        .await
        .unwrap();
    let count = |sql: &'static str| async move { db.scalar::<i64>(sql, range).await.unwrap() };
    Exact {
        features: features.into_iter().collect(),
        active: count("SELECT COUNT(DISTINCT site_user_id) FROM user_days WHERE project_id = $1 AND day >= $2 AND day <= $3").await,
        ai: count("SELECT COUNT(DISTINCT site_user_id) FROM ai_usage_days WHERE project_id = $1 AND day >= $2 AND day <= $3").await,
        paying: count("SELECT COUNT(DISTINCT site_user_id) FROM payments
             WHERE project_id = $1 AND day >= $2 AND day <= $3 AND (refund_day IS NULL OR refund_day > $3)").await,
    }
}

/// The reports' distinct counts of `from..=to` equal the exact ones.
async fn assert_reports_exact(fx: &Fixture, p: &Project, from: &str, to: &str) {
    let want = exact(&**fx, &p.id, from, to).await;
    let u = fx.feature_usage(&p.id, from, to).await.unwrap();
    let got: BTreeMap<String, i64> = u
        .features
        .iter()
        .map(|f| (f.name.clone(), f.unique_people))
        .collect();
    assert_eq!(got, want.features, "feature uniques {from}..{to}");
    assert_eq!(u.active_people, want.active, "active people {from}..{to}");
    let a = fx.ai_usage(&p.id, from, to, 50, 0, LIVE).await.unwrap();
    assert_eq!(a.users, want.ai, "AI users {from}..{to}");
    let r = fx
        .revenue_report(&p.id, &p.timezone, &query(from, to))
        .await
        .unwrap();
    assert_eq!(r.paying_users, want.paying, "paying {from}..{to}");
    assert_eq!(r.active_users, want.active, "ARPU's active {from}..{to}");
}

/// The stored sketches are exactly the exact tables' sets (all small here).
async fn assert_sketches_are_the_exact_sets(fx: &Fixture, p: &Project) {
    let stored = uniques::all_sketches(fx.db(), &p.id).await.unwrap();
    let exact = uniques::from_exact(fx.db(), &p.id, "0000-01-01", "9999-12-31")
        .await
        .unwrap();
    assert!(stored.values().all(Sketch::is_exact));
    assert_eq!(stored, exact, "sketches = exact tables");
}

pub async fn counts_match_exact_recomputation(fx: Fixture) {
    let p = fx.project("Site").await;
    let other = fx.project("Other").await;
    fx.ingest(
        &p,
        [
            event("a", "sa", T0, "click"),
            event("b", "sb", T0 + 1, "click"),
            pageview("c", "sc", T0 + 2, "/"),
            event("a", "sa", T0 + DAY, "click"),
            event("d", "sd", T0 + DAY, "export"),
            ai("a", T0 + 3, "gpt"),
            ai("b", T0 + DAY, "claude"),
            ai("a", T0 + DAY + 1, "claude"),
            payment("u1", T0, "p1", "succeeded"),
            payment("u2", T0, "p2", "succeeded"),
            payment("u3", T0 + DAY, "p3", "succeeded"),
            payment("u1", T0 + DAY, "p4", "succeeded"),
        ],
    )
    .await;
    // Refunds: u2's on the next day, u3's on its own day.
    fx.ingest(
        &p,
        [
            payment("u2", T0 + DAY, "p2", "refunded"),
            payment("u3", T0 + DAY + 5, "p3", "refunded"),
        ],
    )
    .await;
    // An anonymous person active, using a feature and AI and paying on D0…
    let anon_pay = payment("ignored", T0 + 10, "pm", "succeeded")
        .with("user_id", Value::Null)
        .with("anonymous_id", "m");
    fx.ingest(
        &p,
        [
            event("m", "sm", T0 + 4, "click"),
            event("m", "sm", T0 + 5, "export"),
            ai("m", T0 + 6, "gpt"),
            anon_pay,
        ],
    )
    .await;
    fx.ingest(&other, [event("z", "sz", T0, "click")]).await;
    for (from, to) in [(D0, D0), (D1, D1), (D0, D1)] {
        assert_reports_exact(&fx, &p, from, to).await;
    }
    let u = fx.feature_usage(&p.id, D0, D1).await.unwrap();
    assert_eq!(u.active_people, 8, "a b c d m u1 u2 u3");
    assert_sketches_are_the_exact_sets(&fx, &p).await;

    // … then identified as u1 (who paid as a server-side user): merged.
    fx.ingest(&p, [identify("m", "sm", T0 + DAY + 10, "u1")])
        .await;
    assert_eq!(fx.person_of(&p, "m").await.id, "uid:u1");
    for (from, to) in [(D0, D0), (D1, D1), (D0, D1)] {
        assert_reports_exact(&fx, &p, from, to).await;
    }
    let u = fx.feature_usage(&p.id, D0, D1).await.unwrap();
    assert_eq!(u.active_people, 7, "m is u1 now");
    let d0 = fx.feature_usage(&p.id, D0, D0).await.unwrap();
    let click = d0.features.iter().find(|f| f.name == "click").unwrap();
    assert_eq!(click.unique_people, 3, "a, b and u1 (was m)");
    let r = fx
        .revenue_report(&p.id, &p.timezone, &query(D0, D0))
        .await
        .unwrap();
    assert_eq!(r.paying_users, 2, "u1 (p1 and m's pm), u2 (refunded later)");
    let r = fx
        .revenue_report(&p.id, &p.timezone, &query(D0, D1))
        .await
        .unwrap();
    assert_eq!(
        r.paying_users, 1,
        "u2's and u3's payments are refunded by D1"
    );
    assert_sketches_are_the_exact_sets(&fx, &p).await;

    // A rebuild stores what ingest kept.
    let incremental = uniques::all_sketches(fx.db(), &p.id).await.unwrap();
    let rollups = fx.feature_rollups(&p.id).await.unwrap();
    assert!(!rollups.ai_models.is_empty());
    let (f, t) = (
        vibe_core::day::parse_day("2027-01-10").unwrap(),
        vibe_core::day::parse_day("2027-01-31").unwrap(),
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(
        uniques::all_sketches(fx.db(), &p.id).await.unwrap(),
        incremental
    );
    assert_eq!(fx.feature_rollups(&p.id).await.unwrap(), rollups);
    for (from, to) in [(D0, D0), (D1, D1), (D0, D1)] {
        assert_reports_exact(&fx, &p, from, to).await;
    }
    // The other project's sketches are its own.
    let o = fx.feature_usage(&other.id, D0, D1).await.unwrap();
    assert_eq!((o.active_people, o.features[0].unique_people), (1, 1));
}

/// A payment an earlier message re-dates stops counting on its old day.
pub async fn redated_payments_move_between_days(fx: Fixture) {
    let p = fx.project("Shop").await;
    fx.ingest(&p, [payment("ana", T0 + DAY, "x", "refunded")])
        .await;
    fx.ingest(&p, [payment("ana", T0, "x", "succeeded")]).await;
    for (from, to) in [(D0, D0), (D1, D1), (D0, D1)] {
        assert_reports_exact(&fx, &p, from, to).await;
    }
    let r = fx
        .revenue_report(&p.id, &p.timezone, &query(D0, D0))
        .await
        .unwrap();
    assert_eq!(r.paying_users, 1, "refunded only on D1");
    assert_sketches_are_the_exact_sets(&fx, &p).await;
}

/// Past 256 people a day the sketches are HyperLogLogs: counts within 3σ
/// (1.6 % each), a rebuild stores the same registers, and a merge does not
/// lose anyone.
pub async fn big_days_estimate_within_the_error(fx: Fixture) {
    let p = fx.project("Big").await;
    let n: i64 = 400;
    let batch: Vec<Msg> = (0..n)
        .flat_map(|i| {
            let anon = format!("anon-{i}");
            [
                event(&anon, &format!("s-{i}"), T0 + i, "click"),
                ai(&anon, T0 + i, "gpt"),
            ]
        })
        .collect();
    fx.ingest(&p, batch).await;
    let tolerance = (3.0 * 1.04 / 64.0 * n as f64).ceil() as i64;
    let within = |got: i64, want: i64, what: &str| {
        assert!((got - want).abs() <= tolerance, "{what}: {got} for {want}");
    };
    let u = fx.feature_usage(&p.id, D0, D0).await.unwrap();
    within(u.active_people, n, "active");
    within(u.features[0].unique_people, n, "click");
    within(
        fx.ai_usage(&p.id, D0, D0, 50, 0, LIVE).await.unwrap().users,
        n,
        "AI",
    );
    let stored = uniques::all_sketches(fx.db(), &p.id).await.unwrap();
    assert!(stored.values().all(|s| !s.is_exact()));
    // Ten more people the next day: the union over both days is an estimate too.
    let more: Vec<Msg> = (0..10)
        .map(|i| event(&format!("late-{i}"), "sl", T0 + DAY + i, "click"))
        .collect();
    fx.ingest(&p, more).await;
    within(
        fx.feature_usage(&p.id, D0, D1).await.unwrap().active_people,
        n + 10,
        "both days",
    );
    // A merge: the dense sketch gains the person merged into, keeps the other.
    fx.ingest(&p, [identify("anon-1", "s-1", T0 + DAY + 50, "someone")])
        .await;
    fx.ingest(&p, [identify("anon-2", "s-2", T0 + DAY + 60, "someone")])
        .await;
    within(
        fx.feature_usage(&p.id, D0, D1).await.unwrap().active_people,
        n + 9,
        "merged",
    );
    let incremental = uniques::all_sketches(fx.db(), &p.id).await.unwrap();
    let (f, t) = (
        vibe_core::day::parse_day("2027-01-10").unwrap(),
        vibe_core::day::parse_day("2027-01-31").unwrap(),
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    let rebuilt = uniques::all_sketches(fx.db(), &p.id).await.unwrap();
    assert_eq!(
        rebuilt.keys().collect::<Vec<_>>(),
        incremental.keys().collect::<Vec<_>>()
    );
    // The small day is exact either way; the big ones may differ by the merged
    // person a dense sketch could not forget.
    for (k, s) in &rebuilt {
        let diff = incremental[k].count() - s.count();
        assert!((0..=2).contains(&diff), "{k:?}: {diff}");
    }
    within(
        fx.feature_usage(&p.id, D0, D1).await.unwrap().active_people,
        n + 9,
        "rebuilt",
    );
}

/// The stored sketches of a project, checked against the exact tables first
/// (for the other modules' rebuild-equality cases).
pub async fn checked_sketches(
    store: &dyn Store,
    project: &str,
) -> BTreeMap<(String, String, String), Sketch> {
    let stored = uniques::all_sketches(store.db(), project).await.unwrap();
    let exact = uniques::from_exact(store.db(), project, "0000-01-01", "9999-12-31")
        .await
        .unwrap();
    assert_eq!(stored, exact, "sketches = exact tables");
    stored
}

/// Concurrent batches for the same day (PostgreSQL: several connections, as
/// several nodes would) lose no one: each locks the day's sketches first.
pub async fn concurrent_batches_lose_no_one(fx: Fixture) {
    let p = fx.project("Busy").await;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (store, p) = (fx.shared(), p.clone());
            tokio::spawn(async move {
                let batch: Vec<vibe_core::Message> = (0..20)
                    .map(|i| event(&format!("t{t}-{i}"), &format!("s{t}"), T0 + i, "click").into())
                    .collect();
                store.ingest(&[job(&p, batch)]).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let u = fx.feature_usage(&p.id, D0, D0).await.unwrap();
    assert_eq!((u.active_people, u.features[0].unique_people), (160, 160));
    assert_sketches_are_the_exact_sets(&fx, &p).await;
}
