//! The people domain's routes below `/projects/{id}`.

use vibe_store::Role::Viewer;

use super::users::{self, sessions};
use crate::router::project_routes::{at, ProjectRoute, GET};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/users").on(GET, Viewer, users::list),
        at("/users/{uid}").on(GET, Viewer, users::profile),
        at("/users/{uid}/sessions").on(GET, Viewer, sessions::sessions),
    ]
}
