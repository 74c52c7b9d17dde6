//! The projects domain's routes below `/projects/{id}`, each method with its
//! least role (see `router::project_routes`).

use vibe_store::Role::{Admin, Viewer};

use super::{identity_secret, keys, members, snippet};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, PATCH, POST};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("")
            .on(GET, Viewer, super::get)
            .on(PATCH, Admin, super::update),
        at("/snippet").on(GET, Viewer, snippet::snippet),
        at("/identity-secret")
            .on(GET, Admin, identity_secret::secret)
            .on(POST, Admin, identity_secret::rotate),
        at("/keys")
            .on(GET, Admin, keys::list)
            .on(POST, Admin, keys::create),
        at("/keys/{key_id}").on(DELETE, Admin, keys::revoke),
        at("/members")
            .on(GET, Admin, members::list)
            .on(POST, Admin, members::add),
        at("/members/{account_id}")
            .on(PATCH, Admin, members::update)
            .on(DELETE, Admin, members::remove),
    ]
}
