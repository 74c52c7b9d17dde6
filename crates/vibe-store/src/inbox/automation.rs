//! Built-in bots (docs/metrics.md, "Bots and auto-replies"): per inbox, an
//! out-of-business-hours auto-reply and keyword rules, applied when a
//! contact's message is stored ([`on_inbound`], called by the store's two
//! inbound paths: `messages::add` and the webhooks' `inbound::receive`), and
//! the periodic sweep ([`sweep`]) that auto-resolves and marks dropped
//! conversations.
//!
//! - A contact's message first clears the conversation's `dropped` flag and
//!   pending auto-resolve (the contact wrote again).
//! - Then, in an inbox with settings: the first **rule** (in order) with a
//!   keyword found in the message (case-insensitive substring) replies with
//!   its `reply` as a `bot` message, sets `intent` when it has one, and with
//!   `resolve_after_min` sets `auto_resolve_at` = the message time + N min.
//! - Else the **away reply**, when enabled, the message time is outside the
//!   business hours of the SLA policy of the conversation's priority (in the
//!   project's time zone; no business hours = never away) and nothing was
//!   sent in the conversation since it was opened (`opened_at`): once per
//!   open period.
//! - A reply is stored `queued` on external channels (the outbound sender
//!   delivers it) and `sent` on `in_app`/`api`, 1 ms after the contact's
//!   message, through the same insert as any message (so it is a bot's
//!   answer to the timers); its id is the contact's message id + `:bot`.
//! - The **sweep**: a conversation whose `auto_resolve_at` has passed and is
//!   still `open`/`pending` is resolved at `auto_resolve_at`; a conversation
//!   `open`/`pending` whose latest message (not an internal note) is
//!   outbound and older than [`DROP_AFTER_MS`] is `dropped`.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::business_hours::WeeklyHours;
use super::model::{
    Channel, ConversationPatch, DeliveryStatus, Direction, NewMessage, Sender, Status,
};
use super::scope::Scope;
use super::sql::{self, Val};
use crate::db::Db;
use crate::StoreResult;

/// A conversation waiting on its contact this long is `dropped`.
pub const DROP_AFTER_MS: i64 = 24 * 3600 * 1000;
/// Conversations the sweep touches per run and kind.
pub const SWEEP_LIMIT: i64 = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwayReply {
    pub enabled: bool,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Lowercase.
    pub keywords: Vec<String>,
    pub reply: String,
    #[serde(default)]
    pub intent: Option<String>,
    #[serde(default)]
    pub resolve_after_min: Option<i64>,
}

/// One inbox's settings (`PUT …/inboxes/{iid}/automation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Automation {
    #[serde(default)]
    pub away_reply: AwayReply,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Automation {
    /// The first rule with a keyword in `body`.
    pub fn rule_for(&self, body: &str) -> Option<&Rule> {
        let body = body.to_lowercase();
        self.rules.iter().find(|r| {
            r.keywords
                .iter()
                .any(|k| !k.is_empty() && body.contains(k.as_str()))
        })
    }
}

pub(crate) async fn get(
    db: &Db,
    project_id: &str,
    inbox_id: &str,
) -> StoreResult<Option<Automation>> {
    let row: Option<(String,)> = sql::optional(
        db,
        "SELECT settings FROM inbox_automation WHERE project_id = $1 AND inbox_id = $2",
        &[project_id.into(), inbox_id.into()],
    )
    .await?;
    Ok(row.and_then(|r| serde_json::from_str(&r.0).ok()))
}

pub(crate) async fn put(
    db: &Db,
    project_id: &str,
    inbox_id: &str,
    settings: &Automation,
    now_ms: i64,
) -> StoreResult<()> {
    let text = serde_json::to_string(settings).unwrap_or_else(|_| "{}".into());
    sql::execute(
        db,
        "INSERT INTO inbox_automation (project_id, inbox_id, settings, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, inbox_id) DO UPDATE SET
             settings = excluded.settings, updated_at = excluded.updated_at",
        &[
            project_id.into(),
            inbox_id.into(),
            text.into(),
            now_ms.into(),
        ],
    )
    .await?;
    Ok(())
}

fn zone(name: &str) -> TimeZone {
    if name == "UTC" {
        return TimeZone::UTC;
    }
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// Whether `at` lies outside the open intervals of `hours` in `tz`.
pub fn is_away(hours: &WeeklyHours, tz: &TimeZone, at: i64) -> bool {
    super::business_hours::open_ms(hours, tz, at, at + 1) == 0
}

/// What a stored contact's message sets off (see the module docs).
pub(crate) async fn on_inbound(
    db: &Db,
    project_id: &str,
    conversation_id: &str,
    message_id: &str,
    body: &str,
    at: i64,
) -> StoreResult<()> {
    let key: Vec<Val> = vec![project_id.into(), conversation_id.into()];
    sql::execute(
        db,
        "UPDATE conversations SET dropped = 0, auto_resolve_at = NULL
         WHERE project_id = $1 AND id = $2 AND (dropped = 1 OR auto_resolve_at IS NOT NULL)",
        &key,
    )
    .await?;
    let row: Option<(Option<String>, String, String, i64)> = sql::optional(
        db,
        "SELECT inbox_id, channel, priority, opened_at FROM conversations
         WHERE project_id = $1 AND id = $2",
        &key,
    )
    .await?;
    let Some((Some(inbox), channel, priority, opened_at)) = row else {
        return Ok(());
    };
    let Some(settings) = get(db, project_id, &inbox).await? else {
        return Ok(());
    };
    let reply = if let Some(rule) = settings.rule_for(body) {
        let mut sets = Vec::new();
        let mut vals = key.clone();
        if let Some(intent) = &rule.intent {
            vals.push(intent.into());
            sets.push(format!("intent = ${}", vals.len()));
        }
        if let Some(n) = rule.resolve_after_min {
            vals.push((at + n * 60_000).into());
            sets.push(format!("auto_resolve_at = ${}", vals.len()));
        }
        if !sets.is_empty() {
            let sql = format!(
                "UPDATE conversations SET {} WHERE project_id = $1 AND id = $2",
                sets.join(", ")
            );
            sql::execute(db, &sql, &vals).await?;
        }
        rule.reply.clone()
    } else if settings.away_reply.enabled && !settings.away_reply.body.is_empty() {
        let hours: Option<(Option<String>,)> = sql::optional(
            db,
            "SELECT business_hours FROM sla_policies WHERE project_id = $1 AND priority = $2",
            &[project_id.into(), priority.into()],
        )
        .await?;
        let Some(hours) = hours.and_then(|h| h.0).and_then(|j| WeeklyHours::parse(&j)) else {
            return Ok(());
        };
        let tz: Option<(String,)> = sql::optional(
            db,
            "SELECT timezone FROM projects WHERE id = $1",
            &[project_id.into()],
        )
        .await?;
        let tz = zone(tz.as_ref().map_or("UTC", |t| t.0.as_str()));
        if !is_away(&hours, &tz, at) {
            return Ok(());
        }
        let sent: Option<(String,)> = sql::optional(
            db,
            "SELECT id FROM messages WHERE project_id = $1 AND conversation_id = $2
               AND direction = 'out' AND private = 0 AND created_at >= $3 LIMIT 1",
            &[project_id.into(), conversation_id.into(), opened_at.into()],
        )
        .await?;
        if sent.is_some() {
            return Ok(());
        }
        settings.away_reply.body.clone()
    } else {
        return Ok(());
    };
    let external = Channel::parse(&channel).is_some_and(Channel::is_external);
    let m = NewMessage {
        id: format!("{message_id}:bot"),
        conversation_id: conversation_id.to_owned(),
        direction: Direction::Out,
        sender: Sender::Bot,
        sender_account_id: None,
        body: reply,
        private: false,
        attachments: "[]".into(),
        delivery_status: if external {
            DeliveryStatus::Queued
        } else {
            DeliveryStatus::Sent
        },
        channel_message_id: None,
        created_at: at + 1,
    };
    super::messages::store(db, project_id, &m).await?;
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub resolved: u64,
    pub dropped: u64,
}

/// Auto-resolves and marks dropped conversations of every project.
pub(crate) async fn sweep(db: &Db, now_ms: i64) -> StoreResult<Swept> {
    let mut out = Swept::default();
    let due: Vec<(String, String, i64)> = sql::all(
        db,
        "SELECT project_id, id, auto_resolve_at FROM conversations
         WHERE auto_resolve_at IS NOT NULL AND auto_resolve_at <= $1
         ORDER BY auto_resolve_at, project_id, id LIMIT $2",
        &[now_ms.into(), SWEEP_LIMIT.into()],
    )
    .await?;
    for (project, id, at) in due {
        // Cleared first, guarded by its value: a contact's message meanwhile wins.
        let n = sql::execute(
            db,
            "UPDATE conversations SET auto_resolve_at = NULL
             WHERE project_id = $1 AND id = $2 AND auto_resolve_at = $3",
            &[(&project).into(), (&id).into(), at.into()],
        )
        .await?;
        if n == 0 {
            continue;
        }
        let patch = ConversationPatch {
            status: Some(Status::Resolved),
            ..Default::default()
        };
        let before = super::conversations::by_id(db, &project, &id).await?;
        if before.is_some_and(|c| matches!(c.status.as_str(), "open" | "pending")) {
            super::conversations::update(db, &project, &Scope::All, &id, &patch, at).await?;
            out.resolved += 1;
        }
    }
    // One transaction: each conversation marked records its `dropped` fact.
    let mut tx = super::sql::Tx::begin(db).await?;
    out.dropped = super::reporting::drop_idle(&mut tx, now_ms - DROP_AFTER_MS, now_ms).await?;
    tx.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins() {
        let rule = |k: &[&str], reply: &str| Rule {
            keywords: k.iter().map(|s| s.to_string()).collect(),
            reply: reply.into(),
            intent: None,
            resolve_after_min: None,
        };
        let a = Automation {
            away_reply: AwayReply::default(),
            rules: vec![
                rule(&["refund", "money back"], "r1"),
                rule(&["price"], "r2"),
            ],
        };
        assert_eq!(a.rule_for("I want my MONEY BACK").unwrap().reply, "r1");
        assert_eq!(
            a.rule_for("what's the price of a refund?").unwrap().reply,
            "r1"
        );
        assert_eq!(a.rule_for("Prices?").unwrap().reply, "r2");
        assert!(a.rule_for("hello").is_none());
    }

    #[test]
    fn away_outside_open_hours() {
        let h = WeeklyHours::parse(r#"{"mon": [["09:00","17:00"]]}"#).unwrap();
        let tz = TimeZone::UTC;
        // 2026-11-30 is a Monday.
        let monday = 1_795_996_800_000; // 2026-11-30T00:00Z
        assert!(is_away(&h, &tz, monday + 8 * 3_600_000));
        assert!(!is_away(&h, &tz, monday + 9 * 3_600_000));
        assert!(is_away(&h, &tz, monday + 17 * 3_600_000));
        assert!(is_away(&h, &tz, monday + 86_400_000 + 10 * 3_600_000));
    }
}
