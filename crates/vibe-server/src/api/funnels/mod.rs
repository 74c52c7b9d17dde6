//! The funnels domain (`vibe_store::funnels`): `/api/v1/projects/{id}/funnels`
//! and `/funnels/{fid}` define funnels; their conversion and the background
//! build of their rollups are beside this file.

pub mod builder;
pub mod conversion;
pub mod routes;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vibe_store::funnel::{Funnel, FunnelStep, StepMatch, MAX_STEPS, MAX_WINDOW_DAYS};
use vibe_store::funnel_build::BuildState;

use crate::audit::{self, AuditedJson};
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::domain::Name;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelBody {
    name: String,
    steps: Vec<FunnelStep>,
    window_days: Option<i64>,
}

/// Validates a definition into a funnel (id and times filled in by the caller).
fn parse(body: FunnelBody) -> ApiResult<(String, Vec<FunnelStep>, i64)> {
    let name = Name::parse("name", &body.name)?.into_inner();
    if body.steps.is_empty() || body.steps.len() > MAX_STEPS {
        return Err(ApiError::field(
            "invalid_field",
            "steps",
            format!("a funnel needs 1 to {MAX_STEPS} steps"),
        ));
    }
    let mut steps = body.steps;
    for (i, s) in steps.iter_mut().enumerate() {
        check_step(s, &format!("steps[{i}]"))?;
    }
    let window_days = body.window_days.unwrap_or(7);
    if !(1..=MAX_WINDOW_DAYS).contains(&window_days) {
        return Err(ApiError::field(
            "invalid_field",
            "window_days",
            format!("must be between 1 and {MAX_WINDOW_DAYS}"),
        ));
    }
    Ok((name, steps, window_days))
}

/// Validates one step in place (the value trimmed); errors name
/// `{field}.value` or `{field}.name`. Funnels and flows share it.
pub(crate) fn check_step(s: &mut FunnelStep, field: &str) -> ApiResult<()> {
    s.value = s.value.trim().to_owned();
    let value_field = format!("{field}.value");
    if s.value.is_empty() || s.value.len() > 200 {
        return Err(ApiError::field(
            "invalid_field",
            &value_field,
            "must be 1 to 200 characters",
        ));
    }
    if s.kind == StepMatch::Page && !s.value.starts_with('/') {
        return Err(ApiError::field(
            "invalid_field",
            &value_field,
            "a page step is a path starting with /",
        ));
    }
    if s.name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 100)
    {
        return Err(ApiError::field(
            "invalid_field",
            &format!("{field}.name"),
            "must be 1 to 100 characters",
        ));
    }
    Ok(())
}

/// A step from JSON, every refusal naming its field (`start.match`,
/// `start.value`, …), then [`check_step`].
pub(crate) fn parse_step(v: &Value, field: &str) -> ApiResult<FunnelStep> {
    let bad = |f: &str, msg: &str| ApiError::field("invalid_field", f, msg.to_owned());
    let Some(o) = v.as_object() else {
        return Err(bad(field, "must be a step object {\"match\", \"value\"}"));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["match", "value", "prefix", "name"].contains(&k.as_str()))
    {
        return Err(bad(&format!("{field}.{k}"), "unknown field"));
    }
    let kind = match o.get("match").and_then(Value::as_str) {
        Some("page") => StepMatch::Page,
        Some("event") => StepMatch::Event,
        _ => {
            return Err(bad(
                &format!("{field}.match"),
                "must be \"page\" or \"event\"",
            ))
        }
    };
    let Some(value) = o.get("value").and_then(Value::as_str) else {
        return Err(bad(&format!("{field}.value"), "must be a string"));
    };
    let prefix = match o.get("prefix") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad(&format!("{field}.prefix"), "must be true or false")),
    };
    let name = match o.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(bad(&format!("{field}.name"), "must be a string")),
    };
    let mut step = FunnelStep {
        kind,
        value: value.to_owned(),
        prefix,
        name,
    };
    check_step(&mut step, field)?;
    Ok(step)
}

/// A funnel as the API shows it: its definition plus `status` (`building` while
/// its rollup is built in the background, then `ready`) and `progress_pct`.
pub(super) fn shown(f: &Funnel, build: Option<&BuildState>) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or_else(|_| json!({}));
    v["status"] = json!(build.map_or("ready", BuildState::status));
    v["progress_pct"] = json!(build.map_or(100, BuildState::progress_pct));
    v
}

pub(super) async fn build_of(
    state: &AppState,
    project_id: &str,
    fid: &str,
) -> ApiResult<Option<BuildState>> {
    Ok(state
        .store
        .funnel_build_states(project_id)
        .await?
        .into_iter()
        .find(|(id, _)| id == fid)
        .map(|(_, s)| s))
}

/// After a create or update: wakes the builder, whose new rollup the answer
/// reports as `building`.
async fn saved(state: &AppState, access: &ProjectAccess, funnel: &Funnel) -> ApiResult<Value> {
    state.funnel_builds.notify_one();
    let build = build_of(state, &access.project.id, &funnel.id).await?;
    Ok(shown(funnel, build.as_ref()))
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    AuditedJson(body, params): AuditedJson<FunnelBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (name, steps, window_days) = parse(body)?;
    let now = state.clock.now_ms();
    let funnel = Funnel {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        steps,
        window_days,
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .create_funnel(&access.project.id, &funnel)
        .await?;
    audit::record(
        &state,
        &access,
        "funnel.create",
        &format!("funnel/{}", funnel.id),
        params,
        ip,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(saved(&state, &access, &funnel).await?),
    ))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let funnels = state.store.list_funnels(&access.project.id).await?;
    let builds: HashMap<String, BuildState> = state
        .store
        .funnel_build_states(&access.project.id)
        .await?
        .into_iter()
        .collect();
    let funnels: Vec<Value> = funnels
        .iter()
        .map(|f| shown(f, builds.get(&f.id)))
        .collect();
    Ok(Json(json!({ "funnels": funnels })))
}

pub(super) async fn find(state: &AppState, access: &ProjectAccess, fid: &str) -> ApiResult<Funnel> {
    state
        .store
        .get_funnel(&access.project.id, fid)
        .await?
        .or_not_found("funnel")
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, fid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let funnel = find(&state, &access, &fid).await?;
    let build = build_of(&state, &access.project.id, &fid).await?;
    Ok(Json(shown(&funnel, build.as_ref())))
}

pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, fid)): Path<(String, String)>,
    AuditedJson(body, params): AuditedJson<FunnelBody>,
) -> ApiResult<Json<Value>> {
    let existing = find(&state, &access, &fid).await?;
    let (name, steps, window_days) = parse(body)?;
    let funnel = Funnel {
        name,
        steps,
        window_days,
        updated_at: state.clock.now_ms(),
        ..existing
    };
    state
        .store
        .update_funnel(&access.project.id, &funnel)
        .await?;
    audit::record(
        &state,
        &access,
        "funnel.update",
        &format!("funnel/{fid}"),
        params,
        ip,
    )
    .await?;
    Ok(Json(saved(&state, &access, &funnel).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, fid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_funnel(&access.project.id, &fid)
        .await
        .map_err(|_| ApiError::not_found("funnel"))?;
    audit::record(
        &state,
        &access,
        "funnel.delete",
        &format!("funnel/{fid}"),
        json!({}),
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
