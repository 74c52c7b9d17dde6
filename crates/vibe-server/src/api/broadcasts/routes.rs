//! The broadcasts' routes below `/projects/{id}`: supervisors and above
//! send and read them (agents and viewers get 403).

use vibe_store::Role::Supervisor;

use crate::router::project_routes::{at, ProjectRoute, GET, POST};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/broadcasts")
            .on(GET, Supervisor, super::list)
            .on(POST, Supervisor, super::create),
        at("/broadcasts/{bid}").on(GET, Supervisor, super::get),
    ]
}
