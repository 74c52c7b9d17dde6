//! The audit domain's route below `/projects/{id}`: only admins and owners
//! read who changed what (the log names every member's actions and where
//! they came from).

use vibe_store::Role::Admin;

use crate::router::project_routes::{at, ProjectRoute, GET};

pub fn routes() -> Vec<ProjectRoute> {
    vec![at("/audit-log").on(GET, Admin, super::list)]
}
