//! A channel's settings as the store keeps them.

/// One configured channel of a project. `config` (public settings) is JSON
/// text and `secrets` a sealed blob (base64 text); the server validates the
/// one and seals/opens the other, the store keeps both as they are.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChannelSettings {
    /// `in_app | email | whatsapp | twilio`.
    pub kind: String,
    pub config: String,
    pub secrets: Option<String>,
    pub enabled: bool,
    pub updated_at: i64,
}
