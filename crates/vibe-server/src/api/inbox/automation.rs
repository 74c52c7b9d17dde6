//! `GET/PUT /api/v1/projects/{id}/inboxes/{iid}/automation` (admin): an
//! inbox's built-in bot — the out-of-business-hours auto-reply and keyword
//! rules (`vibe_store::inbox::automation` applies them to each contact's
//! message; docs/metrics.md, "Bots and auto-replies").

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::automation::{Automation, AwayReply, Rule};

use super::fields::{self, MAX_BODY_CHARS, MAX_SHORT_CHARS};
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const MAX_RULES: usize = 50;
const MAX_KEYWORDS: usize = 20;
/// `resolve_after_min` at most a week.
const MAX_RESOLVE_MIN: i64 = 7 * 24 * 60;

fn invalid(field: &str, msg: &str) -> ApiError {
    ApiError::field("invalid_field", field, msg)
}

async fn inbox_of(state: &AppState, access: &ProjectAccess, iid: &str) -> ApiResult<()> {
    let inboxes = state.store.inboxes(&access.project.id).await?;
    if inboxes.iter().any(|i| i.id == iid) {
        Ok(())
    } else {
        Err(ApiError::not_found("inbox"))
    }
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, iid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    inbox_of(&state, &access, &iid).await?;
    let a = state
        .store
        .inbox_automation(&access.project.id, &iid)
        .await?
        .unwrap_or_default();
    Ok(Json(json!(a)))
}

fn away(v: &Value) -> ApiResult<AwayReply> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("away_reply", "must be {\"enabled\", \"body\"}"))?;
    let mut out = AwayReply::default();
    for (key, v) in obj {
        let field = format!("away_reply.{key}");
        match key.as_str() {
            "enabled" => out.enabled = fields::flag(&field, v)?,
            "body" => out.body = fields::opt_text(&field, v, MAX_BODY_CHARS)?.unwrap_or_default(),
            _ => return Err(fields::unknown(&field, "enabled, body")),
        }
    }
    if out.enabled && out.body.is_empty() {
        return Err(ApiError::field(
            "missing_field",
            "away_reply.body",
            "the auto-reply's text",
        ));
    }
    Ok(out)
}

fn rule(i: usize, v: &Value) -> ApiResult<Rule> {
    let base = format!("rules[{i}]");
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(&base, "must be an object"))?;
    let (mut keywords, mut reply, mut intent, mut resolve) = (None, None, None, None);
    for (key, v) in obj {
        let field = format!("{base}.{key}");
        match key.as_str() {
            "keywords" => {
                let list = v
                    .as_array()
                    .filter(|l| !l.is_empty() && l.len() <= MAX_KEYWORDS)
                    .ok_or_else(|| invalid(&field, "must be a list of 1 to 20 keywords"))?;
                let mut out = Vec::with_capacity(list.len());
                for (j, k) in list.iter().enumerate() {
                    out.push(fields::text(&format!("{field}[{j}]"), k, 100)?.to_lowercase());
                }
                keywords = Some(out);
            }
            "reply" => reply = Some(fields::text(&field, v, MAX_BODY_CHARS)?),
            "intent" => intent = fields::opt_text(&field, v, MAX_SHORT_CHARS)?,
            "resolve_after_min" => {
                resolve = if v.is_null() {
                    None
                } else {
                    Some(fields::int_in(&field, v, 1, MAX_RESOLVE_MIN)?)
                }
            }
            _ => {
                return Err(fields::unknown(
                    &field,
                    "keywords, reply, intent, resolve_after_min",
                ))
            }
        }
    }
    Ok(Rule {
        keywords: keywords.ok_or_else(|| {
            ApiError::field(
                "missing_field",
                &format!("{base}.keywords"),
                "the words to match",
            )
        })?,
        reply: reply.ok_or_else(|| {
            ApiError::field(
                "missing_field",
                &format!("{base}.reply"),
                "the bot's answer",
            )
        })?,
        intent,
        resolve_after_min: resolve,
    })
}

pub async fn put(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, iid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    inbox_of(&state, &access, &iid).await?;
    let mut a = Automation::default();
    for (key, v) in &body {
        match key.as_str() {
            "away_reply" => a.away_reply = away(v)?,
            "rules" => {
                let list = v
                    .as_array()
                    .filter(|l| l.len() <= MAX_RULES)
                    .ok_or_else(|| invalid("rules", "must be a list of at most 50 rules"))?;
                a.rules = list
                    .iter()
                    .enumerate()
                    .map(|(i, r)| rule(i, r))
                    .collect::<ApiResult<_>>()?;
            }
            _ => return Err(fields::unknown(key, "away_reply, rules")),
        }
    }
    let now = state.clock.now_ms();
    state
        .store
        .put_inbox_automation(&access.project.id, &iid, &a, now)
        .await?;
    audit::record(
        &state,
        &access,
        "inbox.automation_update",
        &format!("inbox/{iid}"),
        Value::Object(body),
        ip,
    )
    .await?;
    Ok(Json(json!(a)))
}
