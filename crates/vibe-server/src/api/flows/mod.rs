//! The flows domain (`vibe_store::flows`): `/api/v1/projects/{id}/flows` and
//! `/flows/{flow_id}` define flows (`{name, start, complete, fail?,
//! window_hours?}`, each step a funnel step); `/flows/{flow_id}/stats` reads
//! their rollup. Saving a flow rebuilds its rollup from stored events.

pub mod routes;
pub mod stats;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use vibe_store::flows::model::Flow;
use vibe_store::flows::{MAX_FLOWS, MAX_WINDOW_HOURS};
use vibe_store::funnel::FunnelStep;
use vibe_store::StoreError;

use crate::api::funnels::parse_step;
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::domain::Name;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

/// Default `window_hours`.
pub const DEFAULT_WINDOW_HOURS: i64 = 24;

struct Parsed {
    name: String,
    start: FunnelStep,
    complete: FunnelStep,
    fail: Option<FunnelStep>,
    window_hours: i64,
}

/// Validates a body; every refusal names its field (`name`, `start.value`,
/// `fail.match`, `window_hours`, …).
fn parse(body: &Value) -> ApiResult<Parsed> {
    let Some(o) = body.as_object() else {
        return Err(ApiError::field(
            "invalid_field",
            "body",
            "must be a JSON object",
        ));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "start", "complete", "fail", "window_hours"].contains(&k.as_str()))
    {
        return Err(ApiError::field("invalid_field", k, "unknown field"));
    }
    let name = match o.get("name") {
        Some(Value::String(s)) => Name::parse("name", s)?.into_inner(),
        None | Some(Value::Null) => {
            return Err(ApiError::field(
                "missing_field",
                "name",
                "`name` is required",
            ))
        }
        Some(_) => return Err(ApiError::field("invalid_field", "name", "must be a string")),
    };
    let step = |field: &str| -> ApiResult<Option<FunnelStep>> {
        match o.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => parse_step(v, field).map(Some),
        }
    };
    let required = |field: &str| -> ApiResult<FunnelStep> {
        step(field)?.ok_or_else(|| {
            ApiError::field("missing_field", field, format!("`{field}` is required"))
        })
    };
    let start = required("start")?;
    let complete = required("complete")?;
    let fail = step("fail")?;
    let window_hours = match o.get("window_hours") {
        None | Some(Value::Null) => DEFAULT_WINDOW_HOURS,
        Some(v) => v
            .as_i64()
            .filter(|h| (1..=MAX_WINDOW_HOURS).contains(h))
            .ok_or_else(|| {
                ApiError::field(
                    "invalid_field",
                    "window_hours",
                    format!("must be a whole number of hours between 1 and {MAX_WINDOW_HOURS}"),
                )
            })?,
    };
    Ok(Parsed {
        name,
        start,
        complete,
        fail,
        window_hours,
    })
}

/// A flow as the API shows it (`FLOW`).
pub(crate) fn shown(f: &Flow) -> Value {
    json!({
        "id": f.id,
        "name": f.name,
        "start": f.start,
        "complete": f.complete,
        "fail": f.fail,
        "window_hours": f.window_hours,
        "created_at": f.created_at,
        "updated_at": f.updated_at,
    })
}

fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("flow"),
        e => e.into(),
    }
}

pub(crate) async fn find(state: &AppState, access: &ProjectAccess, fid: &str) -> ApiResult<Flow> {
    state
        .store
        .get_flow(&access.project.id, fid)
        .await?
        .or_not_found("flow")
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = parse(&body)?;
    let existing = state.store.list_flows(&access.project.id).await?;
    if existing.len() >= MAX_FLOWS {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "too_many_flows",
            format!("a project can have at most {MAX_FLOWS} flows; delete one first"),
        ));
    }
    let now = state.clock.now_ms();
    let flow = Flow {
        id: uuid::Uuid::new_v4().to_string(),
        name: p.name,
        start: p.start,
        complete: p.complete,
        fail: p.fail,
        window_hours: p.window_hours,
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .create_flow(&access.project.id, &access.project.timezone, &flow)
        .await?;
    audit::record(
        &state,
        &access,
        "flow.create",
        &format!("flow/{}", flow.id),
        body,
        ip,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(shown(&flow))))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let flows = state.store.list_flows(&access.project.id).await?;
    let flows: Vec<Value> = flows.iter().map(shown).collect();
    Ok(Json(json!({ "flows": flows })))
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, fid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(shown(&find(&state, &access, &fid).await?)))
}

/// Replaces the definition (same body as create) and rebuilds the rollup.
pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, fid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let existing = find(&state, &access, &fid).await?;
    let p = parse(&body)?;
    let flow = Flow {
        name: p.name,
        start: p.start,
        complete: p.complete,
        fail: p.fail,
        window_hours: p.window_hours,
        updated_at: state.clock.now_ms(),
        ..existing
    };
    state
        .store
        .update_flow(&access.project.id, &access.project.timezone, &flow)
        .await
        .map_err(not_found)?;
    audit::record(
        &state,
        &access,
        "flow.update",
        &format!("flow/{fid}"),
        body,
        ip,
    )
    .await?;
    Ok(Json(shown(&flow)))
}

pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, fid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_flow(&access.project.id, &fid)
        .await
        .map_err(not_found)?;
    audit::record(
        &state,
        &access,
        "flow.delete",
        &format!("flow/{fid}"),
        json!({}),
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
