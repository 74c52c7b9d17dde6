//! The email transport of the Inbox: an agent's reply in an `email`
//! conversation goes out over the project's SMTP server (channel settings
//! `email`: host, port, `tls` none|starttls|tls, optional username and the
//! sealed `password`, `from_address`, `from_name`).
//!
//! Three parts, so each is tested alone:
//!
//! - [`prepare`] (pure) builds the [`OutgoingEmail`]: `From` the channel's
//!   address and name, `To` the contact's email (`site_users.email`, which
//!   ingest fills from the `email` trait and inbound mail sets), `Message-ID`
//!   `<{message id}@{domain of from_address}>` — stored as the message's
//!   `channel_message_id`, so a reply's `In-Reply-To` finds the
//!   conversation (`vibe_store::inbox::inbound_email`) —, `In-Reply-To` the
//!   latest inbound email's `Message-ID` before this message (else the
//!   latest earlier outbound one), `References` the thread's earlier email
//!   ids up to that one (the last 20), and `Subject` `Re: ` + the
//!   conversation's subject (leading `Re:`/`Fwd:` prefixes dropped first;
//!   a conversation without one gets `Message from {from_name or
//!   from_address}`, which [`send`] stores as its subject).
//! - [`send_smtp`] speaks SMTP through lettre's `AsyncSmtpConnection` (the
//!   connection `AsyncSmtpTransport` drives; driving it step by step is what
//!   tells *where* a failure happened, which the transport's single
//!   `send` does not): connect (implicit TLS for `tls`), `STARTTLS`
//!   required for `starttls`, `AUTH` (PLAIN or LOGIN) when a username is
//!   set, `MAIL FROM`, `RCPT TO`, `DATA`, the message, `QUIT`; 15 s per
//!   network operation and for the whole exchange.
//! - [`send`], the seam the outbound sender calls for an `email`
//!   conversation: loads the channel, the thread, prepares and sends.
//!
//! Errors ([`SendError`]), by step:
//!
//! | where | SMTP 4xx | SMTP 5xx | I/O error, timeout, bad reply | client-side refusal |
//! |---|---|---|---|---|
//! | connect, EHLO, STARTTLS, AUTH | Retry | Fail | Retry | Fail |
//! | MAIL, RCPT, DATA (until `354`) | Retry | Fail | Retry | Fail |
//! | after the message was sent (the final reply) | Retry | Fail | **Unknown** | — |
//!
//! Before `DATA` was accepted the server cannot have taken the message, so
//! anything transient is worth a retry. Once the content is written the
//! server may have queued it even if its answer never arrives: that is
//! `Unknown`, never retried, so no contact gets a message twice. A 4xx or
//! 5xx final answer is an explicit refusal (RFC 5321 §4.2.5), so those stay
//! Retry/Fail. A failure of `QUIT` after the `250` is ignored. An address
//! lettre cannot parse, a contact without an email address, a channel that
//! is not configured or disabled, and an internal note are Fail.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::transport::smtp::Error as SmtpError;
use lettre::Address;
use serde_json::Value;
use vibe_store::inbox::{Conversation, Message, Scope};

use super::{SendError, Sent};
use crate::api::channels::{self, settings::Kind};
use crate::state::AppState;

/// Per network operation and for the whole SMTP exchange.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// Earlier ids kept in `References`.
const MAX_REFERENCES: usize = 20;
/// Thread messages read to find the ids (newest first).
const THREAD_LIMIT: i64 = 200;

/// How the connection is secured (`tls` of the channel settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (a local relay, a test server).
    None,
    /// Plain connect, then `STARTTLS`, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The email channel's public settings, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    /// [`SMTP_TIMEOUT`] unless a test shortens it.
    pub timeout: Duration,
}

impl SmtpConfig {
    /// From the stored config JSON (`api/channels/settings.rs` wrote it).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        let security = match v["tls"].as_str() {
            Some("none") => Security::None,
            Some("starttls") => Security::StartTls,
            Some("tls") => Security::Tls,
            _ => return Err("the email channel's tls is not none, starttls or tls".into()),
        };
        Ok(Self {
            host: s("smtp_host").ok_or("the email channel has no smtp_host")?,
            port: v["smtp_port"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("the email channel has no smtp_port")?,
            security,
            username: s("username").filter(|u| !u.is_empty()),
            from_address: s("from_address").ok_or("the email channel has no from_address")?,
            from_name: s("from_name").filter(|n| !n.is_empty()),
            timeout: SMTP_TIMEOUT,
        })
    }

    /// The part of `from_address` after `@`.
    pub fn domain(&self) -> &str {
        self.from_address
            .rsplit_once('@')
            .map_or(self.from_address.as_str(), |(_, d)| d)
    }
}

/// One email, ready for SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from: Mailbox,
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    /// `<…@domain>`, also the `channel_message_id` once sent.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Oldest first; the last is `in_reply_to`.
    pub references: Vec<String>,
}

impl OutgoingEmail {
    /// The RFC 5322 message (lettre encodes names, subject and body).
    pub fn to_message(&self) -> Result<lettre::Message, SendError> {
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(self.subject.clone())
            .message_id(Some(self.message_id.clone()))
            .date_now()
            .header(ContentType::TEXT_PLAIN);
        if let Some(id) = &self.in_reply_to {
            b = b.in_reply_to(id.clone());
        }
        if !self.references.is_empty() {
            b = b.references(self.references.join(" "));
        }
        b.body(self.text.clone())
            .map_err(|e| SendError::Fail(format!("the email cannot be built: {e}")))
    }
}

/// `Re: ` + `subject` without its leading reply and forward prefixes.
pub fn reply_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "aw:", "sv:", "fw:", "fwd:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => break,
        }
    }
    if s.is_empty() {
        "Re:".to_owned()
    } else {
        format!("Re: {s}")
    }
}

/// The subject of a conversation that has none yet.
pub fn default_subject(config: &SmtpConfig) -> String {
    format!(
        "Message from {}",
        config.from_name.as_deref().unwrap_or(&config.from_address)
    )
}

pub(crate) fn mailbox(name: Option<&str>, address: &str, what: &str) -> Result<Mailbox, SendError> {
    let addr: Address = address
        .trim()
        .parse()
        .map_err(|e| SendError::Fail(format!("invalid {what} address {address:?}: {e}")))?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name.map(str::to_owned), addr))
}

/// Builds the email for `message` of `conversation` (whose contact is the
/// recipient); `thread` is any part of the conversation's messages that
/// holds the ones before `message` (order does not matter).
pub fn prepare(
    config: &SmtpConfig,
    conversation: &Conversation,
    message: &Message,
    thread: &[Message],
) -> Result<OutgoingEmail, SendError> {
    if message.private != 0 {
        return Err(SendError::Fail("an internal note is never sent".into()));
    }
    let to_address = conversation
        .contact_email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| SendError::Fail("the contact has no email address".into()))?;
    let to = mailbox(conversation.contact_name.as_deref(), to_address, "contact")?;
    let from = mailbox(config.from_name.as_deref(), &config.from_address, "from")?;
    let mut earlier: Vec<&Message> = thread
        .iter()
        .filter(|m| {
            m.id != message.id
                && m.channel == "email"
                && (m.created_at, &m.id) < (message.created_at, &message.id)
                && m.channel_message_id.as_deref().is_some_and(is_message_id)
        })
        .collect();
    earlier.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    // The latest inbound email, else the latest email at all.
    let parent = earlier
        .iter()
        .rposition(|m| m.direction == "in")
        .or_else(|| earlier.len().checked_sub(1));
    let (in_reply_to, references) = match parent {
        Some(i) => {
            let ids: Vec<String> = earlier[..=i]
                .iter()
                .filter_map(|m| m.channel_message_id.clone())
                .collect();
            let skip = ids.len().saturating_sub(MAX_REFERENCES);
            (ids.last().cloned(), ids[skip..].to_vec())
        }
        None => (None, Vec::new()),
    };
    let subject = match conversation
        .subject
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(s) => reply_subject(s),
        None => default_subject(config),
    };
    Ok(OutgoingEmail {
        from,
        to,
        subject,
        text: message.body.clone(),
        message_id: format!("<{}@{}>", message.id, config.domain()),
        in_reply_to,
        references,
    })
}

/// `<…>` with something inside and no whitespace.
fn is_message_id(s: &str) -> bool {
    s.len() > 2 && s.starts_with('<') && s.ends_with('>') && !s.contains(char::is_whitespace)
}

/// Where an SMTP exchange got to (for what a failure means).
pub(crate) const CONNECTING: u8 = 0;
/// `MAIL FROM` (and `DATA` until `354`).
pub(crate) const ENVELOPE: u8 = 1;
pub(crate) const CONTENT: u8 = 2;
/// `RCPT TO`: a 5xx here is the server refusing the address (a hard bounce).
pub(crate) const RECIPIENT: u8 = 3;

pub(crate) fn classify(step: u8, e: &SmtpError) -> SendError {
    let text = format!("SMTP: {e}");
    if e.is_transient() {
        return SendError::Retry(text);
    }
    if e.is_permanent() {
        return SendError::Fail(text);
    }
    if e.is_client() {
        return SendError::Fail(text);
    }
    // I/O, TLS, a reply that does not parse, a timeout.
    if step == CONTENT {
        SendError::Unknown(format!("{text} (after the message was sent)"))
    } else {
        SendError::Retry(text)
    }
}

/// What a timeout at `step` means.
pub(crate) fn timed_out(step: u8, timeout: Duration) -> SendError {
    let secs = timeout.as_secs_f64();
    match step {
        CONTENT => SendError::Unknown(format!(
            "SMTP: no answer within {secs} s after the message was sent"
        )),
        _ => SendError::Retry(format!("SMTP: timed out after {secs} s")),
    }
}

/// Sends `email` over the SMTP server of `config`; the `Message-ID` is the
/// sent message's id (see the module docs for the errors).
pub async fn send_smtp(
    config: &SmtpConfig,
    password: Option<&str>,
    email: &OutgoingEmail,
) -> Result<Sent, SendError> {
    let message = email.to_message()?;
    let step = AtomicU8::new(CONNECTING);
    let run = exchange(config, password, &message, &step);
    match tokio::time::timeout(config.timeout, run).await {
        Ok(r) => r.map(|()| Sent {
            channel_message_id: email.message_id.clone(),
        }),
        Err(_) => Err(timed_out(step.load(Ordering::SeqCst), config.timeout)),
    }
}

async fn exchange(
    config: &SmtpConfig,
    password: Option<&str>,
    message: &lettre::Message,
    step: &AtomicU8,
) -> Result<(), SendError> {
    let mut conn = connect(config, password).await?;
    let result = transmit(&mut conn, message, step).await;
    match &result {
        // Accepted: a failing QUIT changes nothing.
        Ok(_) => {
            let _ = conn.quit().await;
        }
        Err(_) => conn.abort().await,
    }
    result
}

/// Connects to the server of `config`: implicit TLS for `tls`, `STARTTLS`
/// required for `starttls`, `AUTH` when a username is set. Errors are those
/// of the [`CONNECTING`] step; the caller bounds the time.
pub(crate) async fn connect(
    config: &SmtpConfig,
    password: Option<&str>,
) -> Result<AsyncSmtpConnection, SendError> {
    let hello = ClientId::Domain(config.domain().to_owned());
    let tls = || {
        TlsParameters::new(config.host.clone())
            .map_err(|e| SendError::Fail(format!("SMTP TLS settings: {e}")))
    };
    let wrapper = match config.security {
        Security::Tls => Some(tls()?),
        _ => None,
    };
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        (config.host.as_str(), config.port),
        Some(config.timeout),
        &hello,
        wrapper,
        None,
    )
    .await
    .map_err(|e| classify(CONNECTING, &e))?;
    let ready = async {
        if config.security == Security::StartTls {
            conn.starttls(tls()?, &hello)
                .await
                .map_err(|e| classify(CONNECTING, &e))?;
        }
        if let Some(user) = &config.username {
            let creds = Credentials::new(user.clone(), password.unwrap_or_default().to_owned());
            conn.auth(DEFAULT_MECHANISMS, &creds)
                .await
                .map_err(|e| classify(CONNECTING, &e))?;
        }
        Ok(())
    }
    .await;
    match ready {
        Ok(()) => Ok(conn),
        Err(e) => {
            conn.abort().await;
            Err(e)
        }
    }
}

/// One message over an open connection: `MAIL FROM`, `RCPT TO`, `DATA`,
/// the message. `step` says where it got to (for a timeout, and for what a
/// refusal means). The connection stays open either way; after an error
/// the caller aborts it.
pub(crate) async fn transmit(
    conn: &mut AsyncSmtpConnection,
    message: &lettre::Message,
    step: &AtomicU8,
) -> Result<(), SendError> {
    let at = |s: u8| step.store(s, Ordering::SeqCst);
    at(ENVELOPE);
    let envelope = message.envelope();
    let non_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !a.to_string().is_ascii());
    let mut params = Vec::new();
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(SendError::Fail(
                "SMTP: the address is not ASCII and the server does not support SMTPUTF8".into(),
            ));
        }
        params.push(lettre::transport::smtp::extension::MailParameter::SmtpUtfEight);
    }
    conn.command(Mail::new(envelope.from().cloned(), params))
        .await
        .map_err(|e| classify(ENVELOPE, &e))?;
    at(RECIPIENT);
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .await
            .map_err(|e| classify(RECIPIENT, &e))?;
    }
    at(ENVELOPE);
    conn.command(Data)
        .await
        .map_err(|e| classify(ENVELOPE, &e))?;
    at(CONTENT);
    conn.message(&message.formatted())
        .await
        .map_err(|e| classify(CONTENT, &e))?;
    Ok(())
}

/// The seam: sends `message` of the email `conversation` of `project_id`
/// over the project's SMTP server. The sender stores
/// [`Sent::channel_message_id`] (the `Message-ID`) on the message.
pub async fn send(
    state: &AppState,
    project_id: &str,
    conversation: &Conversation,
    message: &Message,
) -> Result<Sent, SendError> {
    let channel = channels::load(state, project_id, Kind::Email)
        .await
        .map_err(|e| SendError::Retry(format!("loading the email channel: {e}")))?;
    let Some(channel) = channel else {
        return Err(SendError::Fail(
            "the email channel is not configured".into(),
        ));
    };
    if !channel.settings.enabled {
        return Err(SendError::Fail("the email channel is disabled".into()));
    }
    let config = SmtpConfig::from_json(&channel.config).map_err(SendError::Fail)?;
    let thread = state
        .store
        .messages(
            project_id,
            &Scope::All,
            &conversation.id,
            None,
            THREAD_LIMIT,
        )
        .await
        .map_err(|e| SendError::Retry(format!("reading the thread: {e}")))?
        .map(|p| p.items)
        .unwrap_or_default();
    let email = prepare(&config, conversation, message, &thread)?;
    if conversation.subject.is_none() {
        // Later replies and the contact's answers keep this subject.
        if let Err(e) = state
            .store
            .fill_conversation_subject(project_id, &conversation.id, &email.subject)
            .await
        {
            tracing::warn!(project = %project_id, conversation = %conversation.id, error = %e, "storing the email subject failed");
        }
    }
    let password = channel.secrets.get("password").map(String::as_str);
    send_smtp(&config, password, &email).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SmtpConfig {
        SmtpConfig::from_json(
            &serde_json::json!({"smtp_host": "127.0.0.1", "smtp_port": 2525,
            "tls": "none", "username": null, "from_address": "help@shop.example",
            "from_name": "Shop Support"}),
        )
        .unwrap()
    }

    fn conversation(subject: Option<&str>, email: Option<&str>) -> Conversation {
        Conversation {
            id: "c1".into(),
            site_user_id: "uid:email:ann@example.com".into(),
            contact_name: Some("Ann Lee".into()),
            contact_email: email.map(str::to_owned),
            channel: "email".into(),
            status: "open".into(),
            priority: "medium".into(),
            assignee_account_id: None,
            team_id: None,
            inbox_id: None,
            handled_by_bot: 0,
            escalated_to_human: 0,
            intent: None,
            csat: None,
            is_lead: 0,
            converted: 0,
            external_id: None,
            subject: subject.map(str::to_owned),
            first_inbound_at: None,
            first_response_at: None,
            first_response_s: None,
            opened_at: 0,
            resolved_at: None,
            resolution_s: None,
            first_response_bh_s: None,
            resolution_bh_s: None,
            bot_only: 0,
            dropped: 0,
            auto_resolve_at: None,
            last_message_at: 0,
            unread_count: 0,
            created_by_account_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn msg(id: &str, dir: &str, at: i64, cmid: Option<&str>) -> Message {
        Message {
            id: id.into(),
            conversation_id: "c1".into(),
            channel: "email".into(),
            direction: dir.into(),
            sender: if dir == "in" { "contact" } else { "agent" }.into(),
            sender_account_id: None,
            body: format!("body of {id}"),
            private: 0,
            attachments: "[]".into(),
            delivery_status: "delivered".into(),
            sent_at: None,
            delivered_at: None,
            read_at: None,
            failed_reason: None,
            channel_message_id: cmid.map(str::to_owned),
            created_at: at,
            template: None,
        }
    }

    #[test]
    fn subjects() {
        assert_eq!(reply_subject("Order 42"), "Re: Order 42");
        assert_eq!(reply_subject("RE: re: Fwd: Order 42"), "Re: Order 42");
        assert_eq!(reply_subject("  "), "Re:");
        assert_eq!(default_subject(&config()), "Message from Shop Support");
    }

    #[test]
    fn threading_headers_follow_the_latest_inbound_email() {
        let c = conversation(Some("Where is my order?"), Some("ann@example.com"));
        let thread = vec![
            msg("m1", "in", 10, Some("<a@mail.example>")),
            msg("m2", "out", 20, Some("<m2@shop.example>")),
            msg("m3", "in", 30, Some("<b@mail.example>")),
            msg("note", "out", 35, None),
            msg("m5", "out", 50, None),
        ];
        let reply = msg("m4", "out", 40, None);
        let e = prepare(&config(), &c, &reply, &thread).unwrap();
        assert_eq!(e.message_id, "<m4@shop.example>");
        assert_eq!(e.in_reply_to.as_deref(), Some("<b@mail.example>"));
        assert_eq!(
            e.references,
            ["<a@mail.example>", "<m2@shop.example>", "<b@mail.example>"]
        );
        assert_eq!(e.subject, "Re: Where is my order?");
        assert_eq!(e.to.to_string(), "Ann Lee <ann@example.com>");
        assert_eq!(e.from.to_string(), "Shop Support <help@shop.example>");
        assert_eq!(e.text, "body of m4");

        // An agent-started thread: no parent, the default subject.
        let c = conversation(None, Some("ann@example.com"));
        let e = prepare(&config(), &c, &reply, &[]).unwrap();
        assert_eq!((e.in_reply_to, e.references.len()), (None, 0));
        assert_eq!(e.subject, "Message from Shop Support");
        // A follow-up to our own earlier email threads under it.
        let e = prepare(
            &config(),
            &c,
            &reply,
            &[msg("m0", "out", 5, Some("<m0@shop.example>"))],
        )
        .unwrap();
        assert_eq!(e.in_reply_to.as_deref(), Some("<m0@shop.example>"));
    }

    #[test]
    fn what_cannot_be_sent_fails() {
        let reply = msg("m4", "out", 40, None);
        let no_email = conversation(None, None);
        assert!(matches!(
            prepare(&config(), &no_email, &reply, &[]),
            Err(SendError::Fail(_))
        ));
        let bad = conversation(None, Some("not an address"));
        assert!(matches!(
            prepare(&config(), &bad, &reply, &[]),
            Err(SendError::Fail(_))
        ));
        let mut note = reply.clone();
        note.private = 1;
        let ok = conversation(None, Some("ann@example.com"));
        assert!(matches!(
            prepare(&config(), &ok, &note, &[]),
            Err(SendError::Fail(_))
        ));
        assert!(SmtpConfig::from_json(&serde_json::json!({"tls": "ssl"})).is_err());
    }
}
