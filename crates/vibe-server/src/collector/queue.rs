//! The bounded ingest queue. Requests wait for their batch to commit before they
//! are acknowledged, so an acknowledged event is durable; a full queue is
//! reported to the caller (503), never dropped. The queue is bounded in requests
//! and in bytes: 8,192 requests of 512 KiB each would otherwise be 4 GiB.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use vibe_store::{IngestJob, IngestOutcome, Store};

use super::supervisor::{self, WriterHandle};
use crate::live::relay::Relay;
use crate::metrics::Metrics;

/// Why the writer could not store a request.
#[derive(Debug, Clone)]
pub enum WriteError {
    /// The database refused this request's data; sending it again fails again.
    Rejected(String),
    /// Storage failed for a reason not specific to this request; retry later.
    Unavailable(String),
}

pub(crate) type Reply = oneshot::Sender<Result<IngestOutcome, WriteError>>;

/// A request waiting in the queue, with its estimated size.
pub(crate) struct Queued {
    pub job: IngestJob,
    pub bytes: usize,
    pub reply: Reply,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("ingest queue is full")]
    Full,
    #[error("server is shutting down")]
    Closed,
    /// The writer died while this request was in its batch (it is restarted).
    #[error("the writer stopped before the request was stored")]
    Lost,
    #[error("rejected by the database: {0}")]
    Rejected(String),
    #[error("storage failed: {0}")]
    Store(String),
}

#[derive(Debug, Clone, Copy)]
pub struct QueueLimits {
    /// Requests waiting for the writer.
    pub requests: usize,
    /// Estimated bytes of those requests (`Message::approx_bytes`). One request
    /// is always admitted into an empty queue, whatever its size.
    pub bytes: usize,
}

/// Test-only failure injection (`state.ingest.faults()`); production code never
/// sets these. They make the writer fail the way a bug would, so tests can check
/// that it is restarted and that nothing queued is lost.
#[derive(Debug)]
pub struct WriterFaults {
    crash_next_batch: AtomicBool,
    hold_restart: watch::Sender<bool>,
}

impl WriterFaults {
    fn new() -> Self {
        Self {
            crash_next_batch: AtomicBool::new(false),
            hold_restart: watch::channel(false).0,
        }
    }

    /// The writer panics after taking its next batch out of the queue.
    pub fn crash_next_batch(&self) {
        self.crash_next_batch.store(true, Ordering::SeqCst);
    }

    /// While held, a writer that died is not restarted.
    pub fn hold_restart(&self, hold: bool) {
        self.hold_restart.send_replace(hold);
    }

    pub(crate) fn take_crash(&self) -> bool {
        self.crash_next_batch.swap(false, Ordering::SeqCst)
    }

    pub(crate) async fn restart_allowed(&self) {
        let _ = self.hold_restart.subscribe().wait_for(|held| !*held).await;
    }
}

/// State shared by the queue's senders, the writer and its supervisor.
pub(crate) struct Shared {
    pub metrics: Arc<Metrics>,
    pub max_bytes: usize,
    pub queued_bytes: AtomicUsize,
    /// False from the writer's death until it is restarted.
    pub writer_up: AtomicBool,
    pub faults: WriterFaults,
}

impl Shared {
    /// The writer took these requests out of the queue.
    pub fn taken(&self, jobs: &[Queued]) {
        let bytes: usize = jobs.iter().map(|q| q.bytes).sum();
        self.queued_bytes.fetch_sub(bytes, Ordering::SeqCst);
        self.metrics
            .queue_depth
            .fetch_sub(jobs.len() as u64, Ordering::Relaxed);
        self.metrics.queue_bytes.store(
            self.queued_bytes.load(Ordering::SeqCst) as u64,
            Ordering::Relaxed,
        );
    }
}

#[derive(Clone)]
pub struct IngestQueue {
    tx: mpsc::Sender<Queued>,
    shared: Arc<Shared>,
}

impl IngestQueue {
    /// Starts the supervised writer task.
    pub fn start(
        store: Arc<dyn Store>,
        limits: QueueLimits,
        metrics: Arc<Metrics>,
        relay: Arc<dyn Relay>,
    ) -> (Self, WriterHandle) {
        let (tx, rx) = mpsc::channel(limits.requests.max(1));
        let shared = Arc::new(Shared {
            metrics,
            max_bytes: limits.bytes,
            queued_bytes: AtomicUsize::new(0),
            writer_up: AtomicBool::new(true),
            faults: WriterFaults::new(),
        });
        let handle = supervisor::start(rx, store, relay, shared.clone());
        (Self { tx, shared }, handle)
    }

    /// Queues a job and waits until it is committed.
    pub async fn submit(&self, job: IngestJob) -> Result<IngestOutcome, SubmitError> {
        let bytes: usize = 64 + job.messages.iter().map(|m| m.approx_bytes()).sum::<usize>();
        let before = self.shared.queued_bytes.fetch_add(bytes, Ordering::SeqCst);
        if before > 0 && before + bytes > self.shared.max_bytes {
            self.shared.queued_bytes.fetch_sub(bytes, Ordering::SeqCst);
            return Err(SubmitError::Full);
        }
        let metrics = &self.shared.metrics;
        metrics.queue_depth.fetch_add(1, Ordering::Relaxed);
        let (reply, done) = oneshot::channel();
        if let Err(e) = self.tx.try_send(Queued { job, bytes, reply }) {
            self.shared.queued_bytes.fetch_sub(bytes, Ordering::SeqCst);
            metrics.queue_depth.fetch_sub(1, Ordering::Relaxed);
            return Err(match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::Full,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
            });
        }
        metrics.queue_bytes.store(
            self.shared.queued_bytes.load(Ordering::SeqCst) as u64,
            Ordering::Relaxed,
        );
        match done.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(WriteError::Rejected(e))) => Err(SubmitError::Rejected(e)),
            Ok(Err(WriteError::Unavailable(e))) => Err(SubmitError::Store(e)),
            // The reply was dropped unanswered: the writer died with this
            // request in its batch (a drain answers everything it took).
            Err(_) => Err(SubmitError::Lost),
        }
    }

    /// Whether the writer task is running (false between its death and restart).
    pub fn writer_up(&self) -> bool {
        self.shared.writer_up.load(Ordering::SeqCst)
    }

    /// Test-only failure injection; see [`WriterFaults`].
    #[doc(hidden)]
    pub fn faults(&self) -> &WriterFaults {
        &self.shared.faults
    }
}

/// Reads a counter (tests and `/metrics`).
pub fn counter(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}
