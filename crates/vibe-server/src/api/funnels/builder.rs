//! Builds funnel rollups in the background (`vibe_store::funnel_build`), on the
//! scheduling node only (see `live::schedule`; on SQLite the only node). Each
//! chunk is a short transaction serialised with ingest; between chunks the
//! builder pauses so queued ingest batches go first. Woken at once by a funnel
//! created or edited on this node, otherwise it looks every `live_sweep_every`.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        if state.live.is_leader() {
            if let Err(e) = build_pending(&state, &stop).await {
                tracing::warn!(error = %e, "funnel build chunk failed; retrying");
            }
        }
        tokio::select! {
            _ = state.funnel_builds.notified() => {}
            _ = tokio::time::sleep(state.config.live_sweep_every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Builds every funnel that is not ready, one chunk at a time, until none is
/// left, this node stops leading, or the server stops.
async fn build_pending(state: &AppState, stop: &watch::Receiver<bool>) -> anyhow::Result<()> {
    loop {
        let pending = state.store.funnels_to_build().await?;
        if pending.is_empty() {
            return Ok(());
        }
        for (project_id, funnel_id) in pending {
            let started = Instant::now();
            let (mut chunks, mut longest) = (0u64, Duration::ZERO);
            loop {
                if *stop.borrow() || !state.live.is_leader() {
                    return Ok(());
                }
                let done = state
                    .store
                    .build_funnel_chunk(&project_id, &funnel_id, state.config.funnel_build_chunk)
                    .await?;
                chunks += 1;
                longest = longest.max(done.held);
                match done.state {
                    None => break,
                    Some(s) if s.is_ready() => {
                        tracing::info!(
                            project = %project_id,
                            funnel = %funnel_id,
                            chunks,
                            longest_hold_ms = longest.as_secs_f64() * 1000.0,
                            took_ms = started.elapsed().as_millis() as u64,
                            "funnel rollup built"
                        );
                        break;
                    }
                    Some(_) => {}
                }
                tokio::time::sleep(state.config.funnel_build_pause).await;
            }
        }
    }
}
