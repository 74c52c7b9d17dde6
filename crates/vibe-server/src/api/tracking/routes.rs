//! The tracking domain's routes below `/projects/{id}` (the collector's own
//! routes are not project-scoped and live in `router.rs`).

use vibe_store::Role::Viewer;

use super::{events, live, online};
use crate::router::project_routes::{at, ProjectRoute, GET};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/online").on(GET, Viewer, online::online),
        at("/live").websocket(live::MIN_ROLE, live::live),
        at("/events").on(GET, Viewer, events::recent),
    ]
}
