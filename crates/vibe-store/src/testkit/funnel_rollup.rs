//! The funnel rollup gives exactly what query-time conversion over the events
//! gives, whether a funnel was defined before the events (kept by ingest) or after
//! (built from events), through merges, re-pointed devices, late and repeated
//! events, edits and rebuilds.

use std::sync::Arc;

use serde_json::json;

use super::{job, msg, new_project, synthetic_history, T0};
use crate::funnel::{conversion, Funnel, FunnelStep, StepMatch};
use crate::{IngestJob, Project, Store};

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
    store: &dyn Store,
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

pub(super) async fn ingest_all(
    store: &dyn Store,
    p: &Project,
    batches: Vec<Vec<vibe_core::Message>>,
) {
    for batch in batches {
        let jobs: Vec<IngestJob> = batch.chunks(7).map(|c| job(p, c.to_vec())).collect();
        store.ingest(&jobs).await.unwrap();
    }
}

pub(super) async fn funnel_rollup_matches_query_time(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let other = store
        .create_project(&new_project("Other"), None)
        .await
        .unwrap();
    let shapes = shapes();
    for (i, (steps, w)) in shapes.iter().enumerate() {
        let f = funnel(&format!("early{i}"), steps, *w);
        store.create_funnel(&p.id, &f).await.unwrap();
    }
    super::funnel_build::build_all(store.as_ref(), 1000).await;
    let history = synthetic_history(9, 25);
    ingest_all(store.as_ref(), &p, history.clone()).await;
    ingest_all(store.as_ref(), &other, history[..3].to_vec()).await;

    // Devices changing hands, a late event from the past, and a retried batch.
    let late = vec![vec![
        // anon-0 belonged to user-0; now someone else signs in on it.
        msg(
            json!({"type":"identify","anonymous_id":"anon-0","session_id":"s-x","ts":T0 + 9 * D,"user_id":"someone-else"}),
        ),
        msg(
            json!({"type":"pageview","anonymous_id":"anon-0","session_id":"s-x","ts":T0 + 9 * D + 1,"url":"https://x.io/p0"}),
        ),
        // anon-2 belonged to user-1; it signs in as user-0, who exists.
        msg(
            json!({"type":"identify","anonymous_id":"anon-2","session_id":"s-y","ts":T0 + 9 * D + 2,"user_id":"user-0"}),
        ),
        msg(
            json!({"type":"event","anonymous_id":"anon-2","session_id":"s-y","ts":T0 + 9 * D + 3,"name":"click"}),
        ),
        // Arrives late: completes an attempt that started days ago.
        msg(
            json!({"type":"event","anonymous_id":"anon-3","session_id":"s-3-2","ts":T0 + 2 * D + 23 * 3_600_000,"name":"click"}),
        ),
    ]];
    ingest_all(store.as_ref(), &p, late.clone()).await;
    ingest_all(store.as_ref(), &p, late).await;

    // The same history keeps churn counters through the same merges and moves.
    super::assert_churn_matches(store.as_ref(), &p, "2027-01-10", "2027-02-05").await;

    for (i, (steps, w)) in shapes.iter().enumerate() {
        let f = funnel(&format!("late{i}"), steps, *w);
        store.create_funnel(&p.id, &f).await.unwrap();
    }
    super::funnel_build::build_all(store.as_ref(), 1000).await;
    for (i, (steps, w)) in shapes.iter().enumerate() {
        let (early, late) = (format!("early{i}"), format!("late{i}"));
        assert_rollup_matches(
            store.as_ref(),
            &p,
            &[&early, &late],
            steps,
            *w,
            "ingest vs build",
        )
        .await;
    }
    assert_eq!(
        store
            .funnel_reach_counts(&other.id, "early0", T0 - D)
            .await
            .unwrap(),
        vec![],
        "another project's funnel reads nothing"
    );

    // Editing a funnel rebuilds it; so does `stats rebuild`.
    let (steps, w) = (&shapes[2].0, 5);
    store
        .update_funnel(&p.id, &funnel("early0", steps, w))
        .await
        .unwrap();
    super::funnel_build::build_all(store.as_ref(), 1000).await;
    assert_rollup_matches(store.as_ref(), &p, &["early0"], steps, w, "after edit").await;
    assert_eq!(store.rebuild_funnels(Some(&p.id), true).await.unwrap(), 0);
    assert_eq!(store.rebuild_funnels(Some(&p.id), false).await.unwrap(), 6);
    for (i, (steps, w)) in shapes.iter().enumerate().skip(1) {
        let (early, late) = (format!("early{i}"), format!("late{i}"));
        assert_rollup_matches(
            store.as_ref(),
            &p,
            &[&early, &late],
            steps,
            *w,
            "after rebuild",
        )
        .await;
    }

    store.delete_funnel(&p.id, "late1").await.unwrap();
    assert!(store
        .funnel_reach_counts(&p.id, "late1", T0 - D)
        .await
        .unwrap()
        .is_empty());
}
