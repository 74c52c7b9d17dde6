//! Ingestion endpoints.
//! - `POST /api/v1/collect`: browsers (`vibe.js`), authenticated by the public
//!   write key in the body; JSON or `text/plain` (so `sendBeacon` works without a
//!   CORS preflight).
//! - `POST /api/v1/track`, `POST /api/v1/identify`: server-side SDKs, authenticated
//!   with a project secret key; historical timestamps allowed for imports.
//!
//! A request is validated whole before anything is queued: one bad message rejects
//! the request and nothing of it is stored.

use std::sync::atomic::Ordering;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use vibe_core::message::{ClientInfo, TimestampPolicy};
use vibe_core::{ua, Message};
use vibe_store::{IngestJob, Project};

use crate::auth::SECRET_KEY_PREFIX;
use crate::collector::SubmitError;
use crate::error::{ApiError, ApiResult};
use crate::secrets::sha256_hex;
use crate::state::AppState;

pub async fn collect(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let origin = headers.get(header::ORIGIN).cloned();
    let result = collect_inner(&state, &headers, body).await;
    if result.is_err() {
        state.metrics.rejected.fetch_add(1, Ordering::Relaxed);
    }
    let mut res = result.into_response();
    if let Some(origin) = origin {
        // Every answer, errors included, is readable by the page that sent it, so
        // the tracker and developers see why (a disallowed origin gets a 403 body).
        res.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}

async fn collect_inner(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
    check_content_type(headers)?;
    let mut body = read_json(state, body).await?;
    let key = match body.get("key") {
        // A NUL cannot be in any key, and PostgreSQL would refuse to compare it.
        Some(Value::String(k)) if k.contains('\0') => {
            return Err(ApiError::field(
                "invalid_field",
                "key",
                "must not contain NUL (\\u0000) characters",
            ))
        }
        Some(Value::String(k)) if !k.is_empty() => k,
        None | Some(Value::Null) => {
            return Err(ApiError::field(
                "missing_field",
                "key",
                "`key` (the project's write key) is required",
            ))
        }
        Some(_) => return Err(ApiError::field("invalid_field", "key", "must be a string")),
    };
    let project = state
        .write_keys
        .project(state.store.as_ref(), key)
        .await?
        .ok_or_else(|| {
            ApiError::field("invalid_write_key", "key", "unknown write key")
                .with_status(StatusCode::UNAUTHORIZED)
        })?;
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let allowed = &project.allowed_origins;
        if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
            return Err(ApiError::client(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                format!("origin {origin} is not in this project's allowed origins"),
            ));
        }
    }
    let batch = batch_of(state, &mut body, "batch")?;
    if let Some(secret) = state
        .identity
        .required_secret(state.store.as_ref(), &project.id)
        .await?
    {
        crate::identity::verify_batch(&secret, batch)?;
    }
    ingest(
        state,
        &project,
        batch,
        headers,
        TimestampPolicy::ClampToNow,
        None,
    )
    .await
}

/// CORS preflight for `/api/v1/collect`. The project (and so its allowed origins)
/// is only known from the body, so the real check happens on the POST.
pub async fn preflight(headers: HeaderMap) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    let origin = headers
        .get(header::ORIGIN)
        .cloned()
        .unwrap_or(HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    for (name, value) in [
        (header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type"),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        (header::VARY, "Origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

pub async fn track(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    server_side(&state, &headers, body, "event").await
}

pub async fn identify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    server_side(&state, &headers, body, "identify").await
}

/// The project whose secret key the request carries (`Authorization:
/// Bearer sk_…`); 401 for a missing, unknown or revoked key (a write key
/// or an API token is not one).
pub(crate) async fn secret_key_project(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Project> {
    let key = crate::auth::bearer_from(headers)
        .filter(|k| k.starts_with(SECRET_KEY_PREFIX))
        .ok_or_else(|| {
            ApiError::unauthorized("send the project's secret key as `Authorization: Bearer sk_…`")
        })?;
    let project = state
        .store
        .project_by_secret_key(&sha256_hex(key))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the secret key is invalid or revoked"))?;
    Ok(project)
}

async fn server_side(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    kind: &'static str,
) -> ApiResult<Response> {
    let project = secret_key_project(state, headers).await?;
    check_content_type(headers)?;
    let mut body = read_json(state, body).await?;
    let batch = if body.get("batch").is_some() {
        std::mem::take(batch_of(state, &mut body, "batch")?)
    } else {
        vec![body]
    };
    ingest(
        state,
        &project,
        &batch,
        headers,
        TimestampPolicy::AllowHistorical,
        Some(kind),
    )
    .await
}

pub(crate) fn check_content_type(headers: &HeaderMap) -> ApiResult<()> {
    let Some(ct) = crate::csrf::media_type(headers) else {
        return Ok(());
    };
    if ct == "application/json" || ct == "text/plain" {
        Ok(())
    } else {
        Err(ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json or text/plain",
        ))
    }
}

pub(crate) async fn read_json(state: &AppState, body: Body) -> ApiResult<Value> {
    let limit = state.config.max_body_bytes;
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_json",
            "request body must be a JSON object",
        ));
    }
    Ok(value)
}

pub(crate) fn batch_of<'a>(
    state: &AppState,
    body: &'a mut Value,
    field: &str,
) -> ApiResult<&'a mut Vec<Value>> {
    let batch = match body.get_mut(field) {
        Some(Value::Array(b)) => b,
        None | Some(Value::Null) => {
            return Err(ApiError::field(
                "missing_field",
                field,
                "`batch` (an array of messages) is required",
            ))
        }
        Some(_) => {
            return Err(ApiError::field(
                "invalid_field",
                field,
                "must be an array of messages",
            ))
        }
    };
    let max = state.config.max_batch_len;
    if batch.is_empty() {
        return Err(ApiError::field(
            "invalid_field",
            field,
            "must contain at least one message",
        ));
    }
    if batch.len() > max {
        return Err(ApiError::field(
            "too_large",
            field,
            format!("must contain at most {max} messages"),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    Ok(batch)
}

async fn ingest(
    state: &AppState,
    project: &Project,
    batch: &[Value],
    headers: &HeaderMap,
    policy: TimestampPolicy,
    default_kind: Option<&'static str>,
) -> ApiResult<Response> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ua::is_bot(user_agent) && policy == TimestampPolicy::ClampToNow {
        state
            .metrics
            .bots_ignored
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"accepted": 0, "duplicates": 0, "ignored": batch.len()})),
        )
            .into_response());
    }
    let client = ua::classify(user_agent);
    let now = state.clock.now_ms();
    let messages = batch
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let field = if default_kind.is_some() && batch.len() == 1 {
                "body".to_owned()
            } else {
                format!("batch[{i}]")
            };
            let mut m = match default_kind {
                Some(kind) => Message::parse(&with_kind(raw, kind, &field)?, &field, now, policy)?,
                None => Message::parse(raw, &field, now, policy)?,
            };
            // Reserved events (payments, …) only from a backend with a secret key.
            vibe_core::reserved::validate(&m, &field, policy == TimestampPolicy::AllowHistorical)?;
            // A server-side SDK's User-Agent says nothing about the visitor.
            if policy == TimestampPolicy::ClampToNow {
                fill_client(&mut m.client, &client);
            }
            Ok(m)
        })
        .collect::<ApiResult<Vec<Message>>>()?;
    let job = IngestJob {
        project_id: project.id.clone(),
        timezone: project.timezone.clone(),
        messages,
        received_at: now,
    };
    match state.ingest.submit(job).await {
        Ok(o) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"accepted": o.accepted, "duplicates": o.duplicates})),
        )
            .into_response()),
        Err(SubmitError::Full) => {
            state.metrics.queue_full.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::Unavailable {
                code: "queue_full",
                message: "ingest queue is full; retry shortly".into(),
                retry_after_s: 1,
            })
        }
        Err(SubmitError::Closed) => Err(ApiError::Unavailable {
            code: "shutting_down",
            message: "server is restarting; retry shortly".into(),
            retry_after_s: 2,
        }),
        Err(SubmitError::Lost) => Err(ApiError::Unavailable {
            code: "storage_unavailable",
            message: "the writer restarted before these events were stored; retry".into(),
            retry_after_s: 1,
        }),
        // Isolated from its batch: only this request's data is at fault, and
        // sending it again would fail again (the tracker drops it on a 4xx).
        // The database's text names tables and columns: log it, never send it.
        Err(SubmitError::Rejected(e)) => {
            tracing::warn!(error = %e, "ingest request refused by the database");
            Err(ApiError::rejected_by_storage(
                "the database refused this request's data; sending it again will not help",
            ))
        }
        Err(SubmitError::Store(e)) => {
            tracing::error!(error = %e, "ingest failed");
            Err(ApiError::Unavailable {
                code: "storage_unavailable",
                message: "could not store the events; retry later".into(),
                retry_after_s: 5,
            })
        }
    }
}

/// Server-side messages may leave out `type` (`/track` means an event); on
/// `/identify` any other type is an error.
fn with_kind(raw: &Value, kind: &str, field: &str) -> ApiResult<Value> {
    let mut v = raw.clone();
    let Some(obj) = v.as_object_mut() else {
        return Err(ApiError::field(
            "invalid_field",
            field,
            "each message must be a JSON object",
        ));
    };
    match obj.get("type") {
        None | Some(Value::Null) => {
            obj.insert("type".into(), json!(kind));
        }
        Some(Value::String(t)) if kind == "identify" && t != "identify" => {
            return Err(ApiError::field(
                "invalid_field",
                &format!("{field}.type"),
                "must be identify on /api/v1/identify",
            ));
        }
        _ => {}
    }
    Ok(v)
}

fn fill_client(m: &mut ClientInfo, from_ua: &ClientInfo) {
    if m.device.is_none() {
        m.device.clone_from(&from_ua.device);
    }
    if m.browser.is_none() {
        m.browser.clone_from(&from_ua.browser);
    }
    if m.os.is_none() {
        m.os.clone_from(&from_ua.os);
    }
}
