//! The batching writer: takes up to [`MAX_REQUESTS_PER_BATCH`] waiting requests,
//! writes them in one transaction, then answers each. Closing the queue lets it
//! drain what is already queued and stop.
//!
//! **Failure isolation.** A batch mixes requests of every project, so one request
//! the database refuses must not fail the others (the tracker would retry them
//! all forever, and every tenant's ingestion would stall). When the database
//! refuses a batch's data (`StoreError::Rejected`/`Conflict`) or the store panics,
//! the writer splits the batch in halves and writes each, depth-first and in
//! order, until the failing requests are alone: the others commit, and only the
//! offender is answered 422. Retrying a rolled-back half is safe, events being
//! unique per project. Any other error (database unreachable, timeouts) fails the
//! whole batch with 503 at once: splitting would only multiply the wait.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{mpsc, watch, Mutex};
use vibe_store::{IngestJob, IngestOutcome, Store, StoreError};

pub use super::queue::counter;
use super::queue::{Queued, Reply, Shared, WriteError};
use crate::live::record;
use crate::live::relay::Relay;

/// Upper bound on messages written in one transaction.
const MAX_MESSAGES_PER_BATCH: usize = 10_000;
const MAX_REQUESTS_PER_BATCH: usize = 1024;

/// What the writer needs; shared with the supervisor across restarts.
pub(crate) struct WriterCtx {
    pub store: Arc<dyn Store>,
    pub relay: Arc<dyn Relay>,
    pub shared: Arc<Shared>,
}

/// One run of the writer, until the queue is closed and drained. The receiver
/// stays locked for the run; if the run panics the lock is released and the
/// supervisor's next run takes over the same queue.
pub(crate) async fn run(
    rx: Arc<Mutex<mpsc::Receiver<Queued>>>,
    mut stop: watch::Receiver<bool>,
    ctx: Arc<WriterCtx>,
) {
    let mut rx = rx.lock().await;
    let mut buf: Vec<Queued> = Vec::with_capacity(MAX_REQUESTS_PER_BATCH);
    let mut stopping = false;
    loop {
        let n = if stopping {
            rx.recv_many(&mut buf, MAX_REQUESTS_PER_BATCH).await
        } else {
            tokio::select! {
                n = rx.recv_many(&mut buf, MAX_REQUESTS_PER_BATCH) => n,
                // A dropped handle counts as a stop as well.
                _ = stop.wait_for(|s| *s) => {
                    // New submissions now fail fast; what is queued still commits.
                    rx.close();
                    stopping = true;
                    continue;
                }
            }
        };
        if n == 0 {
            break;
        }
        ctx.shared.taken(&buf);
        if ctx.shared.faults.take_crash() {
            panic!("injected writer failure (test hook WriterFaults::crash_next_batch)");
        }
        let mut taken = std::mem::take(&mut buf);
        while !taken.is_empty() {
            // Take no more than MAX_MESSAGES_PER_BATCH now; the rest goes next.
            let mut total = 0;
            let end = taken
                .iter()
                .position(|q| {
                    total += q.job.messages.len();
                    total > MAX_MESSAGES_PER_BATCH
                })
                .unwrap_or(taken.len())
                .max(1);
            let rest = taken.split_off(end);
            let (jobs, replies) = taken.into_iter().map(|q| (q.job, q.reply)).unzip();
            write_isolating(&ctx, jobs, replies).await;
            taken = rest;
        }
    }
    tracing::info!("ingest writer drained and stopped");
}

/// Why one write attempt failed.
enum Failure {
    /// The data of some request in the attempt is at fault.
    Data(String),
    /// The store panicked; possibly because of some request's data.
    Panic(String),
    /// Nothing points at a request: the database is down, slow or busy.
    Unavailable(String),
}

fn classify(e: StoreError) -> Failure {
    match e {
        StoreError::Rejected(m) | StoreError::Conflict(m) => Failure::Data(m),
        StoreError::Other(e) => match e.downcast_ref::<tokio::task::JoinError>() {
            // The SQLite store runs ingest on a blocking thread: a panic there
            // arrives as a join error.
            Some(j) if j.is_panic() => Failure::Panic(e.to_string()),
            _ => Failure::Unavailable(e.to_string()),
        },
        e => Failure::Unavailable(e.to_string()),
    }
}

async fn attempt(store: &dyn Store, jobs: &[IngestJob]) -> Result<Vec<IngestOutcome>, Failure> {
    match AssertUnwindSafe(store.ingest(jobs)).catch_unwind().await {
        Ok(Ok(outcomes)) => Ok(outcomes),
        Ok(Err(e)) => Err(classify(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "store panicked".into());
            Err(Failure::Panic(what))
        }
    }
}

/// Writes the requests, splitting on a data failure until it is isolated.
async fn write_isolating(ctx: &WriterCtx, jobs: Vec<IngestJob>, replies: Vec<Reply>) {
    let metrics = &ctx.shared.metrics;
    // Groups still to write, the next on top, so requests commit in queue order.
    let mut todo = vec![(jobs, replies)];
    while let Some((mut jobs, mut replies)) = todo.pop() {
        match attempt(ctx.store.as_ref(), &jobs).await {
            Ok(outcomes) => {
                // Committed: dashboards may hear of it now, before callers are answered.
                ctx.relay.publish(record::from_committed(&jobs, &outcomes));
                let (mut accepted, mut dups) = (0, 0);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    accepted += u64::from(outcome.accepted);
                    dups += u64::from(outcome.duplicates);
                    let _ = reply.send(Ok(outcome));
                }
                metrics.accepted.fetch_add(accepted, Ordering::Relaxed);
                metrics.duplicates.fetch_add(dups, Ordering::Relaxed);
                metrics.batches.fetch_add(1, Ordering::Relaxed);
            }
            Err(failure) => {
                metrics.failed_batches.fetch_add(1, Ordering::Relaxed);
                let answer = match failure {
                    Failure::Data(_) | Failure::Panic(_) if jobs.len() > 1 => {
                        tracing::warn!(
                            requests = jobs.len(),
                            "ingest batch refused; splitting it to isolate the cause"
                        );
                        let half = jobs.len() / 2;
                        let (later_jobs, later_replies) =
                            (jobs.split_off(half), replies.split_off(half));
                        todo.push((later_jobs, later_replies));
                        todo.push((jobs, replies));
                        continue;
                    }
                    Failure::Data(m) => {
                        let job = &jobs[0];
                        tracing::warn!(error = %m, project = %job.project_id,
                            messages = job.messages.len(), "the database refused a request");
                        metrics.rejected_by_storage.fetch_add(1, Ordering::Relaxed);
                        WriteError::Rejected(m)
                    }
                    Failure::Panic(m) => {
                        tracing::error!(error = %m, project = %jobs[0].project_id,
                            "the store panicked on a request");
                        WriteError::Unavailable(m)
                    }
                    Failure::Unavailable(m) => {
                        // Nothing was acknowledged: every caller gets an error and retries.
                        tracing::error!(error = %m, requests = jobs.len(), "ingest batch failed");
                        WriteError::Unavailable(m)
                    }
                };
                for reply in replies {
                    let _ = reply.send(Err(answer.clone()));
                }
            }
        }
    }
}
