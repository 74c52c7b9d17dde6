//! The tracking domain (`vibe_store::tracking`): ingestion from browsers and
//! backends, who is online, the live feed, and the stored events as they came.

pub mod chat;
pub mod collect;
pub mod events;
pub mod live;
pub mod online;
pub mod routes;
