//! `GET …/support/settings` (supervisor and above) and `PUT` (admin): the
//! per-agent capacity of the workload figures and the hourly agent cost
//! (minor units of `currency`) of the time-saved and cost figures. A `PUT`
//! names the fields it changes; the others keep their value. `currency` is
//! the project's reporting currency (`PATCH /projects/{id}`), read-only here,
//! so the support costs and the revenue report never disagree. Every change
//! is written to the audit log.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

use vibe_store::support_analytics::settings::SupportSettings;

use crate::api::inbox::fields;
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most concurrent conversations one agent may be set to hold.
pub const MAX_CAPACITY: i64 = 1000;
/// Highest hourly cost (minor units): ten million currency units an hour.
pub const MAX_HOURLY_COST: i64 = 1_000_000_000;

pub async fn get(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    Ok(Json(json!(of_project(&state, &access.project.id).await?)))
}

/// The stored settings with the project's reporting currency.
pub async fn of_project(state: &AppState, project: &str) -> ApiResult<SupportSettings> {
    let mut s = state.store.support_settings(project).await?;
    s.currency = state.store.revenue_currency(project).await?;
    Ok(s)
}

pub async fn put(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let project = &access.project.id;
    let mut s = of_project(&state, project).await?;
    for (key, v) in &body {
        match key.as_str() {
            "agent_capacity" => s.agent_capacity = fields::int_in(key, v, 1, MAX_CAPACITY)?,
            "hourly_agent_cost" => {
                s.hourly_agent_cost = fields::int_in(key, v, 0, MAX_HOURLY_COST)?
            }
            "currency" => {
                return Err(ApiError::field(
                    "read_only",
                    key,
                    "the currency is the project's reporting currency: set it with PATCH /api/v1/projects/{id}",
                ))
            }
            _ => {
                return Err(fields::unknown(
                    key,
                    "agent_capacity, hourly_agent_cost",
                ))
            }
        }
    }
    s.updated_by_account_id = Some(access.account.id.clone());
    s.updated_at = state.clock.now_ms();
    state.store.put_support_settings(project, &s).await?;
    audit::record(
        &state,
        &access,
        "support_settings.put",
        "support/settings",
        Value::Object(body),
        ip,
    )
    .await?;
    Ok(Json(json!(s)))
}
