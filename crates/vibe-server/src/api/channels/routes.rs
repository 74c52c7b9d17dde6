//! The channels domain's routes below `/projects/{id}`. Agents (and above)
//! read the settings — they work the Inbox and need to know which channels
//! are on — but never see a secret, only its hint; viewers get 403 (the
//! Inbox issue keeps them out of conversation matters). Only admins change
//! them.

use vibe_store::Role::{Admin, Agent};

use crate::router::project_routes::{at, ProjectRoute, GET, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/channels").on(GET, Agent, super::list),
        at("/channels/{kind}")
            .on(GET, Agent, super::get)
            .on(PUT, Admin, super::put),
    ]
}
