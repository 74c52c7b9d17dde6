//! `GET …/support/settings` (supervisor and above) and `PUT` (admin): the
//! per-agent capacity of the workload figures and the hourly agent cost
//! (minor units of `currency`) of the time-saved and cost figures. A `PUT`
//! names the fields it changes; the others keep their value.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::api::inbox::fields;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most concurrent conversations one agent may be set to hold.
pub const MAX_CAPACITY: i64 = 1000;
/// Highest hourly cost (minor units): ten million currency units an hour.
pub const MAX_HOURLY_COST: i64 = 1_000_000_000;

pub async fn get(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let s = state.store.support_settings(&access.project.id).await?;
    Ok(Json(json!(s)))
}

pub async fn put(
    State(state): State<AppState>,
    access: ProjectAccess,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let project = &access.project.id;
    let mut s = state.store.support_settings(project).await?;
    for (key, v) in &body {
        match key.as_str() {
            "agent_capacity" => s.agent_capacity = fields::int_in(key, v, 1, MAX_CAPACITY)?,
            "hourly_agent_cost" => {
                s.hourly_agent_cost = fields::int_in(key, v, 0, MAX_HOURLY_COST)?
            }
            "currency" => {
                let c = fields::text(key, v, 3)?;
                if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(ApiError::field(
                        "invalid_field",
                        key,
                        "an ISO 4217 code like USD",
                    ));
                }
                s.currency = c;
            }
            _ => {
                return Err(fields::unknown(
                    key,
                    "agent_capacity, hourly_agent_cost, currency",
                ))
            }
        }
    }
    s.updated_by_account_id = Some(access.account.id.clone());
    s.updated_at = state.clock.now_ms();
    state.store.put_support_settings(project, &s).await?;
    Ok(Json(json!(s)))
}
