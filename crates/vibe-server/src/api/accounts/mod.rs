//! The accounts domain: signing in to the dashboard, first-run setup, and
//! personal API tokens (`vibe_store::accounts`).

pub mod auth;
pub mod setup;
pub mod tokens;
