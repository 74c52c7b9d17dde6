//! The chat widget's endpoints (`/vibe-chat.js`, issue 12 "In-app"), beside
//! the collector: public, CORS-readable from any page, and answered only
//! while the project's `in_app` channel is enabled (404 otherwise).
//!
//! - `GET /api/v1/chat/config?key=wk_…`: `{enabled}` (the widget shows
//!   nothing when false).
//! - `POST /api/v1/chat/session` `{key, anonymous_id, user_id?, user_hash?}`:
//!   a visitor token, `vct_<payload>.<signature>`, HMAC-SHA256 under a key
//!   derived from the vault's ([`crate::vault::Vault::sign`]) over the
//!   project, the anonymous id, the user id (only a verified one) and an
//!   expiry ([`TOKEN_TTL_MS`]). A `user_id` counts only with a valid
//!   `user_hash` from the project's identity secret (`identity.rs`); without
//!   a secret, or unsigned, it is ignored and the token binds the anonymous
//!   id alone — anyone can claim a user id, so it never opens a chat.
//! - With `Authorization: Bearer vct_…`: `GET /api/v1/chat/messages` (the
//!   visitor's conversation: no private notes), `POST /api/v1/chat/messages`
//!   `{body}` (inbound, creates the `in_app` conversation on the first one),
//!   `POST /api/v1/chat/read` `{message_id}` (the agent's messages up to it
//!   become `read`: the agent's read tick).
//!
//! Which conversation: the visitor's person, found strictly
//! (`InboxStore::visitor_person`), and their latest `in_app` conversation.
//! A forged, expired or altered token is 401; a token only ever names its
//! own project and person, so visitor A can never read B's messages.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Map, Value};
use vibe_store::inbox::{
    Channel, ConversationQuery, DeliveryStatus, Direction, Message, NewConversation, NewMessage,
    Priority, Scope, Sender, Status,
};
use vibe_store::Project;

use crate::api::inbox::fields;
use crate::api::parse_json;
use crate::error::{ApiError, ApiResult};
use crate::live::record::InboxChange;
use crate::state::AppState;

pub const TOKEN_PREFIX: &str = "vct_";
/// A token lasts a day; the widget asks for a new one when it gets a 401.
pub const TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;
/// A visitor's message, at most.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Messages one visitor may send per [`SEND_WINDOW_MS`] (on this node).
pub const MAX_SENDS: usize = 10;
pub const SEND_WINDOW_MS: i64 = 60 * 1000;
/// Ids are what the tracker generates; bounded like the collector's.
const MAX_ID_CHARS: usize = 200;
/// The thread the widget shows: the newest this many.
const THREAD_LIMIT: i64 = 100;
const PURPOSE: &str = "chat-visitor-token";

/// What a visitor token binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub project_id: String,
    pub anonymous_id: String,
    pub user_id: Option<String>,
    pub expires_at: i64,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

pub fn issue(state: &AppState, v: &Visitor) -> String {
    let payload = json!({
        "p": v.project_id,
        "a": v.anonymous_id,
        "u": v.user_id,
        "x": v.expires_at,
    })
    .to_string();
    let sig = state.vault.sign(PURPOSE, payload.as_bytes());
    format!(
        "{TOKEN_PREFIX}{}.{}",
        b64().encode(payload.as_bytes()),
        b64().encode(sig)
    )
}

/// The visitor a token names, if the server signed it and it has not expired.
pub fn verify(state: &AppState, token: &str, now_ms: i64) -> Option<Visitor> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (payload, sig) = rest.split_once('.')?;
    let payload = b64().decode(payload).ok()?;
    let sig = b64().decode(sig).ok()?;
    if !state.vault.verify(PURPOSE, &payload, &sig) {
        return None;
    }
    let v: Value = serde_json::from_slice(&payload).ok()?;
    let visitor = Visitor {
        project_id: v.get("p")?.as_str()?.to_owned(),
        anonymous_id: v.get("a")?.as_str()?.to_owned(),
        user_id: v.get("u").and_then(Value::as_str).map(str::to_owned),
        expires_at: v.get("x")?.as_i64()?,
    };
    (visitor.expires_at > now_ms).then_some(visitor)
}

/// Every answer, errors included, is readable by the page that asked.
pub(crate) fn cors(headers: &HeaderMap, res: impl IntoResponse) -> Response {
    let mut res = res.into_response();
    let h = res.headers_mut();
    let origin = headers
        .get(header::ORIGIN)
        .cloned()
        .unwrap_or(HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// CORS preflight for the chat routes (JSON bodies and the token header).
pub async fn preflight(headers: HeaderMap) -> Response {
    let mut res = cors(&headers, StatusCode::NO_CONTENT);
    let h = res.headers_mut();
    for (name, value) in [
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Content-Type, Authorization",
        ),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

async fn enabled(state: &AppState, project_id: &str) -> ApiResult<bool> {
    Ok(state
        .store
        .get_channel(project_id, "in_app")
        .await?
        .is_some_and(|c| c.enabled))
}

fn disabled() -> ApiError {
    ApiError::not_found("chat")
}

pub(crate) async fn project_of_key(state: &AppState, key: Option<&str>) -> ApiResult<Project> {
    let key = key.filter(|k| !k.is_empty()).ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "key",
            "`key` (the project's write key) is required",
        )
    })?;
    if key.contains('\0') {
        return Err(ApiError::field(
            "invalid_field",
            "key",
            "must not contain NUL (\\u0000) characters",
        ));
    }
    state
        .write_keys
        .project(state.store.as_ref(), key)
        .await?
        .ok_or_else(|| {
            ApiError::field("invalid_write_key", "key", "unknown write key")
                .with_status(StatusCode::UNAUTHORIZED)
        })
}

pub async fn config(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let project = project_of_key(&state, q.get("key").map(String::as_str)).await?;
        Ok::<_, ApiError>(Json(
            json!({ "enabled": enabled(&state, &project.id).await? }),
        ))
    }
    .await;
    cors(&headers, result)
}

pub(crate) async fn body_of(state: &AppState, body: Body) -> ApiResult<Map<String, Value>> {
    let limit = state.config.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    })?;
    parse_json(&bytes)
}

pub(crate) fn id_field(body: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let s = fields::text(key, v, MAX_ID_CHARS)?;
            if s.contains('\0') {
                return Err(ApiError::field(
                    "invalid_field",
                    key,
                    "must not contain NUL (\\u0000) characters",
                ));
            }
            Ok(Some(s))
        }
    }
}

/// 403 when the request comes from a page outside the project's allowed
/// origins (none listed: any page).
pub(crate) fn check_origin(project: &Project, headers: &HeaderMap) -> ApiResult<()> {
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
    Ok(())
}

/// The body's `user_id` when its `user_hash` proves it under the project's
/// identity secret; `None` without a secret or unsigned (anyone can claim a
/// user id), 401 for a hash that does not match.
pub(crate) async fn verified_user_id(
    state: &AppState,
    project: &Project,
    body: &Map<String, Value>,
) -> ApiResult<Option<String>> {
    let user_hash = id_field(body, "user_hash")?;
    let (Some(uid), Some(hash)) = (id_field(body, "user_id")?, user_hash) else {
        return Ok(None);
    };
    let secret = state
        .identity
        .required_secret(state.store.as_ref(), &project.id)
        .await?;
    match secret {
        Some(secret) if crate::identity::verify(&secret, &uid, &hash) => Ok(Some(uid)),
        Some(_) => Err(ApiError::field(
            "invalid_user_hash",
            "user_hash",
            "does not match user_id under the project's identity secret",
        )
        .with_status(StatusCode::UNAUTHORIZED)),
        None => Ok(None),
    }
}

pub async fn session(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = session_inner(&state, &headers, body).await;
    cors(&headers, result)
}

async fn session_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let body = body_of(state, body).await?;
    for key in body.keys() {
        if !matches!(
            key.as_str(),
            "key" | "anonymous_id" | "user_id" | "user_hash"
        ) {
            return Err(fields::unknown(
                key,
                "key, anonymous_id, user_id, user_hash",
            ));
        }
    }
    let key = id_field(&body, "key")?;
    let project = project_of_key(state, key.as_deref()).await?;
    check_origin(&project, headers)?;
    if !enabled(state, &project.id).await? {
        return Err(disabled());
    }
    let anonymous_id = id_field(&body, "anonymous_id")?.ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "anonymous_id",
            "the tracker's anonymous id",
        )
    })?;
    // Only a signed user id opens that user's chat (see the module docs).
    let user_id = verified_user_id(state, &project, &body).await?;
    let now = state.clock.now_ms();
    let visitor = Visitor {
        project_id: project.id.clone(),
        anonymous_id,
        user_id,
        expires_at: now + TOKEN_TTL_MS,
    };
    Ok(Json(json!({
        "token": issue(state, &visitor),
        "expires_at": visitor.expires_at,
        "identified": visitor.user_id.is_some(),
    })))
}

/// The visitor of the request's token, while their project's chat is on.
async fn visitor_of(state: &AppState, headers: &HeaderMap) -> ApiResult<Visitor> {
    let token = crate::auth::bearer_from(headers).ok_or_else(|| {
        ApiError::unauthorized("send the chat token as `Authorization: Bearer vct_…`")
    })?;
    let v = verify(state, token, state.clock.now_ms())
        .ok_or_else(|| ApiError::unauthorized("the chat token is invalid or expired"))?;
    if !enabled(state, &v.project_id).await? {
        return Err(disabled());
    }
    Ok(v)
}

/// The visitor's person; 401 when their anonymous id names someone else.
async fn person_of(state: &AppState, v: &Visitor) -> ApiResult<String> {
    state
        .store
        .visitor_person(&v.project_id, &v.anonymous_id, v.user_id.as_deref())
        .await?
        .ok_or_else(|| ApiError::unauthorized("this anonymous id cannot chat"))
}

pub(crate) async fn conversation_of(
    state: &AppState,
    project_id: &str,
    person: &str,
) -> ApiResult<Option<vibe_store::inbox::Conversation>> {
    let query = ConversationQuery {
        channel: Some(Channel::InApp),
        site_user_id: Some(person.to_owned()),
        limit: 1,
        ..ConversationQuery::default()
    };
    let page = state
        .store
        .list_conversations(project_id, &Scope::All, &query)
        .await?;
    Ok(page.items.into_iter().next())
}

/// A message as the visitor sees it: no account ids, no provider ids.
fn visitor_message(m: &Message) -> Value {
    json!({
        "id": m.id,
        "direction": m.direction,
        "sender": m.sender,
        "body": m.body,
        "delivery_status": m.delivery_status,
        "created_at": m.created_at,
        "read_at": m.read_at,
    })
}

/// The thread, oldest first, without private notes.
async fn thread(
    state: &AppState,
    project_id: &str,
    conversation_id: &str,
) -> ApiResult<Vec<Message>> {
    let page = state
        .store
        .messages(project_id, &Scope::All, conversation_id, None, THREAD_LIMIT)
        .await?;
    let mut items: Vec<Message> = page
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.private == 0)
        .collect();
    items.reverse();
    Ok(items)
}

pub async fn messages(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let v = visitor_of(&state, &headers).await?;
        let person = person_of(&state, &v).await?;
        let Some(c) = conversation_of(&state, &v.project_id, &person).await? else {
            return Ok(Json(json!({ "conversation_id": null, "messages": [] })));
        };
        let items = thread(&state, &v.project_id, &c.id).await?;
        Ok::<_, ApiError>(Json(json!({
            "conversation_id": c.id,
            "status": c.status,
            "messages": items.iter().map(visitor_message).collect::<Vec<_>>(),
        })))
    }
    .await;
    cors(&headers, result)
}

/// Sends per visitor in the last window, on this node.
fn sends() -> &'static Mutex<HashMap<String, VecDeque<i64>>> {
    static SENDS: OnceLock<Mutex<HashMap<String, VecDeque<i64>>>> = OnceLock::new();
    SENDS.get_or_init(Default::default)
}

/// `Err(seconds to wait)` when the visitor sent [`MAX_SENDS`] already.
fn take_send(key: &str, now: i64) -> Result<(), u64> {
    let mut map = sends().lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > 100_000 {
        map.retain(|_, t| t.back().is_some_and(|t| *t > now - SEND_WINDOW_MS));
    }
    let times = map.entry(key.to_owned()).or_default();
    while times.front().is_some_and(|t| *t <= now - SEND_WINDOW_MS) {
        times.pop_front();
    }
    if times.len() >= MAX_SENDS {
        let frees = times.front().copied().unwrap_or(now) + SEND_WINDOW_MS;
        return Err(((frees - now).max(1000) as u64).div_ceil(1000));
    }
    times.push_back(now);
    Ok(())
}

pub async fn send(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = send_inner(&state, &headers, body).await;
    cors(&headers, result)
}

async fn send_inner(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
    let v = visitor_of(state, headers).await?;
    let body = body_of(state, body).await?;
    let mut text = None;
    for (key, value) in &body {
        match key.as_str() {
            "body" => text = Some(fields::text(key, value, MAX_MESSAGE_CHARS)?),
            _ => return Err(fields::unknown(key, "body")),
        }
    }
    let text = text.ok_or_else(|| ApiError::field("missing_field", "body", "the message text"))?;
    let person = person_of(state, &v).await?;
    let now = state.clock.now_ms();
    if let Err(wait) = take_send(&format!("{}\n{person}", v.project_id), now) {
        let mut res = ApiError::client(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("at most {MAX_SENDS} messages a minute; try again in {wait} s"),
        )
        .into_response();
        if let Ok(h) = HeaderValue::from_str(&wait.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, h);
        }
        return Ok(res);
    }
    let project = &v.project_id;
    let conversation = match conversation_of(state, project, &person).await? {
        Some(c) => c,
        None => {
            // The project's oldest in-app inbox (and so its team), if any.
            let inbox = state
                .store
                .inboxes(project)
                .await?
                .into_iter()
                .filter(|i| i.channel == Channel::InApp.as_str())
                .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            let new = NewConversation {
                id: uuid::Uuid::new_v4().to_string(),
                site_user_id: person.clone(),
                channel: Channel::InApp,
                status: Status::Open,
                priority: Priority::Medium,
                assignee_account_id: None,
                team_id: None,
                inbox_id: inbox.map(|i| i.id),
                handled_by_bot: false,
                intent: None,
                is_lead: false,
                external_id: None,
                created_by_account_id: None,
                created_at: now,
            };
            state.store.create_conversation(project, &new).await?.0
        }
    };
    let new = NewMessage {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: conversation.id.clone(),
        direction: Direction::In,
        sender: Sender::Contact,
        sender_account_id: None,
        body: text,
        private: false,
        attachments: "[]".into(),
        delivery_status: DeliveryStatus::Delivered,
        channel_message_id: None,
        created_at: now,
    };
    let (message, _) = state
        .store
        .add_message(project, &Scope::All, &new)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    crate::live::inbox::publish(
        state,
        project,
        vec![InboxChange::Message(message.id.clone())],
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "conversation_id": conversation.id,
            "message": visitor_message(&message),
        })),
    )
        .into_response())
}

pub async fn read(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = read_inner(&state, &headers, body).await;
    cors(&headers, result)
}

async fn read_inner(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Json<Value>> {
    let v = visitor_of(state, headers).await?;
    let body = body_of(state, body).await?;
    let mut upto = None;
    for (key, value) in &body {
        match key.as_str() {
            "message_id" => upto = Some(fields::text(key, value, MAX_ID_CHARS)?),
            _ => return Err(fields::unknown(key, "message_id")),
        }
    }
    let upto = upto.ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "message_id",
            "the newest message the visitor has seen",
        )
    })?;
    let person = person_of(state, &v).await?;
    let project = &v.project_id;
    let Some(c) = conversation_of(state, project, &person).await? else {
        return Err(ApiError::not_found("message"));
    };
    let items = thread(state, project, &c.id).await?;
    let Some(pos) = items.iter().position(|m| m.id == upto) else {
        return Err(ApiError::not_found("message"));
    };
    let now = state.clock.now_ms();
    let mut changes = Vec::new();
    for m in &items[..=pos] {
        if m.direction == Direction::Out.as_str() && m.read_at.is_none() {
            state
                .store
                .set_delivery_status(project, &m.id, DeliveryStatus::Read, now, None)
                .await?;
            changes.push(InboxChange::Delivery(m.id.clone()));
        }
    }
    let read = changes.len();
    crate::live::inbox::publish(state, project, changes);
    Ok(Json(json!({ "read": read })))
}
