//! The analytics domain's routes below `/projects/{id}`.

use vibe_store::Role::Viewer;

use super::{daily, export, metrics};
use crate::router::project_routes::{at, ProjectRoute, GET};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/metrics").on(GET, Viewer, metrics::metrics),
        at("/stats/daily").on(GET, Viewer, daily::daily),
        at("/export/users.csv").on(GET, Viewer, export::users_csv),
        at("/export/metrics.csv").on(GET, Viewer, export::metrics_csv),
    ]
}
