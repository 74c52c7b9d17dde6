//! The retention domain's routes below `/projects/{id}`.

use vibe_store::Role::Viewer;

use crate::router::project_routes::{at, ProjectRoute, GET};

pub fn routes() -> Vec<ProjectRoute> {
    vec![at("/retention").on(GET, Viewer, super::retention)]
}
