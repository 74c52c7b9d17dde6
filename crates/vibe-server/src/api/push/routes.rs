//! The push domain's routes below `/projects/{id}`: a contact's push
//! subscriptions, read by viewers, removed by agents (who work contacts).

use vibe_store::Role::{Agent, Viewer};

use super::contact;
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/users/{uid}/push-subscriptions").on(GET, Viewer, contact::list),
        at("/users/{uid}/push-subscriptions/{push_id}").on(DELETE, Agent, contact::delete),
    ]
}
