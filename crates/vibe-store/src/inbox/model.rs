//! The inbox's records: teams, inboxes, conversations, messages, agent status
//! logs and SLA policies, and the closed sets of names their columns take.
//! Flags are stored as integers 0/1 on both backends (see the migration) and
//! serialised as JSON booleans.

use serde::{Serialize, Serializer};

/// A closed set of lowercase names stored as text: `parse`, `as_str`,
/// `NAMES` (for error messages) and `ALL`.
macro_rules! names {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            pub const NAMES: &'static str = concat!($("`", $text, "` "),+);

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
    };
}

names!(
    /// Where a conversation takes place.
    Channel { InApp = "in_app", Email = "email", Whatsapp = "whatsapp", Sms = "sms", Api = "api" }
);
names!(
    /// `open` and `pending` run the resolution timer; `resolved` and `closed`
    /// stop it (see [`super::timers`]).
    Status { Open = "open", Pending = "pending", Resolved = "resolved", Closed = "closed" }
);
names!(
    /// A conversation's urgency (not the CRM contact priority).
    Priority { Low = "low", Medium = "medium", High = "high", Urgent = "urgent" }
);
names!(Direction { In = "in", Out = "out" });
names!(Sender { Contact = "contact", Agent = "agent", Bot = "bot", System = "system" });
names!(
    /// Ordered: a message only moves forward (see [`super::timers::delivery_from`]).
    DeliveryStatus { Queued = "queued", Sent = "sent", Delivered = "delivered", Read = "read", Failed = "failed" }
);
names!(AgentStatus { Online = "online", Away = "away", Offline = "offline" });

impl Status {
    /// Resolved or closed: the resolution timer is stopped.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed)
    }
}

impl Channel {
    /// Channels a provider delivers: an agent's reply waits `queued` for the
    /// sender; `in_app` and `api` replies are stored `sent` (the reader
    /// fetches them from Vibe itself).
    pub fn is_external(self) -> bool {
        matches!(self, Self::Email | Self::Whatsapp | Self::Sms)
    }
}

fn flag<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v != 0)
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// Account ids, sorted; filled by the store after the row is read.
    #[sqlx(skip)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Inbox {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub team_id: Option<String>,
    pub created_at: i64,
}

/// A conversation as listed and shown, with its contact's name and email.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Conversation {
    pub id: String,
    pub site_user_id: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub assignee_account_id: Option<String>,
    pub team_id: Option<String>,
    pub inbox_id: Option<String>,
    #[serde(serialize_with = "flag")]
    pub handled_by_bot: i64,
    #[serde(serialize_with = "flag")]
    pub escalated_to_human: i64,
    pub intent: Option<String>,
    pub csat: Option<i64>,
    #[serde(serialize_with = "flag")]
    pub is_lead: i64,
    #[serde(serialize_with = "flag")]
    pub converted: i64,
    pub external_id: Option<String>,
    /// The email thread's subject (set by its first email; `None` elsewhere).
    pub subject: Option<String>,
    pub first_inbound_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub first_response_s: Option<i64>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub resolution_s: Option<i64>,
    /// The business-hours variants (docs/metrics.md), stored when the timer
    /// stops; equal to the wall-clock values without business hours.
    pub first_response_bh_s: Option<i64>,
    pub resolution_bh_s: Option<i64>,
    /// Resolved without any agent message (docs/metrics.md, "Bots").
    #[serde(serialize_with = "flag")]
    pub bot_only: i64,
    /// The contact stopped writing while waiting (docs/metrics.md, "Bots").
    #[serde(serialize_with = "flag")]
    pub dropped: i64,
    /// When a keyword rule resolves it unless the contact writes again.
    pub auto_resolve_at: Option<i64>,
    pub last_message_at: i64,
    pub unread_count: i64,
    pub created_by_account_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewConversation {
    pub id: String,
    pub site_user_id: String,
    pub channel: Channel,
    pub status: Status,
    pub priority: Priority,
    pub assignee_account_id: Option<String>,
    /// When `None` and the inbox has a team, the inbox's team is taken, so
    /// scoping reads one column.
    pub team_id: Option<String>,
    pub inbox_id: Option<String>,
    pub handled_by_bot: bool,
    pub intent: Option<String>,
    pub is_lead: bool,
    /// Unique per project: creating a conversation with a known one returns
    /// the existing conversation.
    pub external_id: Option<String>,
    pub created_by_account_id: Option<String>,
    pub created_at: i64,
}

/// What a `PATCH` changes; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationPatch {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee_account_id: Option<Option<String>>,
    pub team_id: Option<Option<String>>,
    pub intent: Option<Option<String>>,
    pub csat: Option<Option<i64>>,
    pub escalated_to_human: Option<bool>,
    pub handled_by_bot: Option<bool>,
    pub is_lead: Option<bool>,
    pub converted: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub channel: String,
    pub direction: String,
    pub sender: String,
    pub sender_account_id: Option<String>,
    pub body: String,
    #[serde(serialize_with = "flag")]
    pub private: i64,
    /// A JSON array as text (metadata only: name, type, size, url).
    #[serde(skip)]
    pub attachments: String,
    pub delivery_status: String,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub failed_reason: Option<String>,
    pub channel_message_id: Option<String>,
    pub created_at: i64,
    /// A broadcast's template, JSON text `{"name","language"}`: the WhatsApp
    /// transport sends it instead of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub id: String,
    pub conversation_id: String,
    pub direction: Direction,
    pub sender: Sender,
    pub sender_account_id: Option<String>,
    pub body: String,
    /// An internal note: never sent, never a first response.
    pub private: bool,
    /// A JSON array as text.
    pub attachments: String,
    pub delivery_status: DeliveryStatus,
    /// The provider's id; unique per (project, channel).
    pub channel_message_id: Option<String>,
    pub created_at: i64,
}

/// One page of a list and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// Keyset position: the last item's time (`last_message_at` of a
/// conversation, `created_at` of a message) and id; pages go newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub ts: i64,
    pub id: String,
}

impl Cursor {
    pub fn parse(s: &str) -> Option<Self> {
        let (ts, id) = s.split_once(':')?;
        Some(Self {
            ts: ts.parse().ok()?,
            id: id.to_owned(),
        })
    }

    pub fn encode(&self) -> String {
        format!("{}:{}", self.ts, self.id)
    }
}

/// Who to filter conversations by assignee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Account(String),
    Nobody,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationQuery {
    pub status: Option<Status>,
    pub assignee: Option<AssigneeFilter>,
    pub team_id: Option<String>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub site_user_id: Option<String>,
    /// Matched (case-insensitively, as a substring) against the contact's
    /// name and email and the bodies of the conversation's messages.
    pub q: Option<String>,
    /// Created inside one of these UTC `[from_ms, to_ms)` windows (an OR of
    /// them: the server expands a local day of week and hour into one
    /// window per matching hour); `Some` of none matches nothing.
    pub created_within: Option<Vec<(i64, i64)>>,
    pub cursor: Option<Cursor>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AgentLog {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub duration_s: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SlaPolicy {
    pub priority: String,
    pub first_response_target_s: i64,
    pub resolution_target_s: i64,
    /// A reply to a waiting contact after the first response (docs/metrics.md,
    /// "Support reporting events"); `None` = no next-response target.
    #[serde(default)]
    pub next_response_target_s: Option<i64>,
    /// JSON text (see docs/metrics.md, "Support timers"); `None` = round the clock.
    #[serde(skip)]
    pub business_hours: Option<String>,
    pub updated_at: i64,
}
