//! A funnel built in many small chunks, with ingestion — new events, late
//! events, merges and re-pointed devices — and an edit between the chunks, ends
//! with exactly the query-time conversion.

use std::sync::Arc;

use serde_json::json;

use super::funnel_rollup::{assert_rollup_matches, funnel, ingest_all, shapes, step};
use super::{msg, new_project, synthetic_history, T0};
use crate::funnel::StepMatch;
use crate::funnel_build::Phase;
use crate::Store;

const D: i64 = 86_400_000;

/// Builds every funnel that is not ready, as the server's builder does.
pub(super) async fn build_all(store: &dyn Store, chunk: usize) {
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

async fn phase_of(store: &dyn Store, project_id: &str, funnel_id: &str) -> Phase {
    store
        .funnel_build_states(project_id)
        .await
        .unwrap()
        .into_iter()
        .find(|(id, _)| id == funnel_id)
        .map(|(_, s)| s.phase)
        .unwrap()
}

pub(super) async fn chunked_build_matches_query_time(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let history = synthetic_history(9, 25);
    ingest_all(store.as_ref(), &p, history[..4].to_vec()).await;
    let mut shapes = shapes();
    let ids: Vec<String> = (0..shapes.len()).map(|i| format!("chunked{i}")).collect();
    for (id, (steps, w)) in ids.iter().zip(&shapes) {
        store
            .create_funnel(&p.id, &funnel(id, steps, *w))
            .await
            .unwrap();
        assert_eq!(phase_of(store.as_ref(), &p.id, id).await, Phase::Hits);
    }
    let states = store.funnel_build_states(&p.id).await.unwrap();
    assert!(states.iter().all(|(_, s)| s.status() == "building"));
    assert_eq!(store.funnels_to_build().await.unwrap().len(), 3);

    // The rest of the history in small batches, one every few chunks.
    let mut pending: Vec<Vec<vibe_core::Message>> = history[4..]
        .concat()
        .chunks(10)
        .map(|c| c.to_vec())
        .collect();
    pending.reverse();
    let hands_change = vec![vec![
        msg(
            json!({"type":"identify","anonymous_id":"anon-0","session_id":"s-x","ts":T0 + 9 * D,"user_id":"someone-else"}),
        ),
        msg(
            json!({"type":"pageview","anonymous_id":"anon-0","session_id":"s-x","ts":T0 + 9 * D + 1,"url":"https://x.io/p0"}),
        ),
        msg(
            json!({"type":"event","anonymous_id":"anon-3","session_id":"s-3-2","ts":T0 + 2 * D + 23 * 3_600_000,"name":"click"}),
        ),
    ]];
    let merges = vec![vec![
        msg(
            json!({"type":"identify","anonymous_id":"anon-2","session_id":"s-y","ts":T0 + 9 * D + 2,"user_id":"user-0"}),
        ),
        msg(
            json!({"type":"event","anonymous_id":"anon-2","session_id":"s-y","ts":T0 + 9 * D + 3,"name":"click"}),
        ),
        msg(
            json!({"type":"identify","anonymous_id":"anon-7","session_id":"s-z","ts":T0 + D + 5,"user_id":"user-1"}),
        ),
    ]];
    let mut merged_in_reach = false;
    let mut seen = [false; 4];
    let mut round = 0;
    loop {
        round += 1;
        let mut all_ready = true;
        for id in &ids {
            let done = store.build_funnel_chunk(&p.id, id, 4).await.unwrap();
            let phase = done.state.unwrap().phase;
            seen[phase.code() as usize] = true;
            if phase == Phase::Reach && !merged_in_reach {
                merged_in_reach = true;
                ingest_all(store.as_ref(), &p, merges.clone()).await;
            }
            all_ready &= phase == Phase::Ready;
        }
        if round == 3 {
            ingest_all(store.as_ref(), &p, hands_change.clone()).await;
        }
        if round == 10 {
            // An edit restarts the build, clearing the old definition's rows first.
            use StepMatch::{Event, Page};
            shapes[0] = (vec![step(Page, "/p", true), step(Event, "click", false)], 3);
            store
                .update_funnel(&p.id, &funnel(&ids[0], &shapes[0].0, shapes[0].1))
                .await
                .unwrap();
            assert_eq!(phase_of(store.as_ref(), &p.id, &ids[0]).await, Phase::Clear);
        }
        if round % 3 == 0 {
            if let Some(batch) = pending.pop() {
                ingest_all(store.as_ref(), &p, vec![batch]).await;
            }
        }
        if all_ready && pending.is_empty() && merged_in_reach {
            break;
        }
        assert!(round < 100_000, "the build never finished");
    }
    assert!(seen.iter().all(|s| *s), "every phase ran: {seen:?}");
    assert!(store.funnels_to_build().await.unwrap().is_empty());
    for (id, (steps, w)) in ids.iter().zip(&shapes) {
        assert_rollup_matches(store.as_ref(), &p, &[id], steps, *w, "chunked build").await;
    }
    // Once ready, ingest keeps it exact as before.
    ingest_all(store.as_ref(), &p, merges).await;
    ingest_all(store.as_ref(), &p, hands_change).await;
    for (id, (steps, w)) in ids.iter().zip(&shapes) {
        assert_rollup_matches(store.as_ref(), &p, &[id], steps, *w, "after the build").await;
    }
}
