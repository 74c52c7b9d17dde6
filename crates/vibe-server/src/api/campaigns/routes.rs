//! The campaigns' routes below `/projects/{id}`. Every member reads
//! campaigns and their progress; admins and owners create, change, delete,
//! send, pause, resume, cancel and test-send them (a campaign reaches a
//! whole segment of the project's contacts).

use vibe_store::Role::{Admin, Viewer};

use super::{actions, recipients, stats, test};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, POST, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/campaigns")
            .on(GET, Viewer, super::list)
            .on(POST, Admin, super::create),
        at("/campaigns/{campaign_id}")
            .on(GET, Viewer, super::get)
            .on(PUT, Admin, super::update)
            .on(DELETE, Admin, super::delete),
        at("/campaigns/{campaign_id}/recipients").on(GET, Viewer, recipients::list),
        at("/campaigns/{campaign_id}/stats").on(GET, Viewer, stats::get),
        at("/campaigns/{campaign_id}/send").on(POST, Admin, actions::send),
        at("/campaigns/{campaign_id}/pause").on(POST, Admin, actions::pause),
        at("/campaigns/{campaign_id}/resume").on(POST, Admin, actions::resume),
        at("/campaigns/{campaign_id}/cancel").on(POST, Admin, actions::cancel),
        at("/campaigns/{campaign_id}/test").on(POST, Admin, test::send_test),
    ]
}
