//! `GET /api/v1/projects/{id}/users/{uid}/push-subscriptions` and
//! `DELETE …/push-subscriptions/{push_id}`: a contact's browsers subscribed
//! to web push, as the dashboard shows them. The endpoint is the browser's
//! capability URL, so only its push service's origin is shown; the keys never.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use vibe_store::push::PushSubscription;

use crate::api::people::users::ProjectUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn shown(s: &PushSubscription) -> Value {
    let service = reqwest::Url::parse(&s.endpoint)
        .map(|u| crate::push::vapid::audience(&u))
        .unwrap_or_default();
    json!({
        "id": s.id,
        "push_service": service,
        "user_agent": s.user_agent,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "last_success_at": s.last_success_at,
    })
}

pub async fn list(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
) -> ApiResult<Json<Value>> {
    let subs = state
        .store
        .push_subscriptions_of(&access.project.id, &user.id)
        .await?;
    Ok(Json(
        json!({ "subscriptions": subs.iter().map(shown).collect::<Vec<_>>() }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    Path((_, _, push_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    if state
        .store
        .delete_person_push_subscription(&access.project.id, &user.id, &push_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("push subscription"))
    }
}
