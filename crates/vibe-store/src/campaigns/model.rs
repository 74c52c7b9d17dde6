//! A campaign and its recipients as the store keeps them.

use serde::Serialize;

/// Where a campaign is in its life (docs/campaigns.md, "States").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being written; editable.
    Draft,
    /// Sent for sending, waiting for `send_at`; still editable.
    Scheduled,
    /// Recipients materialised; the sender claims and sends them.
    Sending,
    /// The sender claims no more recipients until resumed.
    Paused,
    /// Every recipient has an outcome.
    Sent,
    /// Stopped for good; recipients not yet claimed stay unsent.
    Cancelled,
}

impl CampaignStatus {
    pub const ALL: [Self; 6] = [
        Self::Draft,
        Self::Scheduled,
        Self::Sending,
        Self::Paused,
        Self::Sent,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Paused => "paused",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether its content, audience and schedule may still change.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::Scheduled)
    }
}

/// A caller's transition of a campaign (the sender's own — starting a due
/// campaign, finishing a done one — are separate store methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignAction {
    /// `draft → scheduled`.
    Schedule,
    /// `sending → paused`.
    Pause,
    /// `paused → sending`.
    Resume,
    /// `draft | scheduled | sending | paused → cancelled`; recipients still
    /// queued become `cancelled`.
    Cancel,
}

impl CampaignAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "send",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
        }
    }

    /// The states it may start from.
    pub fn from(self) -> &'static [CampaignStatus] {
        use CampaignStatus::*;
        match self {
            Self::Schedule => &[Draft],
            Self::Pause => &[Sending],
            Self::Resume => &[Paused],
            Self::Cancel => &[Draft, Scheduled, Sending, Paused],
        }
    }

    pub fn to(self) -> CampaignStatus {
        match self {
            Self::Schedule => CampaignStatus::Scheduled,
            Self::Pause => CampaignStatus::Paused,
            Self::Resume => CampaignStatus::Sending,
            Self::Cancel => CampaignStatus::Cancelled,
        }
    }
}

/// How a campaign's recipients are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignKind {
    /// From its segment, when sending starts.
    Segment,
    /// Chosen people, given when it is created (a template sent at once).
    Direct,
}

impl CampaignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Segment => "segment",
            Self::Direct => "direct",
        }
    }
}

/// One campaign (`campaigns`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Campaign {
    pub id: String,
    /// A [`CampaignKind`] name.
    pub kind: String,
    pub name: String,
    /// A `templates::TemplateChannel` name.
    pub channel: String,
    /// A saved template of the project, or `content`.
    pub template_id: Option<String>,
    /// Inline content, JSON text `{subject, body_html, body_text}` (template
    /// source, validated by the server).
    pub content: Option<String>,
    /// The template's `data` variable for every recipient (JSON text).
    pub data: Option<String>,
    /// A built-in segment's name (`users::Segment`) or a custom segment's id.
    pub segment: Option<String>,
    /// Not before (Unix ms); `None`: as soon as it is sent.
    pub send_at: Option<i64>,
    pub rate_per_minute: Option<i64>,
    /// A [`CampaignStatus`] name.
    pub status: String,
    /// Recipients materialised, skipped ones included.
    pub recipients: i64,
    pub skipped: i64,
    /// Why the sender paused it (a channel that is not configured, …).
    pub error: Option<String>,
    pub created_by_account_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl Campaign {
    pub fn status(&self) -> Option<CampaignStatus> {
        CampaignStatus::parse(&self.status)
    }
}

/// Where a recipient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    /// Waiting for its send (first try, or a retry at `next_attempt_at`).
    Queued,
    /// Taken by the sender, whose send is under way.
    Claimed,
    /// Accepted by the server (SMTP 250).
    Sent,
    /// Refused (SMTP 5xx, or 4xx until the retries ran out).
    Failed,
    /// The send may or may not have happened (connection lost after the
    /// message, a crash while claimed): never sent again.
    Unknown,
    /// Not sent, for [`SkipReason`].
    Skipped,
    /// Still queued when the campaign was cancelled.
    Cancelled,
}

impl RecipientStatus {
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::Claimed,
        Self::Sent,
        Self::Failed,
        Self::Unknown,
        Self::Skipped,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Claimed => "claimed",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Why a recipient is skipped when the recipients are materialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No address for the channel (email: no `email`, or not an address).
    NoAddress,
    /// The address unsubscribed from this project's campaigns on the channel.
    Unsubscribed,
    /// The address bounced hard in an earlier campaign.
    Bounced,
}

impl SkipReason {
    pub const ALL: [Self; 3] = [Self::NoAddress, Self::Unsubscribed, Self::Bounced];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAddress => "no_address",
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One recipient row (`campaign_recipients`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Recipient {
    pub campaign_id: String,
    pub person_id: String,
    pub address: Option<String>,
    pub status: String,
    pub skip_reason: Option<String>,
    pub token: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub claimed_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub error: Option<String>,
    pub message_id: Option<String>,
}

/// A recipient the sender claimed: send to it now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedRecipient {
    pub person_id: String,
    pub address: Option<String>,
    pub token: String,
    /// Including this one.
    pub attempts: i64,
}

/// A recipient's outcome after its send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted, as this `Message-ID`.
    Sent { message_id: String },
    /// Refused for good. `hard_bounce`: the server refused the address
    /// (SMTP 5xx), so later campaigns skip it.
    Failed { error: String, hard_bounce: bool },
    /// Not sent this time (SMTP 4xx): queued again, due at `next_attempt_at`.
    Retry { error: String, next_attempt_at: i64 },
    /// It may have been sent: never sent again.
    Unknown { error: String },
}

/// One recipient's transition (`campaign_events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CampaignEvent {
    pub person_id: String,
    pub kind: String,
    pub at: i64,
    pub detail: Option<String>,
}

/// A campaign's recipients counted by status (and skipped ones by reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CampaignCounts {
    /// Every materialised recipient, skipped ones included.
    pub total: i64,
    pub queued: i64,
    pub claimed: i64,
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
    pub cancelled: i64,
    pub skipped: i64,
    pub skipped_no_address: i64,
    pub skipped_unsubscribed: i64,
    pub skipped_bounced: i64,
    /// Sent in the last minute before the count.
    pub sent_last_minute: i64,
}

/// A campaign the sender must look at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::FromRow)]
pub struct CampaignRef {
    pub project_id: String,
    pub id: String,
}

/// A recipient found by its token (its unsubscribe, pixel or click link).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrackedRecipient {
    pub project_id: String,
    pub campaign_id: String,
    pub person_id: String,
    pub address: Option<String>,
    pub channel: String,
    pub status: String,
    pub sent_at: Option<i64>,
    pub opened_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

/// A campaign's counts from its recipient rows (docs/campaigns.md, "Stats").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CampaignStats {
    pub recipients: i64,
    pub skipped: i64,
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
    /// Hard bounces at send time and bounces reported by the webhook.
    pub bounced: i64,
    /// Sent and not bounced since.
    pub delivered: i64,
    /// Recipients who opened (first open), machine ones included.
    pub opened: i64,
    /// Recipients whose first open looked automated.
    pub opened_machine_first: i64,
    pub clicked: i64,
    pub unsubscribed: i64,
    /// Every open and click, repeated ones included.
    pub opens: i64,
    pub machine_opens: i64,
    pub clicks: i64,
    /// Per hour: sends, first opens, first clicks.
    #[sqlx(skip)]
    pub series: Vec<SeriesPoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeriesPoint {
    /// The hour's start, Unix ms (UTC).
    pub at: i64,
    pub sent: i64,
    pub opened: i64,
    pub clicked: i64,
}
