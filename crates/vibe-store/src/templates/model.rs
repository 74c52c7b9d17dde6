//! A message template as the store keeps it.

/// The channels a template is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateChannel {
    Email,
    Push,
    InApp,
    Whatsapp,
}

impl TemplateChannel {
    pub const ALL: [Self; 4] = [Self::Email, Self::Push, Self::InApp, Self::Whatsapp];
    pub const NAMES: &'static str = "email, push, in_app, whatsapp";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Push => "push",
            Self::InApp => "in_app",
            Self::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One saved template (`message_templates`). Which parts are set depends on
/// the channel (the server decides and validates them): email uses `subject`,
/// `body_html` and `body_text`; push the `push_*` fields; in-app `subject`
/// and `body_text`; WhatsApp `body_text`. The texts are template source
/// (validated when saved), not rendered output.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MessageTemplate {
    pub id: String,
    /// Unique per project.
    pub name: String,
    /// A [`TemplateChannel`] name.
    pub channel: String,
    pub subject: Option<String>,
    pub body_html: Option<String>,
    pub body_text: Option<String>,
    pub push_title: Option<String>,
    pub push_body: Option<String>,
    pub push_url: Option<String>,
    pub push_icon: Option<String>,
    pub created_by_account_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
