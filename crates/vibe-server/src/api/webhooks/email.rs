//! `POST /api/v1/webhooks/email/{project_id}`: inbound mail, as JSON, from
//! whatever receives the project's mail (a provider's inbound-parse hook, a
//! small relay script; format in `docs/api.md`):
//!
//! ```json
//! {"from": "Ann Lee <ann@example.com>", "to": "help@shop.example",
//!  "subject": "Re: Your order", "text": "…", "html": "…",
//!  "message_id": "<abc@mail.example.com>", "in_reply_to": "<…>",
//!  "references": "<…> <…>", "attachments": [{"filename", "content_type", "size"}]}
//! ```
//!
//! Signed with `X-Vibe-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
//! keyed by the email channel's write-only `inbound_secret`; a channel
//! without one answers every request 401 (nothing can be verified). The
//! order of the checks is the other webhooks': channel enabled (else 404),
//! size (413), signature (401), then the payload (400 naming the field).
//! Threading and idempotency are the store's
//! (`vibe_store::inbox::inbound_email`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::inbox::InboundEmail;

use super::signature::{verify_email, Refusal};
use super::{bad_signature, channel_for_body, refuse};
use crate::api::channels::settings::Kind;
use crate::domain::Email;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const CHANNEL: &str = "email";
/// Longest accepted text (the rest of a huge email is cut, not refused).
const MAX_TEXT_CHARS: usize = 100_000;
const MAX_SUBJECT_CHARS: usize = 998;
const MAX_ID_LEN: usize = 998;
const MAX_THREAD_IDS: usize = 50;
const MAX_ATTACHMENTS: usize = 50;

pub async fn receive(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let channel = channel_for_body(&state, &project_id, Kind::Email, &body).await?;
    let header = headers
        .get("x-vibe-signature")
        .and_then(|v| v.to_str().ok());
    let Some(secret) = channel.secrets.get("inbound_secret") else {
        return Err(refuse(
            &state,
            CHANNEL,
            "no_inbound_secret",
            ApiError::client(
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
                "the email channel has no inbound_secret: set one to receive mail",
            ),
        ));
    };
    verify_email(secret.as_bytes(), &body, header)
        .map_err(|r: Refusal| bad_signature(&state, CHANNEL, r))?;
    let mail = parse(&body).map_err(|e| refuse(&state, CHANNEL, "bad_payload", e))?;
    state.metrics.webhook_parsed.add(CHANNEL, "message", 1);
    let inbound = InboundEmail {
        channel_message_id: mail.message_id,
        thread_ids: mail.thread_ids,
        address: mail.from_address,
        name: mail.from_name,
        subject: mail.subject,
        body: mail.text,
        attachments: mail.attachments,
        at: state.clock.now_ms(),
        message_id: uuid::Uuid::new_v4().to_string(),
        conversation_id: uuid::Uuid::new_v4().to_string(),
    };
    let out = state
        .store
        .receive_inbound_email(&project_id, &inbound)
        .await?;
    let m = &state.metrics;
    for (outcome, hit) in [
        ("message_stored", out.stored),
        ("message_duplicate", out.duplicate),
        ("message_threaded", out.threaded),
        ("person_created", out.person_created),
        ("conversation_opened", out.conversation_opened),
    ] {
        if hit {
            m.webhook_stored.add(CHANNEL, outcome, 1);
        }
    }
    tracing::debug!(project = %project_id, stored = out.stored, duplicate = out.duplicate,
        threaded = out.threaded, "inbound email stored");
    Ok((
        StatusCode::OK,
        Json(json!({"stored": out.stored, "duplicate": out.duplicate,
            "threaded": out.threaded, "conversation_id": out.conversation_id})),
    ))
}

/// A verified body's content, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Lowercased.
    pub from_address: String,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    /// `text`, else `html` reduced to text.
    pub text: String,
    /// `<…>`.
    pub message_id: String,
    /// `in_reply_to`, then `references` newest first, each `<…>`, no repeats.
    pub thread_ids: Vec<String>,
    /// JSON array text: `[{"name", "type", "size"}]` (metadata only).
    pub attachments: String,
}

fn invalid(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::field("invalid_field", field, msg)
}

fn missing(field: &str) -> ApiError {
    ApiError::field("missing_field", field, format!("missing field `{field}`"))
}

fn string<'a>(o: &'a Map<String, Value>, field: &str) -> ApiResult<Option<&'a str>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

/// Parses a verified body; a refusal names the field.
pub fn parse(body: &[u8]) -> ApiResult<InboundMail> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(o) = v else {
        return Err(invalid("body", "must be a JSON object"));
    };
    let from = string(&o, "from")?.ok_or_else(|| missing("from"))?;
    let (from_name, from_address) =
        mailbox(from).ok_or_else(|| invalid("from", "must be an address or `Name <address>`"))?;
    let from_address = Email::parse("from", &from_address)?.into_inner();
    match o.get("to") {
        None | Some(Value::Null) => return Err(missing("to")),
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {}
        Some(_) => return Err(invalid("to", "must be an address or a list of addresses")),
    }
    let subject = string(&o, "subject")?.ok_or_else(|| missing("subject"))?;
    let subject: String = subject
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SUBJECT_CHARS)
        .collect();
    let subject = Some(subject.trim().to_owned()).filter(|s| !s.is_empty());
    let text = string(&o, "text")?.ok_or_else(|| missing("text"))?;
    let html = string(&o, "html")?;
    let text = match (text.trim().is_empty(), html) {
        (true, Some(h)) => html_to_text(h),
        _ => text.to_owned(),
    };
    let text: String = text
        .replace('\0', "")
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    let message_id = string(&o, "message_id")?.ok_or_else(|| missing("message_id"))?;
    let message_id = match ids(message_id).as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(invalid(
                "message_id",
                "must be one message id (`<id@host>`)",
            ))
        }
    };
    let mut thread_ids: Vec<String> = Vec::new();
    if let Some(s) = string(&o, "in_reply_to")? {
        thread_ids.extend(ids(s));
    }
    let mut refs = match o.get("references") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => ids(s),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (i, r) in a.iter().enumerate() {
                let s = r
                    .as_str()
                    .ok_or_else(|| invalid(&format!("references[{i}]"), "must be a string"))?;
                out.extend(ids(s));
            }
            out
        }
        Some(_) => {
            return Err(invalid(
                "references",
                "must be a string of ids or a list of ids",
            ))
        }
    };
    // The newest reference (the parent) is the last.
    refs.reverse();
    for id in refs {
        if !thread_ids.contains(&id) && id != message_id {
            thread_ids.push(id);
        }
    }
    thread_ids.truncate(MAX_THREAD_IDS);
    let attachments = attachments(o.get("attachments"))?;
    Ok(InboundMail {
        from_address,
        from_name,
        subject,
        text,
        message_id,
        thread_ids,
        attachments,
    })
}

/// `Name <addr>`, `"Name, Jr." <addr>`, `<addr>` or `addr` → (name, addr).
fn mailbox(s: &str) -> Option<(Option<String>, String)> {
    let s = s.trim();
    match (s.rfind('<'), s.ends_with('>')) {
        (Some(i), true) => {
            let addr = s[i + 1..s.len() - 1].trim().to_owned();
            let name = s[..i].trim().trim_matches('"').trim();
            let name = (!name.is_empty() && !name.chars().any(char::is_control))
                .then(|| name.chars().take(200).collect());
            Some((name, addr))
        }
        (None, false) if !s.is_empty() => Some((None, s.to_owned())),
        _ => None,
    }
}

/// The message ids of a header value, each as `<…>`: the `<…>` tokens, or
/// the bare whitespace-separated tokens when there are none.
pub fn ids(s: &str) -> Vec<String> {
    let ok = |id: &str| {
        !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && !id.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    };
    let mut out = Vec::new();
    if s.contains('<') {
        for part in s.split('<').skip(1) {
            if let Some((id, _)) = part.split_once('>') {
                if ok(id.trim()) {
                    out.push(format!("<{}>", id.trim()));
                }
            }
        }
    } else {
        for id in s.split_whitespace() {
            if ok(id) {
                out.push(format!("<{id}>"));
            }
        }
    }
    out
}

fn attachments(v: Option<&Value>) -> ApiResult<String> {
    let list = match v {
        None | Some(Value::Null) => return Ok("[]".to_owned()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("attachments", "must be a list of objects")),
    };
    if list.len() > MAX_ATTACHMENTS {
        return Err(invalid(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let field = |k: &str| format!("attachments[{i}].{k}");
        let Value::Object(a) = a else {
            return Err(invalid(&format!("attachments[{i}]"), "must be an object"));
        };
        let text = |k: &str| -> ApiResult<Option<String>> {
            match a.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.chars().count() <= 255 => Ok(Some(s.clone())),
                Some(_) => Err(invalid(
                    &field(k),
                    "must be a string of at most 255 characters",
                )),
            }
        };
        let name = text("filename")?.ok_or_else(|| missing(&field("filename")))?;
        let content_type = text("content_type")?;
        let size = match a.get("size") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .ok_or_else(|| invalid(&field("size"), "must be a byte count"))?,
            ),
            Some(_) => return Err(invalid(&field("size"), "must be a byte count")),
        };
        out.push(json!({"name": name, "type": content_type, "size": size}));
    }
    Ok(Value::Array(out).to_string())
}

/// A readable text of an HTML-only email: tags dropped, line breaks kept
/// for `<br>` and block ends, the common entities decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[i + 1..i + j]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(name, "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3") {
            out.push('\n');
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::Client { field, .. } => field.unwrap_or_default(),
            other => panic!("not a client error: {other}"),
        }
    }

    fn body() -> Value {
        json!({"from": "\"Lee, Ann\" <Ann@Example.com>", "to": "help@shop.example",
            "subject": "Re: Your order", "text": "Thanks!", "message_id": "<x1@mail.example>",
            "in_reply_to": "<m4@shop.example>",
            "references": "<a@mail.example> <m2@shop.example> <m4@shop.example>",
            "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "size": 12}]})
    }

    #[test]
    fn a_full_body() {
        let m = parse(body().to_string().as_bytes()).unwrap();
        assert_eq!(m.from_address, "ann@example.com");
        assert_eq!(m.from_name.as_deref(), Some("Lee, Ann"));
        assert_eq!(m.subject.as_deref(), Some("Re: Your order"));
        assert_eq!(m.message_id, "<x1@mail.example>");
        assert_eq!(
            m.thread_ids,
            ["<m4@shop.example>", "<m2@shop.example>", "<a@mail.example>"]
        );
        assert_eq!(
            m.attachments,
            r#"[{"name":"a.pdf","size":12,"type":"application/pdf"}]"#
        );
    }

    #[test]
    fn ids_with_or_without_brackets() {
        assert_eq!(ids(" x@y "), ["<x@y>"]);
        assert_eq!(ids("<a@b>\r\n <c@d>"), ["<a@b>", "<c@d>"]);
        assert_eq!(ids("<>"), Vec::<String>::new());
        let mut b = body();
        b["references"] = json!(["<a@b>", "c@d"]);
        b["in_reply_to"] = Value::Null;
        let m = parse(b.to_string().as_bytes()).unwrap();
        assert_eq!(m.thread_ids, ["<c@d>", "<a@b>"]);
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let mut b = body();
        b["text"] = json!("");
        b["html"] = json!("<p>Hello&nbsp;<b>there</b></p><p>A &amp; B</p>");
        let m = parse(b.to_string().as_bytes()).unwrap();
        assert_eq!(m.text, "Hello there\n\nA & B");
    }

    #[test]
    fn refusals_name_the_field() {
        let bad = |k: &str, v: Value| {
            let mut b = body();
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v;
            }
            field_of(parse(b.to_string().as_bytes()).unwrap_err())
        };
        assert_eq!(bad("from", Value::Null), "from");
        assert_eq!(bad("from", json!("Ann <nope>")), "from");
        assert_eq!(bad("from", json!(7)), "from");
        assert_eq!(bad("to", Value::Null), "to");
        assert_eq!(bad("to", json!([1])), "to");
        assert_eq!(bad("subject", Value::Null), "subject");
        assert_eq!(bad("text", json!(false)), "text");
        assert_eq!(bad("message_id", Value::Null), "message_id");
        assert_eq!(bad("message_id", json!("<a@b> <c@d>")), "message_id");
        assert_eq!(bad("references", json!(3)), "references");
        assert_eq!(bad("references", json!(["<a@b>", 3])), "references[1]");
        assert_eq!(bad("attachments", json!({})), "attachments");
        assert_eq!(
            bad("attachments", json!([{"content_type": "x"}])),
            "attachments[0].filename"
        );
        assert_eq!(
            bad("attachments", json!([{"filename": "a", "size": -1}])),
            "attachments[0].size"
        );
        assert_eq!(field_of(parse(b"[1]").unwrap_err()), "body");
    }
}
