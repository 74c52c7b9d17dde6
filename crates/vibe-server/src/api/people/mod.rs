//! The people domain (`vibe_store::people`): the people tracked on a
//! project's site, their profiles and session histories.

pub mod person;
pub mod routes;
pub mod users;
