//! REST handlers under `/api/v1`, one module tree per domain, the same
//! domains as `vibe_store` (accounts, projects, tracking, people, crm,
//! analytics, funnels, flows, retention, revenue, segments, …). Inside a domain, files mirror the URL paths: `funnels/mod.rs`
//! serves `/projects/{id}/funnels` and `/funnels/{fid}`, `funnels/conversion.rs`
//! serves `/funnels/{fid}/conversion`. Logic that only one domain's handlers
//! use sits in its tree too (`funnels/builder.rs`, `analytics/definitions.rs`);
//! what several domains share (auth, errors, state, the collector's queue, the
//! live hubs) stays at the crate root.
//!
//! A new domain is `api/<domain>/mod.rs` plus one file per path below it; its
//! project routes, each with its least role, are `api/<domain>/routes.rs`,
//! listed once in `router/project_routes.rs`; any others go in `router.rs`.

pub mod accounts;
pub mod ai_usage;
pub mod analytics;
pub mod audit;
pub mod broadcasts;
pub mod campaigns;
pub mod channels;
pub mod crm;
pub mod features;
pub mod flows;
pub mod funnels;
pub mod inbox;
pub mod people;
pub mod projects;
pub mod push;
pub mod query;
pub mod retention;
pub mod revenue;
pub mod segments;
pub mod support;
pub mod support_analytics;
pub mod templates;
pub mod tracking;
pub mod webhooks;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::Name;
use crate::error::{ApiError, ApiResult};
use crate::secrets::Issued;

/// JSON body whose failures use the API's error shape and name the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::client(e.status(), "invalid_body", e.body_text()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    typed_body(json_value(bytes)?)
}

/// The body as JSON, any shape (400 `invalid_json` if it is not JSON).
pub fn json_value(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })
}

/// A JSON body as `T`, the error naming the field.
pub fn typed_body<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or("body").to_owned();
        let code = if msg.starts_with("missing field") {
            "missing_field"
        } else {
            "invalid_field"
        };
        ApiError::field(code, &field, msg)
    })
}

/// The body that creates an API token or a project key: just its name.
#[derive(Deserialize)]
pub struct NameBody {
    name: String,
}

impl NameBody {
    pub fn name(&self) -> ApiResult<String> {
        Name::parse("name", &self.name).map(Name::into_inner)
    }
}

/// `201 {kind: row, "secret": …}`: the only response that carries the secret.
pub fn shown_once(kind: &str, row: impl Serialize, issued: Issued) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({ kind: row, "secret": issued.secret })),
    )
}
