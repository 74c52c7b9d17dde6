//! The funnel rollup gives exactly what query-time conversion over the events
//! gives, whether a funnel was defined before the events (kept by ingest) or after
//! (built from events), through merges, re-pointed devices, late and repeated
//! events, edits and rebuilds.

use vibe_core::Message;

use super::fixture::{event, identify, pageview, Fixture};
use super::rollups::{assert_churn_matches, synthetic_history};
use super::T0;
use crate::funnel::{conversion, Funnel, FunnelStep, StepMatch};
use crate::Project;

const D: i64 = 86_400_000;

pub(super) fn step(kind: StepMatch, value: &str, prefix: bool) -> FunnelStep {
    FunnelStep {
        kind,
        value: value.into(),
        prefix,
        name: None,
    }
}

pub(super) fn funnel(id: &str, steps: &[FunnelStep], window_days: i64) -> Funnel {
    Funnel {
        id: id.into(),
        name: id.into(),
        steps: steps.to_vec(),
        window_days,
        created_at: T0,
        updated_at: T0,
    }
}

pub(super) fn shapes() -> Vec<(Vec<FunnelStep>, i64)> {
    use StepMatch::{Event, Page};
    vec![
        (
            vec![
                step(Page, "/p0", false),
                step(Page, "/p", true),
                step(Event, "click", false),
            ],
            1,
        ),
        (
            vec![
                step(Page, "/p1", false),
                step(Page, "/p2", false),
                step(Event, "invoice", false),
            ],
            7,
        ),
        (
            vec![step(Event, "click", false), step(Page, "/p0", false)],
            2,
        ),
    ]
}

/// Query-time conversion (the reference) against the rollup, for several periods.
pub(super) async fn assert_rollup_matches(
    store: &Fixture,
    p: &Project,
    funnel_ids: &[&str],
    steps: &[FunnelStep],
    window_days: i64,
    label: &str,
) {
    let end = T0 + 100 * D;
    // Hour-aligned starts read only hour buckets; the others also the rows of their hour.
    for from in [
        T0 - D,
        T0 + 2 * D,
        T0 + 3 * D + 1_234_567,
        T0 + 4 * D + 45 * 60_000,
        T0 + 5 * D + 3 * 3_600_000,
        T0 + 8 * D,
        end,
    ] {
        let events = store.funnel_events(&p.id, steps, from, end).await.unwrap();
        let expected: Vec<i64> = conversion(steps, window_days, &events, from, end)
            .iter()
            .map(|s| s.users)
            .collect();
        if from == T0 - D {
            assert!(
                expected[0] > 0 && expected[1] > 0,
                "{label}: a trivial case {expected:?}"
            );
        }
        for fid in funnel_ids {
            let mut got = vec![0; steps.len()];
            for (k, n) in store.funnel_reach_counts(&p.id, fid, from).await.unwrap() {
                got[(k - 1) as usize] = n;
            }
            assert_eq!(got, expected, "{label}: funnel {fid}, from {from}");
        }
    }
}

/// Someone else signs in on anon-0, which belonged to user-0, and visits /p0.
pub(super) fn device_changes_hands() -> Vec<Message> {
    vec![
        identify("anon-0", "s-x", T0 + 9 * D, "someone-else").into(),
        pageview("anon-0", "s-x", T0 + 9 * D + 1, "https://x.io/p0").into(),
    ]
}

/// anon-2, which belonged to user-1, signs in as user-0 (who exists) and clicks.
pub(super) fn device_joins_user() -> Vec<Message> {
    vec![
        identify("anon-2", "s-y", T0 + 9 * D + 2, "user-0").into(),
        event("anon-2", "s-y", T0 + 9 * D + 3, "click").into(),
    ]
}

/// Arrives late: completes an attempt that started days ago.
pub(super) fn late_click() -> Message {
    event("anon-3", "s-3-2", T0 + 2 * D + 23 * 3_600_000, "click").into()
}

/// Each shape's `early{i}` and `late{i}` funnels (from `skip` on) match query time.
async fn assert_pairs_match(
    fx: &Fixture,
    p: &Project,
    shapes: &[(Vec<FunnelStep>, i64)],
    skip: usize,
    label: &str,
) {
    for (i, (steps, w)) in shapes.iter().enumerate().skip(skip) {
        let (early, late) = (format!("early{i}"), format!("late{i}"));
        assert_rollup_matches(fx, p, &[&early, &late], steps, *w, label).await;
    }
}

async fn create_all(fx: &Fixture, p: &Project, prefix: &str, shapes: &[(Vec<FunnelStep>, i64)]) {
    for (i, (steps, w)) in shapes.iter().enumerate() {
        let f = funnel(&format!("{prefix}{i}"), steps, *w);
        fx.create_funnel(&p.id, &f).await.unwrap();
    }
    super::funnel_build::build_all(fx, 1000).await;
}

pub(super) async fn funnel_rollup_matches_query_time(fx: Fixture) {
    let p = fx.project("Site").await;
    let other = fx.project("Other").await;
    let shapes = shapes();
    create_all(&fx, &p, "early", &shapes).await;
    let history = synthetic_history(9, 25);
    fx.ingest_history(&p, history.clone()).await;
    fx.ingest_history(&other, history[..3].to_vec()).await;

    // Devices changing hands, a late event from the past, and a retried batch.
    let late = vec![[
        device_changes_hands(),
        device_joins_user(),
        vec![late_click()],
    ]
    .concat()];
    fx.ingest_history(&p, late.clone()).await;
    fx.ingest_history(&p, late).await;

    // The same history keeps churn counters through the same merges and moves.
    assert_churn_matches(&*fx, &p, "2027-01-10", "2027-02-05").await;

    create_all(&fx, &p, "late", &shapes).await;
    assert_pairs_match(&fx, &p, &shapes, 0, "ingest vs build").await;
    assert_eq!(
        fx.funnel_reach_counts(&other.id, "early0", T0 - D)
            .await
            .unwrap(),
        vec![],
        "another project's funnel reads nothing"
    );

    // Editing a funnel rebuilds it; so does `stats rebuild`.
    let (steps, w) = (&shapes[2].0, 5);
    fx.update_funnel(&p.id, &funnel("early0", steps, w))
        .await
        .unwrap();
    super::funnel_build::build_all(&fx, 1000).await;
    assert_rollup_matches(&fx, &p, &["early0"], steps, w, "after edit").await;
    assert_eq!(fx.rebuild_funnels(Some(&p.id), true).await.unwrap(), 0);
    assert_eq!(fx.rebuild_funnels(Some(&p.id), false).await.unwrap(), 6);
    assert_pairs_match(&fx, &p, &shapes, 1, "after rebuild").await;

    fx.delete_funnel(&p.id, "late1").await.unwrap();
    assert!(fx
        .funnel_reach_counts(&p.id, "late1", T0 - D)
        .await
        .unwrap()
        .is_empty());
}
