//! The segments domain's routes below `/projects/{id}`. Every member reads
//! segments and may preview a count (a read: nothing is saved, and it shows
//! no more than the people list already does); defining, changing, deleting
//! and recounting them needs admin.

use vibe_store::Role::{Admin, Viewer};

use super::{preview, refresh};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, POST, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/segments")
            .on(GET, Viewer, super::list)
            .on(POST, Admin, super::create),
        // Before `/segments/{sid}` in meaning only: the router prefers the
        // static segment, and segment ids are UUIDs.
        at("/segments/preview").on(POST, Viewer, preview::preview),
        at("/segments/{sid}")
            .on(GET, Viewer, super::get)
            .on(PUT, Admin, super::update)
            .on(DELETE, Admin, super::delete),
        at("/segments/{sid}/refresh").on(POST, Admin, refresh::refresh),
    ]
}
