//! What every case sets up: a store with accounts and projects, and messages to
//! ingest into them. Cases call the store itself (through `Deref`) for what they
//! test and these helpers for everything else, so each states only its subject.

use std::ops::Deref;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use vibe_core::message::TimestampPolicy;
use vibe_core::Message;

use super::T0;
use crate::*;

/// A store over a fresh database.
pub struct Fixture(Arc<dyn Store>);

impl Deref for Fixture {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl Fixture {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self(store)
    }

    /// Another handle on the same store, for spawned tasks.
    pub fn shared(&self) -> Arc<dyn Store> {
        self.0.clone()
    }

    pub async fn account(&self, email: &str, role: Role) -> Account {
        self.create_account(&account(email, role)).await.unwrap()
    }

    /// A project in UTC that no account is a member of.
    pub async fn project(&self, name: &str) -> Project {
        self.create_project(&new_project(name), None).await.unwrap()
    }

    pub async fn project_in(&self, name: &str, timezone: &str) -> Project {
        let mut np = new_project(name);
        np.timezone = timezone.into();
        self.create_project(&np, None).await.unwrap()
    }

    /// Ingests the messages as one request to `p`.
    pub async fn ingest(
        &self,
        p: &Project,
        messages: impl IntoIterator<Item = impl Into<Message>>,
    ) -> Vec<IngestOutcome> {
        let messages = messages.into_iter().map(Into::into).collect();
        self.ingest_jobs(&[job(p, messages)]).await
    }

    pub async fn ingest_jobs(&self, jobs: &[IngestJob]) -> Vec<IngestOutcome> {
        self.0.ingest(jobs).await.unwrap()
    }

    /// Ingests each batch as several requests, like a busy writer.
    pub async fn ingest_history(&self, p: &Project, batches: Vec<Vec<Message>>) {
        for batch in batches {
            let jobs: Vec<IngestJob> = batch.chunks(7).map(|c| job(p, c.to_vec())).collect();
            self.ingest_jobs(&jobs).await;
        }
    }

    /// A session that must exist.
    pub async fn session_of(&self, p: &Project, session_id: &str) -> SiteSession {
        self.session(&p.id, session_id).await.unwrap().unwrap()
    }

    /// A person (by person id) who must exist.
    pub async fn person(&self, p: &Project, site_user_id: &str) -> SiteUser {
        self.site_user(&p.id, site_user_id).await.unwrap().unwrap()
    }

    /// The person an anonymous id must belong to.
    pub async fn person_of(&self, p: &Project, anonymous_id: &str) -> SiteUser {
        self.site_user_for_anonymous_id(&p.id, anonymous_id)
            .await
            .unwrap()
            .unwrap()
    }
}

pub fn account(email: &str, role: Role) -> NewAccount {
    NewAccount {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.into(),
        password_hash: "$argon2id$fake".into(),
        role,
        created_at: T0,
    }
}

pub fn new_project(name: &str) -> NewProject {
    let id = uuid::Uuid::new_v4().to_string();
    NewProject {
        write_key: format!("wk_{}", id.replace('-', "")),
        id,
        name: name.into(),
        allowed_origins: vec![],
        timezone: "UTC".into(),
        online_window_s: 300,
        created_at: T0,
    }
}

pub fn job(project: &Project, messages: Vec<Message>) -> IngestJob {
    IngestJob {
        project_id: project.id.clone(),
        timezone: project.timezone.clone(),
        messages,
        received_at: T0,
    }
}

/// Parses a message as the collector would, giving it a fresh id unless it has one.
pub fn msg(v: Value) -> Message {
    let mut v = v;
    if v.get("id").is_none() {
        v["id"] = json!(uuid::Uuid::new_v4().to_string());
    }
    Message::parse(
        &v,
        "m",
        T0 + 30 * 86_400_000,
        TimestampPolicy::AllowHistorical,
    )
    .expect("valid test message")
}

/// A message being built; it gets its id when it becomes a [`Message`], so
/// convert it once to send the same message twice.
#[derive(Debug, Clone)]
pub struct Msg(Value);

impl Msg {
    pub fn with(mut self, field: &str, value: impl Serialize) -> Self {
        self.0[field] = json!(value);
        self
    }
}

impl From<Msg> for Message {
    fn from(m: Msg) -> Self {
        msg(m.0)
    }
}

/// A message from a browser: `anon` in session `session`.
fn browser(kind: &str, anon: &str, session: &str, ts: i64) -> Msg {
    Msg(json!({"type": kind, "anonymous_id": anon, "session_id": session, "ts": ts}))
}

pub fn pageview(anon: &str, session: &str, ts: i64, url: &str) -> Msg {
    browser("pageview", anon, session, ts).with("url", url)
}

pub fn event(anon: &str, session: &str, ts: i64, name: &str) -> Msg {
    browser("event", anon, session, ts).with("name", name)
}

pub fn heartbeat(anon: &str, session: &str, ts: i64) -> Msg {
    browser("heartbeat", anon, session, ts)
}

pub fn leave(anon: &str, session: &str, ts: i64) -> Msg {
    browser("leave", anon, session, ts)
}

pub fn identify(anon: &str, session: &str, ts: i64, user_id: &str) -> Msg {
    browser("identify", anon, session, ts).with("user_id", user_id)
}

/// An event sent by a backend: a user id, no browser.
pub fn server_event(user_id: &str, ts: i64, name: &str) -> Msg {
    Msg(json!({"type": "event", "user_id": user_id, "ts": ts, "name": name}))
}
