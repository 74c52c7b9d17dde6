//! The templates domain (`vibe_store::templates`, issue 14 item 1):
//! `/api/v1/projects/{id}/templates` and `/templates/{template_id}` keep a
//! project's message templates — `{name, channel, subject, body_html,
//! body_text, push: {title, body, url, icon}}`, which parts depending on the
//! channel — each part checked in the template language
//! (`crate::templates`) when saved; `preview.rs` renders one for a contact
//! or a sample; `send.rs` sends one to chosen contacts now, as a `direct`
//! campaign (`api/campaigns/`).

pub mod preview;
pub mod routes;
pub mod send;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::templates::{MessageTemplate, TemplateChannel};
use vibe_store::StoreError;

use crate::api::inbox::fields;
use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::domain::Name;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;
use crate::templates::{self, Part, TemplateError};

/// Longest source of each part, in characters.
pub const MAX_SUBJECT_CHARS: usize = 1_000;
pub const MAX_HTML_CHARS: usize = 256 * 1024;
pub const MAX_TEXT_CHARS: usize = 64 * 1024;
pub const MAX_PUSH_TITLE_CHARS: usize = 200;
pub const MAX_PUSH_BODY_CHARS: usize = 2_000;
pub const MAX_PUSH_URL_CHARS: usize = 2_000;

const FIELDS: &str = "name, channel, subject, body_html, body_text, push";
const PUSH_FIELDS: &str = "title, body, url, icon";

/// A template's parts as the request gave them, each checked in the
/// template language and allowed for the channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub name: String,
    pub channel: TemplateChannel,
    pub subject: Option<String>,
    pub body_html: Option<String>,
    pub body_text: Option<String>,
    pub push: Option<Push>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub icon: Option<String>,
}

/// 422 naming the part and its line.
pub fn template_error(e: TemplateError) -> ApiError {
    ApiError::Client {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_template",
        message: e.message,
        field: Some(e.field.to_owned()),
    }
}

/// A part's template source: `null` or only whitespace is no part; text is
/// kept as written (whitespace matters in a text body), without NUL, at
/// most `max` characters, and must parse in the template language.
fn source(part: Part, v: &Value, max: usize) -> ApiResult<Option<String>> {
    let field = part.field();
    if v.is_null() {
        return Ok(None);
    }
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::invalid_field(field, "must be a string"))?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    if s.contains('\0') {
        return Err(ApiError::invalid_field(field, "must not contain NUL"));
    }
    crate::domain::at_most(field, s.chars().count(), max)?;
    templates::check(part, s).map_err(template_error)?;
    Ok(Some(s.to_owned()))
}

/// A push URL must be an absolute http(s) URL, or start with a variable
/// (`{{ data.url }}`, checked again once rendered).
fn url_source(part: Part, v: &Value) -> ApiResult<Option<String>> {
    let s = source(part, v, MAX_PUSH_URL_CHARS)?;
    if let Some(u) = &s {
        let u = u.trim_start();
        if !(u.starts_with("https://") || u.starts_with("http://") || u.starts_with("{{")) {
            return Err(ApiError::invalid_field(
                part.field(),
                "must be an http(s) URL",
            ));
        }
    }
    Ok(s)
}

fn push(v: &Value) -> ApiResult<Push> {
    let obj = v.as_object().ok_or_else(|| {
        ApiError::invalid_field("push", format!("must be an object {{{PUSH_FIELDS}}}"))
    })?;
    let (mut title, mut body, mut url, mut icon) = (None, None, None, None);
    for (key, v) in obj {
        match key.as_str() {
            "title" => title = source(Part::PushTitle, v, MAX_PUSH_TITLE_CHARS)?,
            "body" => body = source(Part::PushBody, v, MAX_PUSH_BODY_CHARS)?,
            "url" => url = url_source(Part::PushUrl, v)?,
            "icon" => icon = url_source(Part::PushIcon, v)?,
            _ => return Err(fields::unknown(&format!("push.{key}"), PUSH_FIELDS)),
        }
    }
    let missing = |f: &str, what: &str| ApiError::field("missing_field", f, what.to_owned());
    Ok(Push {
        title: title.ok_or_else(|| missing("push.title", "the notification's title"))?,
        body: body.ok_or_else(|| missing("push.body", "the notification's text"))?,
        url,
        icon,
    })
}

/// A body's `name`: a string without NUL, as [`Name`] allows.
pub fn name_field(v: &Value) -> ApiResult<String> {
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::invalid_field("name", "must be a string"))?;
    if s.contains('\0') {
        return Err(ApiError::invalid_field("name", "must not contain NUL"));
    }
    Ok(Name::parse("name", s)?.into_inner())
}

/// A body's `channel`: one of [`TemplateChannel::NAMES`].
pub fn channel_field(v: &Value) -> ApiResult<TemplateChannel> {
    fields::name("channel", v, TemplateChannel::parse, TemplateChannel::NAMES)
}

/// Reads a create or replace body into a [`Draft`]: every field typed, the
/// parts the channel needs present and the ones it does not use absent.
pub fn parse_draft(body: &Map<String, Value>) -> ApiResult<Draft> {
    let (mut name, mut channel) = (None, None);
    let (mut subject, mut html, mut text, mut push_v) = (None, None, None, None);
    for (key, v) in body {
        match key.as_str() {
            "name" => name = Some(name_field(v)?),
            "channel" => channel = Some(channel_field(v)?),
            "subject" => subject = source(Part::Subject, v, MAX_SUBJECT_CHARS)?,
            "body_html" => html = source(Part::BodyHtml, v, MAX_HTML_CHARS)?,
            "body_text" => text = source(Part::BodyText, v, MAX_TEXT_CHARS)?,
            "push" => push_v = (!v.is_null()).then_some(v),
            _ => return Err(fields::unknown(key, FIELDS)),
        }
    }
    let name =
        name.ok_or_else(|| ApiError::field("missing_field", "name", "the template's name"))?;
    let channel = channel.ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "channel",
            format!("one of {}", TemplateChannel::NAMES),
        )
    })?;
    let push = push_v.map(push).transpose()?;
    let ch = channel.as_str();
    let unused =
        |field: &str| ApiError::invalid_field(field, format!("is not used by {ch} templates"));
    let required = |field: &str, what: &str| {
        ApiError::field(
            "missing_field",
            field,
            format!("{ch} templates need {what}"),
        )
    };
    match channel {
        TemplateChannel::Email => {
            if subject.is_none() {
                return Err(required("subject", "a subject"));
            }
            if html.is_none() && text.is_none() {
                return Err(required("body_html", "body_html or body_text"));
            }
            if push.is_some() {
                return Err(unused("push"));
            }
        }
        TemplateChannel::Push => {
            for (field, set) in [
                ("subject", subject.is_some()),
                ("body_html", html.is_some()),
                ("body_text", text.is_some()),
            ] {
                if set {
                    return Err(unused(field));
                }
            }
            if push.is_none() {
                return Err(required("push", "push {title, body}"));
            }
        }
        TemplateChannel::InApp | TemplateChannel::Whatsapp => {
            if channel == TemplateChannel::Whatsapp && subject.is_some() {
                return Err(unused("subject"));
            }
            if html.is_some() {
                return Err(unused("body_html"));
            }
            if push.is_some() {
                return Err(unused("push"));
            }
            if text.is_none() {
                return Err(required("body_text", "body_text"));
            }
        }
    }
    Ok(Draft {
        name,
        channel,
        subject,
        body_html: html,
        body_text: text,
        push,
    })
}

impl Draft {
    /// The store's row for this draft; `base` gives the id, author and times.
    fn into_row(self, base: MessageTemplate) -> MessageTemplate {
        let push = self.push;
        MessageTemplate {
            name: self.name,
            channel: self.channel.as_str().to_owned(),
            subject: self.subject,
            body_html: self.body_html,
            body_text: self.body_text,
            push_title: push.as_ref().map(|p| p.title.clone()),
            push_body: push.as_ref().map(|p| p.body.clone()),
            push_url: push.as_ref().and_then(|p| p.url.clone()),
            push_icon: push.and_then(|p| p.icon),
            ..base
        }
    }

    /// The draft of a stored template (its parts were checked when saved).
    pub fn of(t: &MessageTemplate) -> ApiResult<Self> {
        let channel = TemplateChannel::parse(&t.channel).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "template {} has channel {:?}",
                t.id,
                t.channel
            ))
        })?;
        let push = match (&t.push_title, &t.push_body) {
            (Some(title), Some(body)) => Some(Push {
                title: title.clone(),
                body: body.clone(),
                url: t.push_url.clone(),
                icon: t.push_icon.clone(),
            }),
            _ => None,
        };
        Ok(Self {
            name: t.name.clone(),
            channel,
            subject: t.subject.clone(),
            body_html: t.body_html.clone(),
            body_text: t.body_text.clone(),
            push,
        })
    }
}

/// A template as the API shows it.
pub fn shown(t: &MessageTemplate) -> Value {
    let push = t.push_title.as_ref().map(|title| {
        json!({"title": title, "body": t.push_body, "url": t.push_url, "icon": t.push_icon})
    });
    json!({
        "id": t.id,
        "name": t.name,
        "channel": t.channel,
        "subject": t.subject,
        "body_html": t.body_html,
        "body_text": t.body_text,
        "push": push,
        "created_by_account_id": t.created_by_account_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

/// The store's `NotFound` is this template's 404, its `Conflict` the name's
/// 409 (the only unique key a write can hit).
fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("template"),
        StoreError::Conflict(_) => ApiError::Client {
            status: StatusCode::CONFLICT,
            code: "name_taken",
            message: "the project already has a template with this name".into(),
            field: Some("name".into()),
        },
        e => e.into(),
    }
}

pub(crate) async fn find(
    state: &AppState,
    access: &ProjectAccess,
    template_id: &str,
) -> ApiResult<MessageTemplate> {
    state
        .store
        .get_template(&access.project.id, template_id)
        .await?
        .or_not_found("template")
}

/// What the audit row keeps: the name and channel, not the (long) sources.
/// An audit row of a change to `t`: its name and channel, not its source.
async fn audit_change(
    state: &AppState,
    access: &ProjectAccess,
    action: &str,
    t: &MessageTemplate,
    ip: std::net::IpAddr,
) -> ApiResult<()> {
    let resource = format!("template/{}", t.id);
    let params = json!({"name": t.name, "channel": t.channel});
    audit::record(state, access, action, &resource, params, ip).await
}

pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let draft = parse_draft(&body)?;
    let now = state.clock.now_ms();
    let t = draft.into_row(MessageTemplate {
        id: uuid::Uuid::new_v4().to_string(),
        name: String::new(),
        channel: String::new(),
        subject: None,
        body_html: None,
        body_text: None,
        push_title: None,
        push_body: None,
        push_url: None,
        push_icon: None,
        created_by_account_id: Some(access.account.id.clone()),
        created_at: now,
        updated_at: now,
    });
    state
        .store
        .create_template(&access.project.id, &t)
        .await
        .map_err(store_error)?;
    audit_change(&state, &access, "template.create", &t, ip).await?;
    Ok((StatusCode::CREATED, Json(shown(&t))))
}

pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Value>> {
    let all = state.store.list_templates(&access.project.id).await?;
    let items: Vec<Value> = all.iter().map(shown).collect();
    Ok(Json(json!({ "templates": items })))
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, template_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(shown(&find(&state, &access, &template_id).await?)))
}

/// Replaces the whole template (the same body as a create).
pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, template_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let existing = find(&state, &access, &template_id).await?;
    let draft = parse_draft(&body)?;
    let t = draft.into_row(MessageTemplate {
        updated_at: state.clock.now_ms(),
        ..existing
    });
    state
        .store
        .update_template(&access.project.id, &t)
        .await
        .map_err(store_error)?;
    audit_change(&state, &access, "template.update", &t, ip).await?;
    Ok(Json(shown(&t)))
}

pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, template_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let existing = find(&state, &access, &template_id).await?;
    state
        .store
        .delete_template(&access.project.id, &template_id)
        .await
        .map_err(store_error)?;
    audit_change(&state, &access, "template.delete", &existing, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> (StatusCode, String) {
        match e {
            ApiError::Client { status, field, .. } => (status, field.unwrap_or_default()),
            other => panic!("{other:?}"),
        }
    }

    fn parse(v: Value) -> ApiResult<Draft> {
        parse_draft(v.as_object().unwrap())
    }

    #[test]
    fn each_channel_takes_its_parts() {
        let d = parse(
            json!({"name": " Welcome ", "channel": "email", "subject": "Hi",
            "body_html": "<p>{{ contact.name }}</p>", "body_text": "  "}),
        )
        .unwrap();
        assert_eq!(d.name, "Welcome");
        assert_eq!(d.body_text, None, "blank is no part");
        let d = parse(json!({"name": "P", "channel": "push",
            "push": {"title": "T", "body": "B", "url": "{{ data.url }}"}}))
        .unwrap();
        assert_eq!(d.push.unwrap().url.as_deref(), Some("{{ data.url }}"));
        parse(json!({"name": "I", "channel": "in_app", "subject": "S", "body_text": "x"})).unwrap();
        parse(json!({"name": "W", "channel": "whatsapp", "body_text": "x"})).unwrap();

        for (body, status, field) in [
            (json!({"channel": "email"}), 400, "name"),
            (json!({"name": "x"}), 400, "channel"),
            (json!({"name": "x", "channel": "fax"}), 400, "channel"),
            (
                json!({"name": "x", "channel": "email", "body_html": "a"}),
                400,
                "subject",
            ),
            (
                json!({"name": "x", "channel": "email", "subject": "a"}),
                400,
                "body_html",
            ),
            (
                json!({"name": "x", "channel": "email", "subject": "a", "body_text": "b",
                "push": {"title": "t", "body": "b"}}),
                400,
                "push",
            ),
            (
                json!({"name": "x", "channel": "push", "subject": "s",
                "push": {"title": "t", "body": "b"}}),
                400,
                "subject",
            ),
            (
                json!({"name": "x", "channel": "push", "push": {"title": "t"}}),
                400,
                "push.body",
            ),
            (
                json!({"name": "x", "channel": "push",
                "push": {"title": "t", "body": "b", "url": "javascript:alert(1)"}}),
                400,
                "push.url",
            ),
            (
                json!({"name": "x", "channel": "push",
                "push": {"title": "t", "body": "b", "sound": "x"}}),
                400,
                "push.sound",
            ),
            (
                json!({"name": "x", "channel": "whatsapp", "subject": "s", "body_text": "b"}),
                400,
                "subject",
            ),
            (
                json!({"name": "x", "channel": "in_app", "body_html": "<p>", "body_text": "b"}),
                400,
                "body_html",
            ),
            (json!({"name": "x", "channel": "in_app"}), 400, "body_text"),
            (
                json!({"name": "x", "channel": "email", "subject": 3, "body_text": "b"}),
                400,
                "subject",
            ),
            (
                json!({"name": "x", "channel": "email", "subject": "s", "body_text": "b", "extra": 1}),
                400,
                "extra",
            ),
            (
                json!({"name": "x", "channel": "email", "subject": "s",
                "body_html": "<p>\n{{ contact.name }"}),
                422,
                "body_html",
            ),
            (
                json!({"name": "x", "channel": "email", "subject": "{{ contact.name | shout }}",
                "body_text": "b"}),
                422,
                "subject",
            ),
        ] {
            let (got, field_got) = field_of(parse(body.clone()).unwrap_err());
            assert_eq!(
                (got.as_u16(), field_got.as_str()),
                (status, field),
                "{body}"
            );
        }
    }
}
