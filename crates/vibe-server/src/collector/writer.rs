//! Collector → bounded queue → batching writer. Requests wait for their batch to
//! commit before they are acknowledged, so an acknowledged event is durable; a full
//! queue is reported to the caller (503), never dropped. Closing the queue lets the
//! writer drain what is already queued and stop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use vibe_store::{IngestJob, IngestOutcome, Store};

use crate::live::record;
use crate::live::relay::Relay;
use crate::metrics::Metrics;

/// Upper bound on messages written in one transaction.
const MAX_MESSAGES_PER_BATCH: usize = 10_000;
const MAX_REQUESTS_PER_BATCH: usize = 1024;

type Reply = oneshot::Sender<Result<IngestOutcome, String>>;

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("ingest queue is full")]
    Full,
    #[error("server is shutting down")]
    Closed,
    #[error("storage failed: {0}")]
    Store(String),
}

#[derive(Clone)]
pub struct IngestQueue {
    tx: mpsc::Sender<(IngestJob, Reply)>,
    metrics: Arc<Metrics>,
}

impl IngestQueue {
    /// Starts the writer task.
    pub fn start(
        store: Arc<dyn Store>,
        capacity: usize,
        metrics: Arc<Metrics>,
        relay: Arc<dyn Relay>,
    ) -> (Self, WriterHandle) {
        let (tx, rx) = mpsc::channel(capacity);
        let (stop, stopped) = oneshot::channel();
        let join = tokio::spawn(run_writer(store, rx, stopped, metrics.clone(), relay));
        (Self { tx, metrics }, WriterHandle { stop, join })
    }

    /// Queues a job and waits until it is committed.
    pub async fn submit(&self, job: IngestJob) -> Result<IngestOutcome, SubmitError> {
        let (reply, done) = oneshot::channel();
        self.tx.try_send((job, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SubmitError::Full,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
        })?;
        self.metrics.queue_depth.fetch_add(1, Ordering::Relaxed);
        match done.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(e)) => Err(SubmitError::Store(e)),
            Err(_) => Err(SubmitError::Closed),
        }
    }
}

pub struct WriterHandle {
    stop: oneshot::Sender<()>,
    join: JoinHandle<()>,
}

impl WriterHandle {
    /// Stops taking new jobs, commits everything already queued, then returns.
    pub async fn drain(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.join.await {
            tracing::error!(error = %e, "ingest writer panicked");
        }
    }
}

async fn run_writer(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<(IngestJob, Reply)>,
    mut stopped: oneshot::Receiver<()>,
    metrics: Arc<Metrics>,
    relay: Arc<dyn Relay>,
) {
    let mut buf = Vec::with_capacity(MAX_REQUESTS_PER_BATCH);
    let mut stopping = false;
    loop {
        let n = if stopping {
            rx.recv_many(&mut buf, MAX_REQUESTS_PER_BATCH).await
        } else {
            tokio::select! {
                n = rx.recv_many(&mut buf, MAX_REQUESTS_PER_BATCH) => n,
                _ = &mut stopped => {
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
        // Take no more than MAX_MESSAGES_PER_BATCH now; the rest goes next round.
        let mut carry = Vec::new();
        let mut total = 0;
        for (i, (job, _)) in buf.iter().enumerate() {
            total += job.messages.len();
            if total > MAX_MESSAGES_PER_BATCH && i > 0 {
                carry = buf.split_off(i);
                break;
            }
        }
        let (jobs, replies): (Vec<IngestJob>, Vec<Reply>) = buf.drain(..).unzip();
        metrics
            .queue_depth
            .fetch_sub(jobs.len() as u64, Ordering::Relaxed);
        write_batch(store.as_ref(), jobs, replies, &metrics, relay.as_ref()).await;
        buf = carry;
        while !buf.is_empty() {
            let take = buf.len().min(MAX_REQUESTS_PER_BATCH);
            let (jobs, replies): (Vec<IngestJob>, Vec<Reply>) = buf.drain(..take).unzip();
            metrics
                .queue_depth
                .fetch_sub(jobs.len() as u64, Ordering::Relaxed);
            write_batch(store.as_ref(), jobs, replies, &metrics, relay.as_ref()).await;
        }
    }
    tracing::info!("ingest writer drained and stopped");
}

async fn write_batch(
    store: &dyn Store,
    jobs: Vec<IngestJob>,
    replies: Vec<Reply>,
    metrics: &Metrics,
    relay: &dyn Relay,
) {
    match store.ingest(&jobs).await {
        Ok(outcomes) => {
            // Committed: dashboards may hear of it now, before callers are answered.
            relay.publish(record::from_committed(&jobs, &outcomes));
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
        Err(e) => {
            // Nothing was acknowledged: every caller gets an error and retries.
            tracing::error!(error = %e, requests = jobs.len(), "ingest batch failed");
            metrics.failed_batches.fetch_add(1, Ordering::Relaxed);
            let msg = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(msg.clone()));
            }
        }
    }
}

/// Counter used by tests and `/metrics` to observe the writer.
pub fn counter(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}
