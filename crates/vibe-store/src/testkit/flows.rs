//! Flows: attempts kept at ingest on a hand-made history (a repeated start
//! while open, window expiry, fail, complete and fail on one event, merges,
//! another tenant, local days of a non-UTC project, late events), and the
//! rollup equal to a rebuild from stored events.

use super::fixture::*;
use super::T0;
use crate::flows::model::{Flow, FlowDay, FlowRollups};
use crate::funnel::{FunnelStep, StepMatch};
use crate::*;

const M: i64 = 60_000;
const H: i64 = 3_600_000;

fn ev(v: &str) -> FunnelStep {
    FunnelStep {
        kind: StepMatch::Event,
        value: v.into(),
        prefix: false,
        name: None,
    }
}

fn flow(name: &str, start: &str, complete: &str, fail: Option<&str>, hours: i64) -> Flow {
    // Created one millisecond apart, so "oldest first" is the order made.
    static N: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let at = T0 + N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Flow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.into(),
        start: ev(start),
        complete: ev(complete),
        fail: fail.map(ev),
        window_hours: hours,
        created_at: at,
        updated_at: at,
    }
}

fn day(d: &str, started: i64, completed: i64, failed: i64, ms: i64) -> FlowDay {
    FlowDay {
        day: d.into(),
        started,
        completed,
        failed,
        completion_ms_sum: ms,
    }
}

async fn days_of(fx: &Fixture, p: &Project, f: &Flow) -> Vec<FlowDay> {
    fx.flow_days(&p.id, &f.id, "2027-01-01", "2027-02-28")
        .await
        .unwrap()
        .days
}

pub async fn flow_attempts_follow_ingest(fx: Fixture) {
    // T0 is 03:00 on 2027-01-15 in New York.
    let p = fx.project_in("Site", "America/New_York").await;
    let other = fx.project("Other").await;
    let vision = flow("Vision", "v_start", "v_done", Some("v_fail"), 1);
    fx.create_flow(&p.id, &p.timezone, &vision).await.unwrap();
    let same = flow("Both", "go", "end", Some("end"), 1);
    fx.create_flow(&p.id, &p.timezone, &same).await.unwrap();
    let theirs = flow("Theirs", "v_start", "v_done", Some("v_fail"), 1);
    fx.create_flow(&other.id, &other.timezone, &theirs)
        .await
        .unwrap();
    assert_eq!(
        fx.list_flows(&p.id)
            .await
            .unwrap()
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["Vision", "Both"]
    );

    fx.ingest(
        &p,
        [
            // a: a repeated start while open is the same attempt.
            event("a", "sa", T0, "v_start"),
            event("a", "sa", T0 + M, "v_start"),
            event("a", "sa", T0 + 10 * M, "v_done"),
            event("a", "sa", T0 + 11 * M, "v_done"),
            // b: the window passes (abandoned), a new start, then a fail.
            event("b", "sb", T0, "v_start"),
            event("b", "sb", T0 + 2 * H, "v_start"),
            event("b", "sb", T0 + 2 * H + 5 * M, "v_fail"),
            // c: complete and fail on one event: complete wins.
            event("c", "sc", T0, "go"),
            event("c", "sc", T0 + 5_000, "end"),
            // d: starts at 23:00 on the 14th in New York, ends exactly at the
            // window's end on the 15th: counted on the 14th.
            event("d", "sd", T0 - 4 * H, "v_start"),
            event("d", "sd", T0 - 3 * H, "v_done"),
            // A complete without an attempt does nothing.
            event("z", "sz", T0, "v_done"),
            // m1 and k1 are known users; m2 and k2 start anonymously.
            identify("m1", "sm1", T0 - H, "mu"),
            event("m2", "sm2", T0 + 5 * M, "v_start"),
            identify("k1", "sk1", T0 - H, "ku"),
            event("k1", "sk1", T0 + 30 * M, "v_start"),
            event("k2", "sk2", T0 + 10 * M, "v_start"),
        ],
    )
    .await;
    // Another tenant's events count only there.
    fx.ingest(
        &other,
        [
            event("a", "sa", T0, "v_start"),
            event("a", "sa", T0 + M, "v_fail"),
        ],
    )
    .await;
    let m2 = fx.person_of(&p, "m2").await.id;
    // The merges: m2's open attempt moves to mu; both k people have an open
    // attempt, and the earlier-started one (k2's) is kept.
    fx.ingest(
        &p,
        [
            identify("m2", "sm2", T0 + 6 * M, "mu"),
            identify("k2", "sk2", T0 + 31 * M, "ku"),
        ],
    )
    .await;
    let mu = fx.person_of(&p, "m1").await.id;
    assert_eq!(fx.person_of(&p, "m2").await.id, mu, "merged");
    fx.ingest(
        &p,
        [
            event("m1", "sm1", T0 + 20 * M, "v_done"),
            event("k1", "sk1", T0 + 40 * M, "v_done"),
        ],
    )
    .await;

    assert_eq!(
        days_of(&fx, &p, &vision).await,
        [
            day("2027-01-14", 1, 1, 0, H),
            // a 10 min, mu 15 min, ku 30 min (from k2's start).
            day("2027-01-15", 6, 3, 1, 10 * M + 15 * M + 30 * M),
        ]
    );
    assert_eq!(
        days_of(&fx, &p, &same).await,
        [day("2027-01-15", 1, 1, 0, 5_000)]
    );
    assert_eq!(
        days_of(&fx, &other, &theirs).await,
        [day("2027-01-15", 1, 0, 1, 0)]
    );
    let rollups = fx.flow_rollups(&p.id, &vision.id).await.unwrap();
    assert!(
        !rollups.attempts.iter().any(|a| a.site_user_id == m2),
        "m2's attempt moved"
    );
    let of = |person: &str| {
        rollups
            .attempts
            .iter()
            .find(|a| a.site_user_id == person)
            .map(|a| (a.started_at, a.outcome.clone(), a.ended_at))
    };
    assert_eq!(of(&mu), Some((T0 + 5 * M, "completed".into(), T0 + 20 * M)));
    let ku = fx.person_of(&p, "k1").await.id;
    assert_eq!(
        of(&ku),
        Some((T0 + 10 * M, "completed".into(), T0 + 40 * M))
    );

    // The histogram: one completion per duration, on the start's day.
    let r = fx
        .flow_days(&p.id, &vision.id, "2027-01-15", "2027-01-15")
        .await
        .unwrap();
    let buckets: Vec<i64> = r.durations.iter().map(|(b, _)| *b).collect();
    let expected: Vec<i64> = [10 * M, 15 * M, 30 * M]
        .map(flows::attempt::bucket_of)
        .to_vec();
    assert_eq!(buckets, expected);
    assert!(r.durations.iter().all(|(_, n)| *n == 1));
    let median = flows::attempt::median_seconds(&r.durations).unwrap();
    assert!((median - 900.0).abs() / 900.0 < 0.05, "{median}");

    // Days outside the range read nothing.
    assert!(fx
        .flow_days(&p.id, &vision.id, "2027-02-01", "2027-02-02")
        .await
        .unwrap()
        .days
        .is_empty());

    // Deleting a flow removes its rollup; another project cannot.
    assert!(matches!(
        fx.delete_flow(&other.id, &vision.id).await,
        Err(StoreError::NotFound)
    ));
    fx.delete_flow(&p.id, &same.id).await.unwrap();
    assert_eq!(
        fx.flow_rollups(&p.id, &same.id).await.unwrap(),
        FlowRollups::default()
    );
    assert!(fx.get_flow(&p.id, &same.id).await.unwrap().is_none());
}

/// A history of `people` devices over three days, in batches in time order
/// (shuffled inside each batch), with merges into people who have no attempt.
fn history(people: usize) -> Vec<Vec<vibe_core::Message>> {
    let names = ["v_start", "v_start", "v_done", "v_fail", "other", "v_start"];
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut batches = Vec::new();
    let mut ts = T0 - 20 * H;
    for b in 0..24 {
        let mut batch: Vec<vibe_core::Message> = Vec::new();
        for _ in 0..12 {
            ts += (next(50) as i64 + 1) * M;
            let who = next(people as u64) as usize;
            let name = names[next(names.len() as u64) as usize];
            batch.push(event(&format!("dev{who}"), &format!("s{who}"), ts, name).into());
        }
        if b % 6 == 3 {
            // A user seen only through pageviews absorbs a device.
            let who = next(people as u64) as usize;
            ts += M;
            batch
                .push(pageview(&format!("known{b}"), &format!("k{b}"), ts, "https://x.io/").into());
            batch.push(
                identify(&format!("known{b}"), &format!("k{b}"), ts, &format!("u{b}")).into(),
            );
            ts += M;
            batch.push(
                identify(
                    &format!("dev{who}"),
                    &format!("s{who}"),
                    ts,
                    &format!("u{b}"),
                )
                .into(),
            );
        }
        let n = batch.len();
        for i in 0..n {
            let j = next(n as u64) as usize;
            batch.swap(i, j);
        }
        batches.push(batch);
    }
    batches
}

/// Rows of `f` without the flow id, to compare two flows' rollups.
async fn rows(fx: &Fixture, p: &Project, f: &Flow) -> FlowRollups {
    let mut r = fx.flow_rollups(&p.id, &f.id).await.unwrap();
    for a in &mut r.attempts {
        a.flow_id.clear();
    }
    r
}

pub async fn flow_rebuild_matches_incremental(fx: Fixture) {
    let p = fx.project_in("Site", "Europe/Berlin").await;
    let kept = flow("Kept", "v_start", "v_done", Some("v_fail"), 2);
    fx.create_flow(&p.id, &p.timezone, &kept).await.unwrap();
    fx.ingest_history(&p, history(9)).await;
    let incremental = rows(&fx, &p, &kept).await;
    let total: i64 = incremental.days.iter().map(|d| d.started).sum();
    let ended: i64 = incremental
        .days
        .iter()
        .map(|d| d.completed + d.failed)
        .sum();
    assert!(
        total > 20 && ended > 5 && ended < total,
        "a varied history: {incremental:?}"
    );
    assert!(incremental.days.len() >= 2, "several local days");

    // A flow created now is built from the stored events: the same rows.
    let built = flow("Built", "v_start", "v_done", Some("v_fail"), 2);
    fx.create_flow(&p.id, &p.timezone, &built).await.unwrap();
    assert_eq!(rows(&fx, &p, &built).await, incremental);

    // `vibe stats rebuild` (rollup::rebuild) gives the same rows again.
    let (f, t) = (
        jiff::civil::date(2027, 1, 13),
        jiff::civil::date(2027, 1, 20),
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(rows(&fx, &p, &kept).await, incremental);
    assert_eq!(rows(&fx, &p, &built).await, incremental);

    // Editing a flow rebuilds it with the new definition.
    let wider = Flow {
        window_hours: 48,
        updated_at: T0 + 1,
        ..built.clone()
    };
    fx.update_flow(&p.id, &p.timezone, &wider).await.unwrap();
    let fresh = flow("Fresh", "v_start", "v_done", Some("v_fail"), 48);
    fx.create_flow(&p.id, &p.timezone, &fresh).await.unwrap();
    assert_eq!(rows(&fx, &p, &wider).await, rows(&fx, &p, &fresh).await);
    assert_eq!(
        fx.get_flow(&p.id, &built.id)
            .await
            .unwrap()
            .unwrap()
            .window_hours,
        48
    );

    // A late event (older than the person's attempt's end) is left out at
    // ingest; a rebuild places it exactly.
    let late = fx.project("Late").await;
    let lf = flow("Late", "v_start", "v_done", Some("v_fail"), 1);
    fx.create_flow(&late.id, &late.timezone, &lf).await.unwrap();
    fx.ingest(
        &late,
        [
            event("e", "se", T0, "v_start"),
            event("e", "se", T0 + 20 * M, "v_done"),
        ],
    )
    .await;
    fx.ingest(&late, [event("e", "se", T0 + 10 * M, "v_fail")])
        .await;
    assert_eq!(
        days_of(&fx, &late, &lf).await,
        [day("2027-01-15", 1, 1, 0, 20 * M)]
    );
    assert_eq!(fx.rebuild_flows(&late.id, &late.timezone).await.unwrap(), 1);
    assert_eq!(
        days_of(&fx, &late, &lf).await,
        [day("2027-01-15", 1, 0, 1, 0)],
        "the fail came first"
    );
}
