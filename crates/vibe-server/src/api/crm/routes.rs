//! The CRM domain's routes below `/projects/{id}`. Writes need admin today;
//! the Inbox issue's `agent` role will be allowed to tag and add notes.

use vibe_store::Role::{Admin, Viewer};

use super::{contact, notes, tags};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, PATCH, POST};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        // GET of the same path is the profile, in the people domain's table.
        at("/users/{uid}").on(PATCH, Admin, contact::patch),
        at("/tags").on(GET, Viewer, tags::list),
        at("/users/{uid}/notes")
            .on(GET, Viewer, notes::list)
            .on(POST, Admin, notes::create),
        at("/users/{uid}/notes/{nid}").on(DELETE, Admin, notes::delete),
    ]
}
