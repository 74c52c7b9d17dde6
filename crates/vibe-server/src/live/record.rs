//! What a committed batch means for the live feed, in a compact form that can
//! cross nodes inside a PostgreSQL `NOTIFY` payload. Full visitor rows and traits
//! are not carried: each node reads them from the shared database, and only when
//! someone is watching that project.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vibe_core::{Message, MessageKind};
use vibe_store::{IngestJob, IngestOutcome};

/// PostgreSQL rejects `NOTIFY` payloads of 8000 bytes or more; stay well below.
pub const MAX_PAYLOAD_BYTES: usize = 7000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeftReason {
    Leave,
    Timeout,
}

impl LeftReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leave => "leave",
            Self::Timeout => "timeout",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(rename = "t")]
    pub at_ms: i64,
}

/// An Inbox change, by id only: each node reads the conversation and message
/// from the shared database (bodies can be far larger than a `NOTIFY`), and
/// each subscriber gets it only if its scope may see the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InboxChange {
    /// A new message (`inbox.message`).
    #[serde(rename = "m")]
    Message(String),
    /// A conversation changed: status, assignee, unread count (`inbox.conversation`).
    #[serde(rename = "c")]
    Conversation(String),
    /// A message's delivery status moved (`inbox.delivery`).
    #[serde(rename = "d")]
    Delivery(String),
    /// A provider's delivery report, by its message id on one of the channels.
    #[serde(rename = "D")]
    DeliveryByChannelId(Vec<String>, String),
    /// The agent read a thread: only its unread count changed
    /// (`inbox.conversation`, but no Support section moves).
    #[serde(rename = "r")]
    Read(String),
    /// An agent's status changed, by account id: no Inbox event of its own,
    /// only the Support page's `agent` section (`live/support.rs`).
    #[serde(rename = "a")]
    AgentStatus(String),
}

/// Changes to one project's feed. Short field names keep `NOTIFY` payloads small.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveBatch {
    #[serde(rename = "p")]
    pub project_id: String,
    /// Sessions with activity whose newest message is not a leave.
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    pub touched: Vec<String>,
    #[serde(rename = "l", default, skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<(String, LeftReason)>,
    #[serde(rename = "e", default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<LiveEvent>,
    /// `(anonymous_id, user_id)` of identify calls.
    #[serde(rename = "i", default, skip_serializing_if = "Vec::is_empty")]
    pub identified: Vec<(Option<String>, String)>,
    #[serde(rename = "x", default, skip_serializing_if = "Vec::is_empty")]
    pub inbox: Vec<InboxChange>,
}

impl LiveBatch {
    fn is_empty(&self) -> bool {
        self.touched.is_empty()
            && self.left.is_empty()
            && self.events.is_empty()
            && self.identified.is_empty()
    }

    fn len(&self) -> usize {
        self.touched.len()
            + self.left.len()
            + self.events.len()
            + self.identified.len()
            + self.inbox.len()
    }

    /// Whether metric cards may have changed (Inbox changes do not).
    pub fn changes_metrics(&self) -> bool {
        !self.is_empty()
    }

    /// A batch of Inbox changes only.
    pub fn inbox(project_id: &str, changes: Vec<InboxChange>) -> Self {
        Self {
            project_id: project_id.to_owned(),
            inbox: changes,
            ..Self::default()
        }
    }

    /// JSON texts of at most [`MAX_PAYLOAD_BYTES`] each, splitting the batch in
    /// halves until every piece fits (one message is at most a few KiB, since
    /// ids, names and URLs are length-limited at the edge).
    pub fn encode(&self) -> Vec<String> {
        let text = serde_json::to_string(self).unwrap_or_default();
        if text.len() <= MAX_PAYLOAD_BYTES {
            return vec![text];
        }
        if self.len() <= 1 {
            tracing::warn!(
                bytes = text.len(),
                "live record too large for NOTIFY; dropped"
            );
            return Vec::new();
        }
        let (a, b) = self.halves();
        let mut out = a.encode();
        out.extend(b.encode());
        out
    }

    fn halves(&self) -> (Self, Self) {
        fn split<T: Clone>(v: &[T]) -> (Vec<T>, Vec<T>) {
            let (a, b) = v.split_at(v.len() / 2);
            (a.to_vec(), b.to_vec())
        }
        let (t1, t2) = split(&self.touched);
        let (l1, l2) = split(&self.left);
        let (e1, e2) = split(&self.events);
        let (i1, i2) = split(&self.identified);
        let (x1, x2) = split(&self.inbox);
        let half = |touched, left, events, identified, inbox| Self {
            project_id: self.project_id.clone(),
            touched,
            left,
            events,
            identified,
            inbox,
        };
        (half(t1, l1, e1, i1, x1), half(t2, l2, e2, i2, x2))
    }
}

/// The feed changes of a committed batch, one [`LiveBatch`] per project. Jobs
/// that were entirely retries of stored messages change nothing.
pub fn from_committed(jobs: &[IngestJob], outcomes: &[IngestOutcome]) -> Vec<LiveBatch> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_project: HashMap<&str, Vec<&Message>> = HashMap::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        if outcome.accepted == 0 {
            continue;
        }
        by_project
            .entry(job.project_id.as_str())
            .or_insert_with(|| {
                order.push(job.project_id.as_str());
                Vec::new()
            })
            .extend(job.messages.iter());
    }
    order
        .into_iter()
        .filter_map(|p| {
            let mut msgs = by_project.remove(p)?;
            msgs.sort_by_key(|m| m.ts);
            let batch = of_messages(p, &msgs);
            (!batch.is_empty()).then_some(batch)
        })
        .collect()
}

/// `msgs` sorted by time.
fn of_messages(project_id: &str, msgs: &[&Message]) -> LiveBatch {
    let mut batch = LiveBatch {
        project_id: project_id.to_owned(),
        ..LiveBatch::default()
    };
    // Each session's newest message decides whether it is still there.
    let mut last_kind: HashMap<&str, MessageKind> = HashMap::new();
    let mut session_order = Vec::new();
    for m in msgs {
        if let Some(sid) = m.session_id.as_deref() {
            if last_kind.insert(sid, m.kind).is_none() {
                session_order.push(sid);
            }
        }
        match m.kind {
            MessageKind::Event => batch.events.push(LiveEvent {
                name: m.name.clone().unwrap_or_default(),
                user_id: m.user_id.clone(),
                anonymous_id: m.anonymous_id.clone(),
                page: m.path.clone(),
                at_ms: m.ts,
            }),
            MessageKind::Identify => {
                if let Some(user_id) = &m.user_id {
                    batch
                        .identified
                        .push((m.anonymous_id.clone(), user_id.clone()));
                }
            }
            _ => {}
        }
    }
    for sid in session_order {
        if last_kind.get(sid) == Some(&MessageKind::Leave) {
            batch.left.push((sid.to_owned(), LeftReason::Leave));
        } else {
            batch.touched.push(sid.to_owned());
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_batches_split_below_the_notify_limit() {
        let batch = LiveBatch {
            project_id: "p".into(),
            touched: (0..2000).map(|i| format!("session-{i:05}")).collect(),
            events: (0..50)
                .map(|i| LiveEvent {
                    name: format!("event-{i}"),
                    user_id: None,
                    anonymous_id: Some("a".into()),
                    page: Some("/".repeat(1000)),
                    at_ms: i,
                })
                .collect(),
            ..LiveBatch::default()
        };
        let parts = batch.encode();
        assert!(parts.len() > 1);
        let mut back = LiveBatch::default();
        for p in &parts {
            assert!(p.len() <= MAX_PAYLOAD_BYTES);
            let b: LiveBatch = serde_json::from_str(p).unwrap();
            assert_eq!(b.project_id, "p");
            back.touched.extend(b.touched);
            back.events.extend(b.events);
        }
        assert_eq!(back.touched, batch.touched);
        assert_eq!(back.events, batch.events);
    }
}
