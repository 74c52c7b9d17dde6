//! The analytics domain (`vibe_store::analytics`): metric cards, daily
//! statistics and CSV exports, all read from the rollups.

pub mod daily;
pub mod definitions;
pub mod export;
pub mod metrics;
pub mod routes;
