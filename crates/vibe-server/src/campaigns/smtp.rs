//! One SMTP connection per project kept open across its campaigns' sends
//! ([`SessionPool`]: the campaigns of a project take turns on it), speaking
//! the same steps as the Inbox's transport (`outbound::email::{connect,
//! transmit}`), and what each failure means for a campaign recipient:
//!
//! | where | SMTP 4xx | SMTP 5xx | I/O error, timeout |
//! |---|---|---|---|
//! | connect, EHLO, STARTTLS, AUTH | retry later | **setup**: pause the campaign | retry later |
//! | `MAIL FROM`, `DATA` | retry | **setup** | retry |
//! | `RCPT TO` | retry | **hard bounce** | retry |
//! | after the message (its final reply) | retry | failed (refused, not a bounce) | **unknown** |
//!
//! After any failure the connection is dropped and the next send opens a
//! new one; a connection idle for [`IDLE_CHECK`] is checked with `NOOP`
//! first, since servers close idle sessions.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::Extension;

use crate::outbound::email::{self, SmtpConfig, CONTENT, RECIPIENT};
use crate::outbound::SendError;

/// A connection unused this long is checked before it is used again.
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// What one send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted (250).
    Sent,
    /// The server refused the address for good (5xx at `RCPT TO`).
    HardBounce(String),
    /// Refused for good, not because of the address (5xx to the message,
    /// a non-ASCII address the server cannot take).
    Rejected(String),
    /// Not sent; worth trying again later.
    Retry(String),
    /// It may have been accepted: never sent again.
    Unknown(String),
    /// Nothing can be sent until the settings change (the server refuses
    /// our sender or our credentials): the campaign pauses.
    Setup(String),
}

pub struct SmtpSession {
    config: SmtpConfig,
    password: Option<String>,
    conn: Option<AsyncSmtpConnection>,
    last_used: Instant,
}

impl SmtpSession {
    pub fn new(config: SmtpConfig, password: Option<String>) -> Self {
        Self {
            config,
            password,
            conn: None,
            last_used: Instant::now(),
        }
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    /// An open connection, opened now if needed: `Retry` when the server
    /// cannot be reached (try later), `Fail` when it refuses us (settings).
    pub async fn ready(&mut self) -> Result<(), SendError> {
        if let Some(conn) = &mut self.conn {
            if self.last_used.elapsed() < IDLE_CHECK || conn.test_connected().await {
                return Ok(());
            }
            conn.abort().await;
            self.conn = None;
        }
        let open = email::connect(&self.config, self.password.as_deref());
        let conn = tokio::time::timeout(self.config.timeout, open)
            .await
            .map_err(|_| {
                SendError::Retry(format!(
                    "SMTP: no connection within {} s",
                    self.config.timeout.as_secs_f64()
                ))
            })??;
        self.conn = Some(conn);
        self.last_used = Instant::now();
        Ok(())
    }

    /// Sends `message` on the open connection (opening one if needed).
    pub async fn send(&mut self, message: &lettre::Message) -> Delivery {
        if let Err(e) = self.ready().await {
            return match e {
                SendError::Fail(t) => Delivery::Setup(t),
                SendError::Retry(t) | SendError::Unknown(t) => Delivery::Retry(t),
            };
        }
        let Some(conn) = self.conn.as_mut() else {
            return Delivery::Retry("SMTP: no connection".into());
        };
        let non_ascii = message
            .envelope()
            .to()
            .iter()
            .any(|a| !a.to_string().is_ascii());
        if non_ascii && !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Delivery::Rejected(
                "SMTP: the address is not ASCII and the server does not support SMTPUTF8".into(),
            );
        }
        let step = AtomicU8::new(email::ENVELOPE);
        let run = email::transmit(conn, message, &step);
        let result = match tokio::time::timeout(self.config.timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(email::timed_out(
                step.load(Ordering::SeqCst),
                self.config.timeout,
            )),
        };
        self.last_used = Instant::now();
        let Err(e) = result else {
            return Delivery::Sent;
        };
        if let Some(mut conn) = self.conn.take() {
            conn.abort().await;
        }
        let step = step.load(Ordering::SeqCst);
        match e {
            SendError::Retry(t) => Delivery::Retry(t),
            SendError::Unknown(t) => Delivery::Unknown(t),
            SendError::Fail(t) if step == RECIPIENT => Delivery::HardBounce(t),
            SendError::Fail(t) if step == CONTENT => Delivery::Rejected(t),
            SendError::Fail(t) => Delivery::Setup(t),
        }
    }

    /// Ends the session politely (a failing `QUIT` changes nothing).
    pub async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            if conn.quit().await.is_err() {
                conn.abort().await;
            }
        }
    }
}

/// A project's session, shared by its campaigns' tasks (one send at a time).
pub type SharedSession = std::sync::Arc<tokio::sync::Mutex<SmtpSession>>;

/// A pooled session with the settings it was opened with.
type Pooled = (SmtpConfig, Option<String>, SharedSession);

/// The open SMTP sessions, one per project: campaigns of one project take
/// turns on one connection to its server. A session is replaced when the
/// project's settings changed, and closed once no task holds it.
#[derive(Default)]
pub struct SessionPool(std::sync::Mutex<std::collections::HashMap<String, Pooled>>);

impl SessionPool {
    /// The project's session for the settings of `fresh` (a session not
    /// connected yet): the pooled one when its settings are the same.
    pub fn session(&self, project_id: &str, fresh: SmtpSession) -> SharedSession {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((config, password, shared)) = map.get(project_id) {
            if *config == fresh.config && *password == fresh.password {
                return shared.clone();
            }
        }
        let (config, password) = (fresh.config.clone(), fresh.password.clone());
        let shared = std::sync::Arc::new(tokio::sync::Mutex::new(fresh));
        // A replaced session closes when its last task lets go of it.
        map.insert(project_id.to_owned(), (config, password, shared.clone()));
        shared
    }

    /// Closes (with `QUIT`) the sessions no task holds any more.
    pub async fn close_idle(&self) {
        let idle: Vec<SharedSession> = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let gone: Vec<String> = map
                .iter()
                .filter(|(_, (_, _, s))| std::sync::Arc::strong_count(s) == 1)
                .map(|(k, _)| k.clone())
                .collect();
            gone.iter()
                .filter_map(|k| map.remove(k))
                .map(|(_, _, s)| s)
                .collect()
        };
        for s in idle {
            s.lock().await.close().await;
        }
    }
}
