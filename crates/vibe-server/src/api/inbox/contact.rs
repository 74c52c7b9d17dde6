//! `GET/POST /api/v1/projects/{id}/users/{uid}/conversations`: a contact's
//! conversations (within the caller's scope) and a new one started from
//! their profile (the body of `POST /conversations` without `contact_id`).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use super::conversations::{parse_query, start};
use super::scope_of;
use crate::api::people::users::ProjectUser;
use crate::api::ApiJson;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query = parse_query(&access, &q, Some(&user.id))?;
    let page = state
        .store
        .list_conversations(&access.project.id, &scope_of(&access), &query)
        .await?;
    Ok(Json(json!({
        "conversations": page.items,
        "next_cursor": page.next_cursor.map(|c| c.encode()),
    })))
}

pub async fn create(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    start(&state, &access, &user, body).await
}
