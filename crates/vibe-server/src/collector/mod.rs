//! Ingestion: handlers validate and enqueue; one writer task commits batches.

pub mod writer;

pub use writer::{IngestQueue, SubmitError};
