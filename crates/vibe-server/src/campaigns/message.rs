//! A campaign's email for one recipient: its content (the saved template
//! or the inline content) rendered in the template language for the
//! contact (`api::templates::preview::rendered`, the preview's own code, so
//! what the editor shows is what is sent) with `unsubscribe_url` the
//! recipient's own link, then built as a MIME message: `text/plain` alone,
//! or `multipart/alternative` with the HTML; `From` the channel's sender,
//! `Message-ID`, `Date`, and `List-Unsubscribe` (mailto and URL) with
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde_json::{json, Map, Value};
use vibe_store::campaigns::Campaign;
use vibe_store::templates::TemplateChannel;

use crate::api::templates::preview::rendered;
use crate::api::templates::{parse_draft, Draft};
use crate::outbound::email::{mailbox, SmtpConfig};
use crate::state::AppState;

/// The inline content's fields (`campaigns.content`).
pub const CONTENT_FIELDS: &str = "subject, body_html, body_text";

/// The draft of inline content (a JSON object of [`CONTENT_FIELDS`]) for a
/// campaign named `name` on `channel`: the templates' own checks, so inline
/// content is refused exactly like a template would be.
pub fn content_draft(
    name: &str,
    channel: TemplateChannel,
    content: &Map<String, Value>,
) -> crate::error::ApiResult<Draft> {
    let mut body = content.clone();
    body.insert("name".into(), json!(name));
    body.insert("channel".into(), json!(channel.as_str()));
    parse_draft(&body)
}

/// The campaign's content as a draft: its template's, or its inline
/// content's. An error says why it cannot be sent.
pub async fn campaign_draft(
    state: &AppState,
    project_id: &str,
    c: &Campaign,
) -> Result<Draft, String> {
    let channel = TemplateChannel::parse(&c.channel)
        .ok_or_else(|| format!("unknown channel {:?}", c.channel))?;
    if let Some(tid) = &c.template_id {
        let t = state
            .store
            .get_template(project_id, tid)
            .await
            .map_err(|e| format!("reading the template: {e}"))?
            .ok_or_else(|| "the campaign's template was deleted".to_owned())?;
        return Draft::of(&t).map_err(|e| e.to_string());
    }
    let content: Map<String, Value> = c
        .content
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| "the campaign has no content".to_owned())?;
    content_draft(&c.name, channel, &content).map_err(|e| e.to_string())
}

/// The recipient's unsubscribe link (the page itself is a later slice).
pub fn unsubscribe_url(state: &AppState, token: &str) -> String {
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.addr));
    format!("{}/unsubscribe/{token}", base.trim_end_matches('/'))
}

/// One rendered email, ready for SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignEmail {
    pub from: Mailbox,
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub message_id: String,
    /// The `List-Unsubscribe` value: `<mailto:…>, <https://…>`.
    pub list_unsubscribe: String,
}

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

/// The campaign's `data` variable (an empty object when it has none).
pub fn campaign_data(c: &Campaign) -> Value {
    c.data
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| json!({}))
}

/// Renders `draft` for `contact` and `data` (the template language's
/// variables) to `address`; `token` keys the unsubscribe link.
pub fn prepare(
    state: &AppState,
    config: &SmtpConfig,
    draft: &Draft,
    (contact, data): (Value, &Value),
    address: &str,
    token: &str,
) -> Result<CampaignEmail, String> {
    let url = unsubscribe_url(state, token);
    let out = rendered(draft, contact.clone(), data.clone(), &url).map_err(|e| e.to_string())?;
    let text_of = |k: &str| out[k].as_str().map(str::to_owned);
    let subject = text_of("subject").unwrap_or_default();
    // Open and click tracking (`links.rs`); a test send's token is no
    // recipient's, so its links stay as written.
    let html = text_of("html").map(|h| match token {
        "test" => h,
        _ => super::links::track(state, token, &h),
    });
    let text = text_of("text").unwrap_or_default();
    let name = contact["name"].as_str();
    let to = mailbox(name, address, "recipient").map_err(error_text)?;
    let from =
        mailbox(config.from_name.as_deref(), &config.from_address, "from").map_err(error_text)?;
    let mailto = format!(
        "mailto:{}?subject=unsubscribe%20{token}",
        config.from_address
    );
    Ok(CampaignEmail {
        from,
        to,
        subject: subject.trim().replace(['\r', '\n'], " "),
        text,
        html,
        message_id: format!("<{}@{}>", uuid::Uuid::new_v4().simple(), config.domain()),
        list_unsubscribe: format!("<{mailto}>, <{url}>"),
    })
}

fn error_text(e: crate::outbound::SendError) -> String {
    match e {
        crate::outbound::SendError::Fail(t)
        | crate::outbound::SendError::Retry(t)
        | crate::outbound::SendError::Unknown(t) => t,
    }
}

impl CampaignEmail {
    /// The RFC 5322 message (lettre encodes names, subject and bodies).
    pub fn to_message(&self) -> Result<lettre::Message, String> {
        let b = lettre::Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(self.subject.clone())
            .message_id(Some(self.message_id.clone()))
            .date_now()
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE,
                self.list_unsubscribe.clone(),
            ))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE_POST,
                "List-Unsubscribe=One-Click".to_owned(),
            ));
        let built = match &self.html {
            Some(html) => b.multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                html.clone(),
            )),
            None => b.singlepart(SinglePart::plain(self.text.clone())),
        };
        built.map_err(|e| format!("the email cannot be built: {e}"))
    }
}
