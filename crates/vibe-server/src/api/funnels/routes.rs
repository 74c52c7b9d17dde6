//! The funnels domain's routes below `/projects/{id}`.

use vibe_store::Role::{Admin, Viewer};

use super::conversion;
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, POST, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/funnels")
            .on(GET, Viewer, super::list)
            .on(POST, Admin, super::create),
        at("/funnels/{fid}")
            .on(GET, Viewer, super::get)
            .on(PUT, Admin, super::update)
            .on(DELETE, Admin, super::delete),
        at("/funnels/{fid}/conversion").on(GET, Viewer, conversion::get),
    ]
}
