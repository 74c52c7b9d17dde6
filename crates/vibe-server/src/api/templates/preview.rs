//! `POST …/templates/{template_id}/preview` renders a saved template and
//! `POST …/templates/preview` an unsaved draft (the editor), each for
//! `{contact_id}` (a person of this project: person id, user id or
//! anonymous id; another project's is 404), a `{sample}` contact, or
//! neither (a built-in sample), with optional caller `data`. The answer is
//! the rendered `subject`, `html` and `text` (derived from the HTML when the
//! template has no text part, `text_derived: true`) and, for push templates,
//! `push`. `unsubscribe_url` is a placeholder here
//! (`{base}/unsubscribe/preview`): the sending slices put each recipient's
//! own signed link in its place.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Map, Value};
use vibe_store::templates::TemplateChannel;
use vibe_store::SiteUser;

use super::{find, parse_draft, template_error, Draft};
use crate::api::inbox::fields;
use crate::api::projects::snippet::public_base_url;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::templates::{self, html_to_text, Part};

/// Caller data (`data`) and sample traits larger than this (JSON bytes) are
/// refused.
pub const MAX_DATA_BYTES: usize = 64 * 1024;

const FIELDS: &str = "contact_id, sample, data";
const DRAFT_FIELDS: &str = "template, contact_id, sample, data";
const SAMPLE_FIELDS: &str = "id, user_id, name, email, traits";

/// The `contact` variable of a person: their ids, name and email (the
/// promoted columns) and traits, with `email`, `name` and `plan` filled in
/// from the columns when the traits lack them.
pub fn contact_of(person: &SiteUser) -> Value {
    let mut traits = match serde_json::from_str::<Value>(&person.traits) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (key, column) in [
        ("email", &person.identity.email),
        ("name", &person.identity.name),
        ("plan", &person.plan),
    ] {
        if let Some(v) = column {
            traits.entry(key).or_insert_with(|| json!(v));
        }
    }
    json!({
        "id": person.id,
        "user_id": person.identity.user_id,
        "name": person.identity.name,
        "email": person.identity.email,
        "traits": traits,
    })
}

fn object_at_most(field: &str, v: &Value) -> ApiResult<Map<String, Value>> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field(field, "must be an object"))?;
    if v.to_string().len() > MAX_DATA_BYTES {
        return Err(ApiError::invalid_field(
            field,
            format!("must be at most {MAX_DATA_BYTES} bytes of JSON"),
        ));
    }
    Ok(obj.clone())
}

/// A sample contact: any of its fields, the others absent (so the preview
/// shows what a contact without them gets).
fn sample(v: &Value) -> ApiResult<Value> {
    let obj = object_at_most("sample", v)?;
    let mut out = Map::new();
    for (key, v) in &obj {
        let field = format!("sample.{key}");
        match key.as_str() {
            "id" | "user_id" | "name" | "email" => {
                if let Some(s) = fields::opt_text(&field, v, fields::MAX_SHORT_CHARS)? {
                    out.insert(key.clone(), json!(s));
                }
            }
            "traits" => {
                out.insert(key.clone(), Value::Object(object_at_most(&field, v)?));
            }
            _ => return Err(fields::unknown(&field, SAMPLE_FIELDS)),
        }
    }
    out.entry("traits").or_insert_with(|| json!({}));
    Ok(Value::Object(out))
}

/// The contact the preview is for, and the caller data. `draft` says the
/// body also carries the `template` (read by the caller).
async fn context_parts(
    state: &AppState,
    access: &ProjectAccess,
    body: &Map<String, Value>,
    draft: bool,
) -> ApiResult<(Value, Value)> {
    let (mut contact_id, mut sample_v, mut data) = (None, None, json!({}));
    for (key, v) in body {
        match key.as_str() {
            "contact_id" if !v.is_null() => {
                contact_id = Some(fields::text(key, v, fields::MAX_SHORT_CHARS)?)
            }
            "sample" if !v.is_null() => sample_v = Some(sample(v)?),
            "data" if !v.is_null() => data = Value::Object(object_at_most(key, v)?),
            "contact_id" | "sample" | "data" => {}
            "template" if draft => {}
            _ if draft => return Err(fields::unknown(key, DRAFT_FIELDS)),
            _ => return Err(fields::unknown(key, FIELDS)),
        }
    }
    let contact = match (contact_id, sample_v) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "sample",
                "give contact_id or sample, not both",
            ));
        }
        (Some(id), None) => {
            let person = state
                .store
                .find_user(&access.project.id, &id)
                .await?
                .ok_or_else(|| {
                    ApiError::field("not_found", "contact_id", "no such person in this project")
                        .with_status(StatusCode::NOT_FOUND)
                })?;
            contact_of(&person)
        }
        (None, Some(s)) => s,
        (None, None) => json!({"id": "sample", "user_id": "sample-user", "name": "Sample Contact",
            "email": "sample@example.com", "traits": {}}),
    };
    Ok((contact, data))
}

fn render(part: Part, source: &Option<String>, ctx: &Value) -> ApiResult<Option<String>> {
    source
        .as_deref()
        .map(|s| templates::render(part, s, ctx).map_err(template_error))
        .transpose()
}

/// A rendered push URL must still be an http(s) URL.
fn rendered_url(part: Part, url: Option<String>) -> ApiResult<Option<String>> {
    match url.map(|u| u.trim().to_owned()) {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(Some(u)),
        Some(u) if u.is_empty() => Ok(None),
        Some(u) => Err(ApiError::Client {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_template",
            message: format!("renders to {u:?}, not an http(s) URL"),
            field: Some(part.field().to_owned()),
        }),
        None => Ok(None),
    }
}

/// Renders every part of `draft` for `contact` and `data`.
pub fn rendered(
    draft: &Draft,
    contact: Value,
    data: Value,
    unsubscribe_url: &str,
) -> ApiResult<Value> {
    let ctx = json!({"contact": contact, "data": data, "unsubscribe_url": unsubscribe_url});
    let subject = render(Part::Subject, &draft.subject, &ctx)?;
    let html = render(Part::BodyHtml, &draft.body_html, &ctx)?;
    let mut text = render(Part::BodyText, &draft.body_text, &ctx)?;
    let derived = draft.channel == TemplateChannel::Email && text.is_none() && html.is_some();
    if derived {
        text = html.as_deref().map(html_to_text);
    }
    let push = match &draft.push {
        Some(p) => {
            let url = rendered_url(Part::PushUrl, render(Part::PushUrl, &p.url, &ctx)?)?;
            let icon = rendered_url(Part::PushIcon, render(Part::PushIcon, &p.icon, &ctx)?)?;
            json!({
                "title": templates::render(Part::PushTitle, &p.title, &ctx).map_err(template_error)?,
                "body": templates::render(Part::PushBody, &p.body, &ctx).map_err(template_error)?,
                "url": url,
                "icon": icon,
            })
        }
        None => Value::Null,
    };
    Ok(json!({
        "channel": draft.channel.as_str(),
        "subject": subject,
        "html": html,
        "text": text,
        "text_derived": derived,
        "push": push,
        "contact": ctx["contact"],
        "unsubscribe_url": unsubscribe_url,
    }))
}

fn placeholder_unsubscribe_url(state: &AppState, headers: &HeaderMap) -> String {
    format!("{}/unsubscribe/preview", public_base_url(state, headers))
}

pub async fn saved(
    State(state): State<AppState>,
    access: ProjectAccess,
    headers: HeaderMap,
    Path((_, template_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let t = find(&state, &access, &template_id).await?;
    let draft = Draft::of(&t)?;
    let (contact, data) = context_parts(&state, &access, &body, false).await?;
    let url = placeholder_unsubscribe_url(&state, &headers);
    Ok(Json(rendered(&draft, contact, data, &url)?))
}

/// `{template: {…a create body…}, contact_id? | sample?, data?}`: the
/// editor's preview of what it has not saved; refusals are a create's.
pub async fn draft(
    State(state): State<AppState>,
    access: ProjectAccess,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let template = body
        .get("template")
        .ok_or_else(|| ApiError::field("missing_field", "template", "the template to render"))?
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("template", "must be an object"))?;
    let draft = parse_draft(template).map_err(|e| prefixed(e, "template."))?;
    let (contact, data) = context_parts(&state, &access, &body, true).await?;
    let url = placeholder_unsubscribe_url(&state, &headers);
    Ok(Json(rendered(&draft, contact, data, &url)?))
}

/// The draft's fields are below `template` in this body.
pub(crate) fn prefixed(e: ApiError, prefix: &str) -> ApiError {
    match e {
        ApiError::Client {
            status,
            code,
            message,
            field,
        } => ApiError::Client {
            status,
            code,
            message,
            field: field.map(|f| format!("{prefix}{f}")),
        },
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::templates::Push;

    #[test]
    fn derives_text_for_email_only_and_checks_push_urls() {
        let email = Draft {
            name: "n".into(),
            channel: TemplateChannel::Email,
            subject: Some("Hi {{ contact.name }} <3".into()),
            body_html: Some("<p>{{ contact.traits.note }} <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>".into()),
            body_text: None,
            push: None,
        };
        let contact = json!({"name": "Ada", "traits": {"note": "<b>x</b>"}});
        let out = rendered(&email, contact.clone(), json!({}), "https://v.example/u").unwrap();
        assert_eq!(out["subject"], "Hi Ada <3");
        assert_eq!(out["html"], "<p>&lt;b&gt;x&lt;&#x2f;b&gt; <a href=\"https:&#x2f;&#x2f;v.example&#x2f;u\">Unsubscribe</a></p>");
        assert_eq!(out["text"], "<b>x</b> Unsubscribe (https://v.example/u)");
        assert_eq!(out["text_derived"], true);

        let push = Draft {
            channel: TemplateChannel::Push,
            subject: None,
            body_html: None,
            push: Some(Push {
                title: "{{ contact.name }}".into(),
                body: "b".into(),
                url: Some("{{ data.url }}".into()),
                icon: None,
            }),
            ..email
        };
        let out = rendered(
            &push,
            contact.clone(),
            json!({"url": "https://s.example/x"}),
            "u",
        )
        .unwrap();
        assert_eq!(
            out["push"],
            json!({"title": "Ada", "body": "b", "url": "https://s.example/x", "icon": null})
        );
        assert_eq!(out["text_derived"], false);
        let e = rendered(&push, contact, json!({"url": "javascript:alert(1)"}), "u").unwrap_err();
        match e {
            ApiError::Client { status, field, .. } => {
                assert_eq!((status.as_u16(), field.as_deref()), (422, Some("push.url")))
            }
            e => panic!("{e:?}"),
        }
    }
}
