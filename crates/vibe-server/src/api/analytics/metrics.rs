//! `GET /api/v1/projects/{id}/metrics`: the metric cards.

use axum::extract::State;
use axum::Json;

use super::definitions::{self, Metrics};
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn metrics(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<Metrics>> {
    let m =
        definitions::metrics(state.store.as_ref(), &access.project, state.clock.now_ms()).await?;
    Ok(Json(m))
}
