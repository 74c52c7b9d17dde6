//! The support API: `POST /api/v1/support/conversations`, `…/messages` and
//! `…/events`, authenticated with a project secret key (`Authorization:
//! Bearer sk_…`, as `/api/v1/track`), so any helpdesk or bot reports its
//! conversations, their messages (bot handling, agents' answers) and what
//! happened to them (handoffs, intents, CSAT, resolutions) into Vibe.
//!
//! - Everything is keyed by the caller's **external ids** and idempotent on
//!   them: a conversation by `external_id` (unique per project), a message
//!   by `(channel, external_id)` (stored as the message's
//!   `channel_message_id`). Sending the same item twice stores it once; the
//!   answer is `201` when something was created, `200` when it was known.
//! - **Historical times** (`created_at`, `at`, Unix ms) are kept (imports);
//!   a time in the future is replaced by now. The support timers run from
//!   those times exactly as for any message (`vibe_store::inbox::timers`).
//! - A body is one item, or `{"batch": [...]}` (at most `max_batch_len`).
//!   The whole request is validated first — field errors name
//!   `batch[3].field` — and nothing is stored when any item is refused; the
//!   items are then applied in order, each idempotent, so a request that
//!   failed half-way (a storage error) can be sent again as it is.
//! - A project only ever reaches its own conversations: an external id of
//!   another project's conversation is unknown here (a new conversation,
//!   or 404 for a message or an event).

mod conversations;
mod events;
mod messages;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::Project;

use crate::api::tracking::collect::{batch_of, check_content_type, read_json, secret_key_project};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use conversations::conversations;
pub use events::events;
pub use messages::messages;

/// One item of a request and the prefix its field errors carry (`""` for a
/// single item, `batch[3].` in a batch).
pub(crate) struct Item {
    pub prefix: String,
    pub body: Map<String, Value>,
}

impl Item {
    pub fn field(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// The project of the secret key, and the items of the body.
pub(crate) async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<(Project, Vec<Item>, bool)> {
    let project = secret_key_project(state, headers).await?;
    check_content_type(headers)?;
    let mut body = read_json(state, body).await?;
    if body.get("batch").is_none() {
        let Value::Object(map) = body else {
            unreachable!("read_json returns an object")
        };
        return Ok((
            project,
            vec![Item {
                prefix: String::new(),
                body: map,
            }],
            false,
        ));
    }
    let batch = std::mem::take(batch_of(state, &mut body, "batch")?);
    let mut items = Vec::with_capacity(batch.len());
    for (i, v) in batch.into_iter().enumerate() {
        let Value::Object(map) = v else {
            return Err(ApiError::field(
                "invalid_field",
                &format!("batch[{i}]"),
                "each item must be a JSON object",
            ));
        };
        items.push(Item {
            prefix: format!("batch[{i}]."),
            body: map,
        });
    }
    Ok((project, items, true))
}

/// A Unix-ms time (`created_at`, `at`): `None` when absent; the future is now.
pub(crate) fn time(item: &Item, key: &str, now: i64) -> ApiResult<Option<i64>> {
    match item.body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let ts = v.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
                ApiError::field(
                    "invalid_field",
                    &item.field(key),
                    "must be a Unix timestamp in milliseconds",
                )
            })?;
            Ok(Some(ts.min(now)))
        }
    }
}

/// A required field's value.
pub(crate) fn required<'a>(item: &'a Item, key: &str, what: &str) -> ApiResult<&'a Value> {
    match item.body.get(key) {
        None | Some(Value::Null) => Err(ApiError::field("missing_field", &item.field(key), what)),
        Some(v) => Ok(v),
    }
}

/// Rewrites a field error of a plain field name to the item's path.
pub(crate) fn at_item(item: &Item) -> impl Fn(ApiError) -> ApiError + '_ {
    move |e| match e {
        ApiError::Client {
            status,
            code,
            message,
            field: Some(f),
        } => ApiError::Client {
            status,
            code,
            message,
            field: Some(format!("{}{f}", item.prefix)),
        },
        other => other,
    }
}

/// One item's answer, or the batch's (`{"results": [...]}`, 200).
pub(crate) fn answer(results: Vec<(bool, Value)>, batched: bool) -> (StatusCode, Json<Value>) {
    if batched {
        let list: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
        return (StatusCode::OK, Json(json!({ "results": list })));
    }
    let (created, v) = results.into_iter().next().unwrap_or((false, Value::Null));
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(v))
}

/// The conversation a message or an event names by external id (404
/// naming the field when the project has none).
pub(crate) async fn conversation_of(
    state: &AppState,
    project: &Project,
    item: &Item,
) -> ApiResult<vibe_store::inbox::Conversation> {
    use crate::api::inbox::fields::{text, MAX_SHORT_CHARS};
    let key = "conversation_external_id";
    let ext = required(item, key, "the conversation's external id")?;
    let ext = text(key, ext, MAX_SHORT_CHARS).map_err(at_item(item))?;
    state
        .store
        .conversation_by_external_id(&project.id, &ext)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "not_found",
                &item.field(key),
                "no conversation of this project has this external id (report it first)",
            )
            .with_status(StatusCode::NOT_FOUND)
        })
}

pub(crate) async fn handle<F, Fut>(
    state: State<AppState>,
    headers: HeaderMap,
    body: Body,
    f: F,
) -> ApiResult<(StatusCode, Json<Value>)>
where
    F: FnOnce(AppState, Project, Vec<Item>) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Vec<(bool, Value)>>>,
{
    let State(state) = state;
    let (project, items, batched) = read(&state, &headers, body).await?;
    let results = f(state, project, items).await?;
    Ok(answer(results, batched))
}
