//! The templates' routes below `/projects/{id}`. Every member reads
//! templates and previews a saved one (a preview stores nothing and shows a
//! contact's name, email and traits, which viewers already see on the
//! people pages); supervisors and above — who send broadcasts — create,
//! change, delete them and preview unsaved drafts (the editor). Campaigns,
//! which send them, are admins' (`api/campaigns/routes.rs`).

use vibe_store::Role::{Admin, Supervisor, Viewer};

use super::{preview, send};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, POST, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/templates")
            .on(GET, Viewer, super::list)
            .on(POST, Supervisor, super::create),
        // The router prefers the static segment; template ids are UUIDs.
        at("/templates/preview").on(POST, Supervisor, preview::draft),
        at("/templates/{template_id}")
            .on(GET, Viewer, super::get)
            .on(PUT, Supervisor, super::update)
            .on(DELETE, Supervisor, super::delete),
        at("/templates/{template_id}/preview").on(POST, Viewer, preview::saved),
        // A send reaches contacts at once, like a campaign: admins'.
        at("/templates/{template_id}/send").on(POST, Admin, send::send),
    ]
}
