//! The revenue domain's routes below `/projects/{id}`. Rates are admin-only;
//! the reporting currency is a project setting (`PATCH /projects/{id}`).

use vibe_store::Role::{Admin, Viewer};

use super::rates;
use crate::router::project_routes::{at, ProjectRoute, GET, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/revenue").on(GET, Viewer, super::report),
        at("/exchange-rates")
            .on(GET, Viewer, rates::list)
            .on(PUT, Admin, rates::put),
    ]
}
