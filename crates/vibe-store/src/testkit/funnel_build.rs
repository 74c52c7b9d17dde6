//! A funnel built in many small chunks, with ingestion — new events, late
//! events, merges and re-pointed devices — and an edit between the chunks, ends
//! with exactly the query-time conversion.

use super::fixture::{identify, Fixture};
use super::funnel_rollup::{
    assert_rollup_matches, device_changes_hands, device_joins_user, funnel, late_click, shapes,
    step,
};
use super::rollups::synthetic_history;
use super::T0;
use crate::funnel::StepMatch;
use crate::funnel_build::Phase;

const D: i64 = 86_400_000;

/// Builds every funnel that is not ready, as the server's builder does.
pub(super) async fn build_all(store: &Fixture, chunk: usize) {
    for _ in 0..1_000_000 {
        let pending = store.funnels_to_build().await.unwrap();
        if pending.is_empty() {
            return;
        }
        for (project_id, funnel_id) in pending {
            store
                .build_funnel_chunk(&project_id, &funnel_id, chunk)
                .await
                .unwrap();
        }
    }
    panic!("funnel builds never finished");
}

async fn phase_of(store: &Fixture, project_id: &str, funnel_id: &str) -> Phase {
    store
        .funnel_build_states(project_id)
        .await
        .unwrap()
        .into_iter()
        .find(|(id, _)| id == funnel_id)
        .map(|(_, s)| s.phase)
        .unwrap()
}

pub(super) async fn chunked_build_matches_query_time(fx: Fixture) {
    let p = fx.project("Site").await;
    let history = synthetic_history(9, 25);
    fx.ingest_history(&p, history[..4].to_vec()).await;
    let mut shapes = shapes();
    let ids: Vec<String> = (0..shapes.len()).map(|i| format!("chunked{i}")).collect();
    for (id, (steps, w)) in ids.iter().zip(&shapes) {
        fx.create_funnel(&p.id, &funnel(id, steps, *w))
            .await
            .unwrap();
        assert_eq!(phase_of(&fx, &p.id, id).await, Phase::Hits);
    }
    let states = fx.funnel_build_states(&p.id).await.unwrap();
    assert!(states.iter().all(|(_, s)| s.status() == "building"));
    assert_eq!(fx.funnels_to_build().await.unwrap().len(), 3);

    // The rest of the history in small batches, one every few chunks.
    let mut pending: Vec<Vec<vibe_core::Message>> = history[4..]
        .concat()
        .chunks(10)
        .map(|c| c.to_vec())
        .collect();
    pending.reverse();
    let hands_change = vec![[device_changes_hands(), vec![late_click()]].concat()];
    let merges = vec![[
        device_joins_user(),
        vec![identify("anon-7", "s-z", T0 + D + 5, "user-1").into()],
    ]
    .concat()];
    let mut merged_in_reach = false;
    let mut seen = [false; 4];
    let mut round = 0;
    loop {
        round += 1;
        let mut all_ready = true;
        for id in &ids {
            let done = fx.build_funnel_chunk(&p.id, id, 4).await.unwrap();
            let phase = done.state.unwrap().phase;
            seen[phase.code() as usize] = true;
            if phase == Phase::Reach && !merged_in_reach {
                merged_in_reach = true;
                fx.ingest_history(&p, merges.clone()).await;
            }
            all_ready &= phase == Phase::Ready;
        }
        if round == 3 {
            fx.ingest_history(&p, hands_change.clone()).await;
        }
        if round == 10 {
            // An edit restarts the build, clearing the old definition's rows first.
            use StepMatch::{Event, Page};
            shapes[0] = (vec![step(Page, "/p", true), step(Event, "click", false)], 3);
            fx.update_funnel(&p.id, &funnel(&ids[0], &shapes[0].0, shapes[0].1))
                .await
                .unwrap();
            assert_eq!(phase_of(&fx, &p.id, &ids[0]).await, Phase::Clear);
        }
        if round % 3 == 0 {
            if let Some(batch) = pending.pop() {
                fx.ingest_history(&p, vec![batch]).await;
            }
        }
        if all_ready && pending.is_empty() && merged_in_reach {
            break;
        }
        assert!(round < 100_000, "the build never finished");
    }
    assert!(seen.iter().all(|s| *s), "every phase ran: {seen:?}");
    assert!(fx.funnels_to_build().await.unwrap().is_empty());
    for (id, (steps, w)) in ids.iter().zip(&shapes) {
        assert_rollup_matches(&fx, &p, &[id], steps, *w, "chunked build").await;
    }
    // Once ready, ingest keeps it exact as before.
    fx.ingest_history(&p, merges).await;
    fx.ingest_history(&p, hands_change).await;
    for (id, (steps, w)) in ids.iter().zip(&shapes) {
        assert_rollup_matches(&fx, &p, &[id], steps, *w, "after the build").await;
    }
}
