//! Keeps the writer running. The writer runs as its own task; if it dies (a
//! panic anywhere in it), the supervisor marks it down (`/readyz` answers 503),
//! counts `vibe_writer_restarts_total` and starts a new run on the same queue, so
//! nothing waiting is lost. Requests that were in the dead run's batch have their
//! reply dropped and are answered 503 (they were not acknowledged; the tracker
//! retries them with the same ids).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use vibe_store::Store;

use super::queue::{Queued, Shared};
use super::writer::{self, WriterCtx};
use crate::live::relay::Relay;

/// Pause before the first restart, doubled after each crash up to the maximum,
/// so a writer that dies at once on every start does not spin.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A run that lasted this long resets the backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(30);
/// While shutting down, give up after this many crashes in a row.
const MAX_CRASHES_WHILE_STOPPING: u32 = 3;

pub struct WriterHandle {
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl WriterHandle {
    /// Stops taking new jobs, commits everything already queued, then returns.
    pub async fn drain(self) {
        self.stop.send_replace(true);
        if let Err(e) = self.join.await {
            tracing::error!(error = %e, "ingest writer supervisor failed");
        }
    }
}

pub(crate) fn start(
    rx: mpsc::Receiver<Queued>,
    store: Arc<dyn Store>,
    relay: Arc<dyn Relay>,
    shared: Arc<Shared>,
) -> WriterHandle {
    let (stop, stopped) = watch::channel(false);
    let ctx = Arc::new(WriterCtx {
        store,
        relay,
        shared,
    });
    let join = tokio::spawn(supervise(Arc::new(Mutex::new(rx)), stopped, ctx));
    WriterHandle { stop, join }
}

async fn supervise(
    rx: Arc<Mutex<mpsc::Receiver<Queued>>>,
    stopped: watch::Receiver<bool>,
    ctx: Arc<WriterCtx>,
) {
    let shared = ctx.shared.clone();
    let mut backoff = FIRST_BACKOFF;
    let mut crashes_in_a_row = 0;
    loop {
        shared.writer_up.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let run = tokio::spawn(writer::run(rx.clone(), stopped.clone(), ctx.clone()));
        let died = match run.await {
            Ok(()) => break,
            Err(e) if e.is_cancelled() => break,
            Err(e) => e,
        };
        shared.writer_up.store(false, Ordering::SeqCst);
        tracing::error!(error = %died, "ingest writer died; restarting it on the same queue");
        if started.elapsed() >= HEALTHY_RUN {
            backoff = FIRST_BACKOFF;
            crashes_in_a_row = 0;
        }
        crashes_in_a_row += 1;
        if *stopped.borrow() && crashes_in_a_row >= MAX_CRASHES_WHILE_STOPPING {
            tracing::error!("ingest writer keeps dying during shutdown; giving up");
            break;
        }
        shared.faults.restart_allowed().await;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        shared
            .metrics
            .writer_restarts
            .fetch_add(1, Ordering::Relaxed);
    }
    shared.writer_up.store(false, Ordering::SeqCst);
}
