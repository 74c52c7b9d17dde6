//! The flows domain's routes below `/projects/{id}`.

use vibe_store::Role::{Admin, Viewer};

use super::stats;
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, POST, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/flows")
            .on(GET, Viewer, super::list)
            .on(POST, Admin, super::create),
        at("/flows/{flow_id}")
            .on(GET, Viewer, super::get)
            .on(PUT, Admin, super::update)
            .on(DELETE, Admin, super::delete),
        at("/flows/{flow_id}/stats").on(GET, Viewer, stats::get),
    ]
}
