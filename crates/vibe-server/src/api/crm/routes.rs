//! The CRM domain's routes below `/projects/{id}`. Agents work with contacts
//! (tags, priority, properties, notes); viewers only read.

use vibe_store::Role::{Agent, Viewer};

use super::{contact, notes, overview, tags, timeline};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, PATCH, POST};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        // GET of the same path is the profile, in the people domain's table.
        at("/users/{uid}").on(PATCH, Agent, contact::patch),
        at("/tags").on(GET, Viewer, tags::list),
        at("/crm/overview").on(GET, Viewer, overview::overview),
        at("/users/{uid}/notes")
            .on(GET, Viewer, notes::list)
            .on(POST, Agent, notes::create),
        at("/users/{uid}/timeline").on(GET, Viewer, timeline::timeline),
        at("/users/{uid}/notes/{nid}").on(DELETE, Agent, notes::delete),
    ]
}
