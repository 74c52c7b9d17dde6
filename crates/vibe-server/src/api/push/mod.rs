//! The tracked site's web push endpoints (issue 14), public and
//! CORS-readable like the chat widget's (`api/tracking/chat.rs`, whose write
//! key, origin and identity checks they reuse); `vibePush.subscribe()` in
//! `vibe.js` calls them. docs/push.md.
//!
//! - `GET /api/v1/push/key?key=wk_…`: `{public_key}`, the project's VAPID
//!   public key (base64url uncompressed point; generated on first use), the
//!   page's `applicationServerKey`.
//! - `POST /api/v1/push/subscribe` `{key, anonymous_id, user_id?, user_hash?,
//!   subscription: {endpoint, keys: {p256dh, auth}}}` (the subscription as
//!   `PushSubscription.toJSON()` gives it): stored on the visitor's person,
//!   found strictly as the chat finds it (`InboxStore::visitor_person`: a
//!   signed user id, else the anonymous id's person), so a page cannot attach
//!   its browser to someone else's contact. 201 for a new endpoint, 200 when
//!   the endpoint was known (renewed: keys, person, user agent).
//! - `POST /api/v1/push/unsubscribe` `{key, endpoint}`: removes it;
//!   `{removed}`. The endpoint is the browser's unguessable capability URL,
//!   so knowing it is what authorises removing it.
//!
//! The dashboard's side, below `/projects/{id}` (`routes.rs`):
//! `contact.rs`, a contact's subscriptions.

pub mod contact;
pub mod routes;
mod subscription;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::api::inbox::fields;
use crate::api::tracking::chat::{
    body_of, check_origin, cors, id_field, project_of_key, verified_user_id,
};
use crate::error::{ApiError, ApiResult};
use crate::push::keys::{project_key, KeyError};
use crate::state::AppState;

pub use crate::api::tracking::chat::preflight;

/// The user agent kept with a subscription, at most (it only labels a row).
const MAX_USER_AGENT_CHARS: usize = 512;

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Store(e) => e.into(),
            e => ApiError::Internal(e.into()),
        }
    }
}

pub async fn key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let project = project_of_key(&state, q.get("key").map(String::as_str)).await?;
        check_origin(&project, &headers)?;
        let key = project_key(&state, &project.id).await?;
        Ok::<_, ApiError>(Json(json!({ "public_key": key.public_key() })))
    }
    .await;
    cors(&headers, result)
}

pub async fn subscribe(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = subscribe_inner(&state, &headers, body).await;
    cors(&headers, result)
}

async fn subscribe_inner(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
    let body = body_of(state, body).await?;
    for k in body.keys() {
        if !matches!(
            k.as_str(),
            "key" | "anonymous_id" | "user_id" | "user_hash" | "subscription"
        ) {
            return Err(fields::unknown(
                k,
                "key, anonymous_id, user_id, user_hash, subscription",
            ));
        }
    }
    let project = project_of_key(state, id_field(&body, "key")?.as_deref()).await?;
    check_origin(&project, headers)?;
    let anonymous_id = id_field(&body, "anonymous_id")?.ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "anonymous_id",
            "the tracker's anonymous id",
        )
    })?;
    let user_id = verified_user_id(state, &project, &body).await?;
    let parsed = subscription::parse(
        body.get("subscription").unwrap_or(&Value::Null),
        state.config.push_allow_http,
    )?;
    let person = state
        .store
        .visitor_person(&project.id, &anonymous_id, user_id.as_deref())
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "anonymous_id",
                "this anonymous id cannot subscribe",
            )
            .with_status(StatusCode::UNAUTHORIZED)
        })?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect::<String>())
        .filter(|ua| !ua.is_empty() && !ua.contains('\0'));
    let new = vibe_store::push::NewPushSubscription {
        site_user_id: person,
        endpoint: parsed.endpoint,
        p256dh: parsed.p256dh,
        auth: parsed.auth,
        user_agent,
    };
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now_ms();
    let stored = state
        .store
        .upsert_push_subscription(&project.id, &id, &new, now)
        .await?;
    let status = if stored.id == id {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "subscribed": true }))).into_response())
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let body = body_of(&state, body).await?;
        for k in body.keys() {
            if !matches!(k.as_str(), "key" | "endpoint") {
                return Err(fields::unknown(k, "key, endpoint"));
            }
        }
        let project = project_of_key(&state, id_field(&body, "key")?.as_deref()).await?;
        check_origin(&project, &headers)?;
        let endpoint = body
            .get("endpoint")
            .filter(|v| !v.is_null())
            .ok_or_else(|| {
                ApiError::field("missing_field", "endpoint", "the subscription's endpoint")
            })
            .and_then(|v| fields::text("endpoint", v, subscription::MAX_ENDPOINT_CHARS))?;
        let removed = state
            .store
            .delete_push_subscription(&project.id, &endpoint)
            .await?;
        Ok::<_, ApiError>(Json(json!({ "removed": removed })))
    }
    .await;
    cors(&headers, result)
}
