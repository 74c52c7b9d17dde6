//! Outbound delivery of the Inbox's replies over the channels' providers.
//! (This branch holds only the seam shared with the sender; see
//! `outbound::email` for the email transport.)

pub mod email;

/// What a provider answered for one message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id of the message (WhatsApp `wamid.…`, Twilio `SM…`, the
    /// email's `Message-ID`): stored as the message's `channel_message_id`, so
    /// status callbacks and replies find it.
    pub channel_message_id: String,
}

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Not sent; worth trying again later (connection refused, 429, 5xx, SMTP 4xx).
    Retry(String),
    /// Refused for good (4xx, SMTP 5xx, bad address, channel not configured):
    /// the message becomes `failed` with this reason.
    Fail(String),
    /// The provider may have accepted it (timeout after the request was sent,
    /// connection lost after SMTP DATA): not retried, so nothing is sent twice;
    /// the message becomes `failed` with this reason.
    Unknown(String),
}
