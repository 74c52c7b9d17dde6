//! A campaign's create or replace body read into typed values: `{name,
//! channel, template_id | content, segment, send_at?, rate_per_minute?}`,
//! each refusal naming its field. The template must be this project's and
//! of the campaign's channel; inline content passes the templates' own
//! checks (`content.subject`, … on error); the segment is a built-in
//! segment's name or one of the project's custom segments.

use serde_json::{Map, Value};
use vibe_store::templates::TemplateChannel;
use vibe_store::users::Segment;

use crate::api::inbox::fields;
use crate::api::templates::preview::prefixed;
use crate::api::templates::{channel_field, name_field};
use crate::auth::ProjectAccess;
use crate::campaigns::message::{content_draft, CONTENT_FIELDS};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const FIELDS: &str = "name, channel, template_id, content, segment, send_at, rate_per_minute";
/// The built-in segments a campaign may name.
const BUILT_IN: [Segment; 6] = [
    Segment::All,
    Segment::Active,
    Segment::Inactive,
    Segment::Premium,
    Segment::Trial,
    Segment::Churned,
];
pub const MAX_RATE_PER_MINUTE: i64 = 60_000;
/// `send_at` at most this far ahead (ten years, in ms): a typo, not a plan.
const MAX_AHEAD_MS: i64 = 10 * 365 * 86_400_000;

/// What the body says, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignBody {
    pub name: String,
    pub channel: TemplateChannel,
    pub template_id: Option<String>,
    /// Inline content as JSON text (its sources checked).
    pub content: Option<String>,
    pub segment: String,
    pub send_at: Option<i64>,
    pub rate_per_minute: Option<i64>,
}

fn missing(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::field("missing_field", field, msg)
}

pub async fn parse(
    state: &AppState,
    access: &ProjectAccess,
    body: &Map<String, Value>,
    now_ms: i64,
) -> ApiResult<CampaignBody> {
    let (mut name, mut channel, mut template_id, mut content) = (None, None, None, None);
    let (mut segment, mut send_at, mut rate) = (None, None, None);
    for (key, v) in body {
        match key.as_str() {
            "name" => name = Some(name_field(v)?),
            "channel" => channel = Some(channel_field(v)?),
            "template_id" => template_id = fields::opt_text(key, v, fields::MAX_SHORT_CHARS)?,
            "content" if v.is_null() => {}
            "content" => {
                let obj = v.as_object().ok_or_else(|| {
                    ApiError::invalid_field(
                        "content",
                        format!("must be an object {{{CONTENT_FIELDS}}}"),
                    )
                })?;
                content = Some(obj.clone());
            }
            "segment" => segment = Some(fields::text(key, v, fields::MAX_SHORT_CHARS)?),
            "send_at" if v.is_null() => {}
            "send_at" => {
                send_at = Some(fields::int_in(
                    key,
                    v,
                    0,
                    now_ms.saturating_add(MAX_AHEAD_MS),
                )?)
            }
            "rate_per_minute" if v.is_null() => {}
            "rate_per_minute" => rate = Some(fields::int_in(key, v, 1, MAX_RATE_PER_MINUTE)?),
            _ => return Err(fields::unknown(key, FIELDS)),
        }
    }
    let name = name.ok_or_else(|| missing("name", "the campaign's name"))?;
    let channel =
        channel.ok_or_else(|| missing("channel", format!("one of {}", TemplateChannel::NAMES)))?;
    let content = match (&template_id, content) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "content",
                "give template_id or content, not both",
            ));
        }
        (None, None) => {
            return Err(missing(
                "template_id",
                "a saved template's id, or inline content",
            ));
        }
        (Some(tid), None) => {
            let t = state
                .store
                .get_template(&access.project.id, tid)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_field("template_id", "no such template in this project")
                })?;
            if t.channel != channel.as_str() {
                return Err(ApiError::invalid_field(
                    "template_id",
                    format!(
                        "is a {} template; the campaign's channel is {}",
                        t.channel,
                        channel.as_str()
                    ),
                ));
            }
            None
        }
        (None, Some(obj)) => {
            for key in obj.keys() {
                if !["subject", "body_html", "body_text"].contains(&key.as_str()) {
                    return Err(fields::unknown(&format!("content.{key}"), CONTENT_FIELDS));
                }
            }
            content_draft(&name, channel, &obj).map_err(|e| prefixed(e, "content."))?;
            Some(Value::Object(obj).to_string())
        }
    };
    let segment = segment.ok_or_else(|| {
        missing(
            "segment",
            "a built-in segment (all, active, inactive, premium, trial, churned) or a custom segment's id",
        )
    })?;
    let built_in = BUILT_IN.iter().any(|s| s.as_str() == segment);
    if !built_in
        && state
            .store
            .get_segment(&access.project.id, &segment)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid_field(
            "segment",
            "is neither a built-in segment (all, active, inactive, premium, trial, churned) nor a custom segment of this project",
        ));
    }
    Ok(CampaignBody {
        name,
        channel,
        template_id,
        content,
        segment,
        send_at,
        rate_per_minute: rate,
    })
}
