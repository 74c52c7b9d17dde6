//! Measures how long a funnel build holds the SQLite writer: the old
//! one-transaction rebuild (`rebuild_funnels`) against the longest single chunk
//! of the background build. Not a pass/fail test; run it by hand:
//! `VIBE_TIMING_DAYS=30 VIBE_TIMING_VISITORS=4000 cargo test -p vibe-store-sqlite \
//!  --test funnel_build_timing -- --ignored --nocapture`

use std::time::{Duration, Instant};

use vibe_store::funnel::{Funnel, FunnelStep, StepMatch};
use vibe_store::testkit::{new_project, synthetic_history, T0};
use vibe_store::{AnalyticsStore, FunnelStore, IngestJob, ProjectStore, TrackingStore};
use vibe_store_sqlite::SqliteStore;

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test]
#[ignore]
async fn funnel_build_writer_holds() {
    let dir = std::env::temp_dir().join(format!("vibe-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("t.db")).await.unwrap();
    let p = store
        .create_project(&new_project("Timing"), None)
        .await
        .unwrap();
    let history = synthetic_history(
        env("VIBE_TIMING_DAYS", 30),
        env("VIBE_TIMING_VISITORS", 4000) as u64,
    );
    for batch in history {
        let jobs = IngestJob::per_project(&p, &batch, 500, T0);
        store.ingest(&jobs).await.unwrap();
    }
    let events = store.event_time_bounds(&p.id).await.unwrap();
    let step = |kind, value: &str, prefix| FunnelStep {
        kind,
        value: value.into(),
        prefix,
        name: None,
    };
    let f = Funnel {
        id: "f".into(),
        name: "f".into(),
        steps: vec![
            step(StepMatch::Page, "/p0", false),
            step(StepMatch::Page, "/p", true),
            step(StepMatch::Event, "click", false),
        ],
        window_days: 7,
        created_at: T0,
        updated_at: T0,
    };
    store.create_funnel(&p.id, &f).await.unwrap();
    let chunk = env("VIBE_TIMING_CHUNK", 5000) as usize;
    let started = Instant::now();
    let (mut chunks, mut longest, mut held) = (0, Duration::ZERO, Duration::ZERO);
    loop {
        let done = store.build_funnel_chunk(&p.id, "f", chunk).await.unwrap();
        if std::env::var("VIBE_TIMING_VERBOSE").is_ok() {
            eprintln!(
                "{:?} {:.1} ms",
                done.state.as_ref().map(|s| (s.phase, s.scanned_to)),
                done.held.as_secs_f64() * 1000.0
            );
        }
        chunks += 1;
        longest = longest.max(done.held);
        held += done.held;
        if done.state.unwrap().is_ready() {
            break;
        }
    }
    let wall = started.elapsed();
    // The old way, after the chunked build so neither pays for the other's WAL.
    let started = Instant::now();
    store.rebuild_funnels(Some(&p.id), false).await.unwrap();
    let one_tx = started.elapsed();
    let count: i64 = store.count_events(&p.id).await.unwrap_or(-1);
    eprintln!(
        "events {count} (ts {events:?}); one-transaction rebuild {:.0} ms; chunked build (chunk {chunk}): {chunks} chunks, longest writer hold {:.1} ms, total held {:.0} ms, wall {:.0} ms",
        one_tx.as_secs_f64() * 1000.0,
        longest.as_secs_f64() * 1000.0,
        held.as_secs_f64() * 1000.0,
        wall.as_secs_f64() * 1000.0,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
