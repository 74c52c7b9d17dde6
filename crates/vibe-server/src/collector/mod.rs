//! Ingestion: handlers validate and enqueue; one supervised writer task commits
//! batches.
//!
//! - [`queue`]: the bounded queue (requests and bytes) handlers submit to.
//! - [`writer`]: the batching writer; a batch the database refuses is split
//!   until only the offending requests fail.
//! - [`supervisor`]: restarts the writer if it dies, keeping the queue, and
//!   reports whether it is up (`/readyz`).

pub mod queue;
pub mod supervisor;
pub mod writer;

pub use queue::{IngestQueue, QueueLimits, SubmitError};
pub use supervisor::WriterHandle;
