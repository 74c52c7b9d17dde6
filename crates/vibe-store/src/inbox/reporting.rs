//! The support reporting facts (`support_events`, migration 0030;
//! docs/metrics.md, "Support reporting events"): one row per inbox change,
//! inserted in the SAME transaction as the change, carrying the attribution
//! of that moment (the agent the fact belongs to, the conversation's team,
//! inbox and channel), so a later reassignment or team move never rewrites
//! history. The reports fold these rows; they never re-derive the past from
//! the conversations' current columns.
//!
//! Every write path of the inbox calls the helpers here with the
//! conversation row it reads inside its transaction ([`ConvRow`]); each fact
//! is one `INSERT` ([`record`]). A message's fact of one name is unique
//! (partial index): delivery statuses arriving twice or out of order insert
//! nothing the second time.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::tz::TimeZone;

use super::business_hours::{open_seconds, WeeklyHours};
use super::model::{DeliveryStatus, Direction, NewMessage, Sender};
use super::sql::{Tx, Val};
use super::timers;
use crate::StoreResult;

/// The names of the facts (the `name` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventName {
    ConversationCreated,
    Message,
    FirstResponse,
    Reply,
    Assigned,
    Handled,
    Resolved,
    Reopened,
    Escalated,
    Dropped,
    Csat,
    Lead,
    Converted,
    Status,
    Sent,
    Delivered,
    Read,
    Failed,
    Sla,
    SlaMiss,
}

impl EventName {
    pub const ALL: &'static [EventName] = &[
        Self::ConversationCreated,
        Self::Message,
        Self::FirstResponse,
        Self::Reply,
        Self::Assigned,
        Self::Handled,
        Self::Resolved,
        Self::Reopened,
        Self::Escalated,
        Self::Dropped,
        Self::Csat,
        Self::Lead,
        Self::Converted,
        Self::Status,
        Self::Sent,
        Self::Delivered,
        Self::Read,
        Self::Failed,
        Self::Sla,
        Self::SlaMiss,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConversationCreated => "conversation_created",
            Self::Message => "message",
            Self::FirstResponse => "first_response",
            Self::Reply => "reply",
            Self::Assigned => "assigned",
            Self::Handled => "handled",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
            Self::Escalated => "escalated",
            Self::Dropped => "dropped",
            Self::Csat => "csat",
            Self::Lead => "lead",
            Self::Converted => "converted",
            Self::Status => "status",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Sla => "sla",
            Self::SlaMiss => "sla_miss",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|n| n.as_str() == s)
    }
}

/// One row of `support_events`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SupportEvent {
    pub id: String,
    pub name: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub account_id: Option<String>,
    pub team_id: Option<String>,
    pub inbox_id: Option<String>,
    pub channel: String,
    pub value_s: Option<i64>,
    pub value_bh_s: Option<i64>,
    pub flag: i64,
    pub label: Option<String>,
    pub at: i64,
}

/// A fact about to be recorded (built from a [`ConvRow`], then adjusted).
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub name: EventName,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub account_id: Option<String>,
    pub team_id: Option<String>,
    pub inbox_id: Option<String>,
    pub channel: String,
    pub value_s: Option<i64>,
    pub value_bh_s: Option<i64>,
    pub flag: bool,
    pub label: Option<String>,
    pub at: i64,
}

impl Event {
    pub fn account(mut self, a: Option<String>) -> Self {
        self.account_id = a;
        self
    }
    pub fn message(mut self, id: &str) -> Self {
        self.message_id = Some(id.to_owned());
        self
    }
    pub fn values(mut self, s: i64, bh: Option<i64>) -> Self {
        self.value_s = Some(s);
        self.value_bh_s = bh;
        self
    }
    pub fn flag(mut self, f: bool) -> Self {
        self.flag = f;
        self
    }
    pub fn label(mut self, l: Option<String>) -> Self {
        self.label = l;
        self
    }
}

/// The columns of a conversation the facts need, read inside the writer's
/// transaction (flags as the stored integers).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ConvRow {
    pub id: String,
    pub site_user_id: String,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub assignee_account_id: Option<String>,
    pub team_id: Option<String>,
    pub inbox_id: Option<String>,
    pub intent: Option<String>,
    pub csat: Option<i64>,
    pub escalated_to_human: i64,
    pub is_lead: i64,
    pub converted: i64,
    pub bot_only: i64,
    pub first_inbound_at: Option<i64>,
    pub first_response_s: Option<i64>,
    pub first_response_bh_s: Option<i64>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub assigned_at: Option<i64>,
    pub created_at: i64,
}

const CONV_ROW: &str = "SELECT id, site_user_id, channel, status, priority, assignee_account_id,
        team_id, inbox_id, intent, csat, escalated_to_human, is_lead, converted, bot_only,
        first_inbound_at, first_response_s, first_response_bh_s, opened_at, resolved_at,
        waiting_since, assigned_at, created_at
     FROM conversations WHERE project_id = $1 AND id = $2";

/// The conversation as the transaction sees it now.
pub(crate) async fn conv_row(
    tx: &mut Tx,
    project_id: &str,
    id: &str,
) -> StoreResult<Option<ConvRow>> {
    tx.optional(CONV_ROW, &[project_id.into(), id.into()]).await
}

impl ConvRow {
    /// A fact of this conversation at `at`, attributed to its assignee.
    pub fn event(&self, name: EventName, at: i64) -> Event {
        Event {
            name,
            conversation_id: self.id.clone(),
            message_id: None,
            account_id: self.assignee_account_id.clone(),
            team_id: self.team_id.clone(),
            inbox_id: self.inbox_id.clone(),
            channel: self.channel.clone(),
            value_s: None,
            value_bh_s: None,
            flag: false,
            label: None,
            at,
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "open" | "pending")
    }

    /// `reopened` of this (resolved or closed) conversation at `at`: the
    /// whole seconds since its latest resolution, flagged when that
    /// resolution was bot-only and is at most [`BOT_REOPEN_WINDOW_S`] old —
    /// what undoes a bot's success, counted additively as `reopened.flag`
    /// in the period of the reopen (docs/metrics.md, "Automation impact").
    pub fn reopened(&self, at: i64) -> Event {
        let since_s = (at - self.resolved_at.unwrap_or(at)).max(0) / 1000;
        self.event(EventName::Reopened, at)
            .values(since_s, None)
            .flag(self.bot_only == 1 && since_s <= BOT_REOPEN_WINDOW_S)
    }
}

/// A bot-only resolution reopened at most this many seconds after it
/// (24 h) did not succeed: the `reopened` fact's flag.
pub const BOT_REOPEN_WINDOW_S: i64 = 86_400;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh event id: 128 random bits as a UUID-shaped string (the store has
/// no UUID crate; `RandomState` is seeded from the OS and re-keyed per use,
/// and the process counter makes two ids of one instant differ anyway).
fn new_id(at: i64) -> String {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut a = std::collections::hash_map::RandomState::new().build_hasher();
    a.write_u64(seq);
    a.write_i64(at);
    let mut b = std::collections::hash_map::RandomState::new().build_hasher();
    b.write_u64(a.finish());
    b.write_u64(seq);
    let (x, y) = (a.finish(), b.finish());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (y >> 48) | 0x8000,
        y & 0xffff_ffff_ffff
    )
}

const INSERT: &str = "INSERT INTO support_events (project_id, id, name, conversation_id,
        message_id, account_id, team_id, inbox_id, channel, value_s, value_bh_s, flag, label, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT DO NOTHING";

/// The one insert of a fact; a message's fact of a name already recorded is
/// skipped (`false`).
pub(crate) async fn record(tx: &mut Tx, project_id: &str, e: &Event) -> StoreResult<bool> {
    let vals: Vec<Val> = vec![
        project_id.into(),
        new_id(e.at).into(),
        e.name.as_str().into(),
        (&e.conversation_id).into(),
        (&e.message_id).into(),
        (&e.account_id).into(),
        (&e.team_id).into(),
        (&e.inbox_id).into(),
        (&e.channel).into(),
        e.value_s.into(),
        e.value_bh_s.into(),
        e.flag.into(),
        (&e.label).into(),
        e.at.into(),
    ];
    Ok(tx.exec(INSERT, &vals).await? == 1)
}

/// The SLA policy of a priority and the project's zone, read in the
/// transaction: what business-hours values and SLA facts are computed with.
pub(crate) struct Clock {
    pub tz: TimeZone,
    pub policy: Option<Policy>,
}

pub(crate) struct Policy {
    pub first_response_target_s: i64,
    pub resolution_target_s: i64,
    pub next_response_target_s: Option<i64>,
    pub hours: Option<WeeklyHours>,
}

fn zone(name: &str) -> TimeZone {
    if name == "UTC" {
        return TimeZone::UTC;
    }
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

impl Clock {
    pub(crate) async fn of(tx: &mut Tx, project_id: &str, priority: &str) -> StoreResult<Self> {
        let tz: Option<(String,)> = tx
            .optional(
                "SELECT timezone FROM projects WHERE id = $1",
                &[project_id.into()],
            )
            .await?;
        let row: Option<(i64, i64, Option<i64>, Option<String>)> = tx
            .optional(
                "SELECT first_response_target_s, resolution_target_s, next_response_target_s,
                     business_hours
                 FROM sla_policies WHERE project_id = $1 AND priority = $2",
                &[project_id.into(), priority.into()],
            )
            .await?;
        Ok(Self {
            tz: zone(tz.as_ref().map_or("UTC", |t| t.0.as_str())),
            policy: row.map(|(f, r, n, h)| Policy {
                first_response_target_s: f,
                resolution_target_s: r,
                next_response_target_s: n,
                hours: h.and_then(|j| WeeklyHours::parse(&j)),
            }),
        })
    }

    fn hours(&self) -> Option<&WeeklyHours> {
        self.policy.as_ref().and_then(|p| p.hours.as_ref())
    }

    /// Business-hours seconds between two instants; `None` without hours.
    pub fn bh(&self, from: i64, to: i64) -> Option<i64> {
        self.hours()
            .map(|h| open_seconds(Some(h), &self.tz, from, to))
    }

    /// The conversation column's business-hours value: the wall-clock one
    /// without hours (docs/metrics.md, "Business-hours variants").
    pub fn bh_or_calendar(&self, from: i64, to: i64) -> i64 {
        open_seconds(self.hours(), &self.tz, from, to)
    }

    /// The seconds an SLA target is measured in: business hours when the
    /// policy has them, else calendar.
    pub fn measured(&self, s: i64, bh: Option<i64>) -> i64 {
        if self.hours().is_some() {
            bh.unwrap_or(s)
        } else {
            s
        }
    }
}

/// `sla_miss` when `measured` exceeds `target` (seconds over target).
pub(crate) async fn sla_miss(
    tx: &mut Tx,
    project_id: &str,
    c: &ConvRow,
    kind: &str,
    measured: i64,
    target: Option<i64>,
    at: i64,
) -> StoreResult<bool> {
    let Some(target) = target else {
        return Ok(false);
    };
    if measured <= target {
        return Ok(false);
    }
    let e = c
        .event(EventName::SlaMiss, at)
        .values(measured - target, None)
        .label(Some(kind.to_owned()));
    record(tx, project_id, &e).await?;
    Ok(true)
}

/// `handled` for the assignee of an open conversation who stops holding it
/// at `at` (reassign, unassign, resolution): seconds since `assigned_at`.
pub(crate) async fn handled(
    tx: &mut Tx,
    project_id: &str,
    c: &ConvRow,
    at: i64,
) -> StoreResult<()> {
    if let (Some(_), Some(since), true) = (&c.assignee_account_id, c.assigned_at, c.is_open()) {
        let e = c
            .event(EventName::Handled, at)
            .values((at - since).max(0) / 1000, None);
        record(tx, project_id, &e).await?;
    }
    Ok(())
}

/// `conversation_created` of a conversation just inserted (read back in
/// the same transaction); flag = the contact had an earlier conversation.
pub(crate) async fn created(tx: &mut Tx, project_id: &str, id: &str) -> StoreResult<()> {
    let Some(c) = conv_row(tx, project_id, id).await? else {
        return Ok(());
    };
    let earlier: Option<(String,)> = tx
        .optional(
            "SELECT id FROM conversations WHERE project_id = $1 AND site_user_id = $2
               AND id <> $3 AND created_at <= $4 LIMIT 1",
            &[
                project_id.into(),
                (&c.site_user_id).into(),
                id.into(),
                c.created_at.into(),
            ],
        )
        .await?;
    let e = c
        .event(EventName::ConversationCreated, c.created_at)
        .flag(earlier.is_some())
        .label(Some(c.priority.clone()));
    record(tx, project_id, &e).await?;
    Ok(())
}

const WAIT: &str = "UPDATE conversations SET waiting_since = COALESCE(waiting_since, $3)
     WHERE project_id = $1 AND id = $2";
const REOPEN_HOLD: &str = "UPDATE conversations SET assigned_at = $3
     WHERE project_id = $1 AND id = $2 AND assignee_account_id IS NOT NULL";

/// A contact's (inbound) message just inserted: the timers of
/// [`super::timers`] (`ON_INBOUND`, the reopen by inbound), the contact
/// starts waiting, and the facts `reopened` (when it reopened) and
/// `message`. The one inbound path of every writer (API, webhooks, mail).
pub(crate) async fn on_inbound(
    tx: &mut Tx,
    project_id: &str,
    conversation_id: &str,
    message_id: &str,
    at: i64,
) -> StoreResult<()> {
    let conv: Vec<Val> = vec![project_id.into(), conversation_id.into(), at.into()];
    tx.exec(super::timers::ON_INBOUND, &conv).await?;
    let before = conv_row(tx, project_id, conversation_id).await?;
    let reopened = tx.exec(super::timers::REOPEN_ON_INBOUND, &conv).await? == 1;
    tx.exec(WAIT, &conv).await?;
    let Some(c) = before else {
        return Ok(());
    };
    if reopened {
        tx.exec(REOPEN_HOLD, &conv).await?;
        record(tx, project_id, &c.reopened(at)).await?;
    }
    let e = c
        .event(EventName::Message, at)
        .message(message_id)
        .label(Some("contact".into()));
    record(tx, project_id, &e).await?;
    Ok(())
}

/// An outbound message (or a note) just inserted, after `ON_OUTBOUND`: the
/// response timers of [`super::timers`] (first response with its
/// business-hours value, the bot and escalation flags) and the facts
/// `first_response`, `reply` (the contact was waiting: `waiting_since` is
/// cleared), `sla_miss`, `escalated`, `message` and `sent` (a message
/// stored already sent). Reads the conversation once, before the updates.
pub(crate) async fn on_outbound(
    tx: &mut Tx,
    project_id: &str,
    new: &NewMessage,
) -> StoreResult<()> {
    let at = new.created_at;
    let conv: Vec<Val> = vec![project_id.into(), (&new.conversation_id).into(), at.into()];
    let Some(c) = conv_row(tx, project_id, &new.conversation_id).await? else {
        return Ok(());
    };
    let by_bot = new.sender == Sender::Bot;
    let responder = if new.sender == Sender::Agent {
        new.sender_account_id.clone()
    } else {
        None
    };
    if timers::is_response(new) {
        let first = tx.exec(timers::FIRST_RESPONSE, &conv).await? == 1;
        let waiting = c.waiting_since.filter(|w| *w <= at);
        if first || waiting.is_some() {
            let clock = Clock::of(tx, project_id, &c.priority).await?;
            let policy = clock.policy.as_ref();
            if let (true, Some(from)) = (first, c.first_inbound_at) {
                let key: Vec<Val> = vec![
                    project_id.into(),
                    (&c.id).into(),
                    clock.bh_or_calendar(from, at).into(),
                ];
                tx.exec(
                    "UPDATE conversations SET first_response_bh_s = $3
                     WHERE project_id = $1 AND id = $2 AND first_response_bh_s IS NULL",
                    &key,
                )
                .await?;
                let (s, bh) = ((at - from) / 1000, clock.bh(from, at));
                let e = c
                    .event(EventName::FirstResponse, at)
                    .account(responder.clone())
                    .values(s, bh)
                    .flag(by_bot);
                record(tx, project_id, &e).await?;
                let target = policy.map(|p| p.first_response_target_s);
                let m = clock.measured(s, bh);
                sla_miss(tx, project_id, &c, "first_response", m, target, at).await?;
            }
            if let Some(w) = waiting {
                let key: Vec<Val> = vec![project_id.into(), (&c.id).into(), w.into()];
                tx.exec(
                    "UPDATE conversations SET waiting_since = NULL
                     WHERE project_id = $1 AND id = $2 AND waiting_since = $3",
                    &key,
                )
                .await?;
                let (s, bh) = ((at - w) / 1000, clock.bh(w, at));
                let e = c
                    .event(EventName::Reply, at)
                    .account(responder.clone())
                    .message(&new.id)
                    .values(s, bh)
                    .flag(by_bot);
                record(tx, project_id, &e).await?;
                if !first {
                    let target = policy.and_then(|p| p.next_response_target_s);
                    let m = clock.measured(s, bh);
                    sla_miss(tx, project_id, &c, "next_response", m, target, at).await?;
                }
            }
        }
    }
    if by_bot {
        tx.exec(timers::BOT_HANDLED, &conv[..2]).await?;
    }
    if new.sender == Sender::Agent
        && !new.private
        && tx.exec(timers::AGENT_AFTER_BOT, &conv[..2]).await? == 1
    {
        let e = c.event(EventName::Escalated, at).account(responder.clone());
        record(tx, project_id, &e).await?;
    }
    if !new.private && new.sender != Sender::System {
        let e = c
            .event(EventName::Message, at)
            .account(responder.or_else(|| c.assignee_account_id.clone()))
            .message(&new.id)
            .flag(new.direction == Direction::Out)
            .label(Some(new.sender.as_str().to_owned()));
        record(tx, project_id, &e).await?;
    }
    if new.direction == Direction::Out
        && !new.private
        && new.delivery_status != DeliveryStatus::Queued
    {
        delivery(tx, project_id, &new.id).await?;
    }
    Ok(())
}

const CLOSE_HOLD: &str = "UPDATE conversations SET waiting_since = NULL, assigned_at = NULL
     WHERE project_id = $1 AND id = $2";
const NEXT_MISSES: &str = "SELECT COUNT(*) FROM support_events
     WHERE project_id = $1 AND conversation_id = $2 AND name = 'sla_miss'
       AND label = 'next_response' AND at >= $3";

/// The conversation `before` (open) was just resolved at `at` by the
/// guarded [`super::timers::Transition::Resolve`] update: its
/// business-hours resolution and `bot_only` are stored, the assignee's
/// `handled`, `resolved`, the SLA facts; nobody waits or holds it after.
pub(crate) async fn on_resolve(
    tx: &mut Tx,
    project_id: &str,
    before: &ConvRow,
    at: i64,
) -> StoreResult<()> {
    let key: Vec<Val> = vec![project_id.into(), (&before.id).into()];
    let clock = Clock::of(tx, project_id, &before.priority).await?;
    let from = before.opened_at;
    let bh_col: Vec<Val> = vec![
        project_id.into(),
        (&before.id).into(),
        clock.bh_or_calendar(from, at).into(),
    ];
    tx.exec(
        "UPDATE conversations SET resolution_bh_s = $3 WHERE project_id = $1 AND id = $2",
        &bh_col,
    )
    .await?;
    tx.exec(timers::BOT_ONLY, &key).await?;
    handled(tx, project_id, before, at).await?;
    tx.exec(CLOSE_HOLD, &key).await?;
    let Some(c) = conv_row(tx, project_id, &before.id).await? else {
        return Ok(());
    };
    let (s, bh) = ((at - from) / 1000, clock.bh(from, at));
    let e = c
        .event(EventName::Resolved, at)
        .values(s, bh)
        .flag(c.bot_only == 1)
        .label(c.intent.clone());
    record(tx, project_id, &e).await?;
    let Some(policy) = clock.policy.as_ref() else {
        return Ok(());
    };
    let m = clock.measured(s, bh);
    let late = sla_miss(
        tx,
        project_id,
        &c,
        "resolution",
        m,
        Some(policy.resolution_target_s),
        at,
    )
    .await?;
    // The first response is once per conversation: judged by its stored
    // value (business hours when the policy has them); next responses by
    // the misses recorded in this open period.
    let first = match c.first_response_s {
        Some(fs) => clock.measured(fs, c.first_response_bh_s) > policy.first_response_target_s,
        None => false,
    };
    let q: Vec<Val> = vec![project_id.into(), (&c.id).into(), from.into()];
    let next: Option<(i64,)> = tx.optional(NEXT_MISSES, &q).await?;
    let missed = late || first || next.is_some_and(|n| n.0 > 0);
    let label = if missed { "missed" } else { "hit" };
    let e = c.event(EventName::Sla, at).label(Some(label.into()));
    record(tx, project_id, &e).await?;
    Ok(())
}

/// The conversation `before` (resolved or closed) was just reopened at `at`:
/// `reopened` ([`ConvRow::reopened`]), and the assignee holds it again from
/// now.
pub(crate) async fn on_reopen(
    tx: &mut Tx,
    project_id: &str,
    before: &ConvRow,
    at: i64,
) -> StoreResult<()> {
    let conv: Vec<Val> = vec![project_id.into(), (&before.id).into(), at.into()];
    tx.exec(REOPEN_HOLD, &conv).await?;
    record(tx, project_id, &before.reopened(at)).await?;
    Ok(())
}

/// The facts of a patch's plain fields, `before` and `after` the one
/// `UPDATE` (same transaction): `handled` + `assigned` on a change of
/// assignee, `escalated`, `csat`, `lead`, `converted` when they are set.
pub(crate) async fn on_patch(
    tx: &mut Tx,
    project_id: &str,
    before: &ConvRow,
    after: &ConvRow,
    at: i64,
) -> StoreResult<()> {
    if before.assignee_account_id != after.assignee_account_id {
        handled(tx, project_id, before, at).await?;
        let e = after
            .event(EventName::Assigned, at)
            .label(before.assignee_account_id.clone());
        record(tx, project_id, &e).await?;
    }
    if before.escalated_to_human == 0 && after.escalated_to_human == 1 {
        record(tx, project_id, &after.event(EventName::Escalated, at)).await?;
    }
    if let (Some(v), true) = (after.csat, before.csat != after.csat) {
        let e = after.event(EventName::Csat, at).values(v, None);
        record(tx, project_id, &e).await?;
    }
    if before.is_lead == 0 && after.is_lead == 1 {
        record(tx, project_id, &after.event(EventName::Lead, at)).await?;
    }
    if before.converted == 0 && after.converted == 1 {
        record(tx, project_id, &after.event(EventName::Converted, at)).await?;
    }
    Ok(())
}

/// Marks dropped the conversations of every project waiting on their
/// contact since `idle_before` (see [`super::automation`]) and records
/// `dropped` for each, from the rows the update returns (no read per row).
pub(crate) async fn drop_idle(tx: &mut Tx, idle_before: i64, at: i64) -> StoreResult<u64> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = tx
        .all(
            "UPDATE conversations SET dropped = 1
             WHERE dropped = 0 AND status IN ('open', 'pending') AND last_message_at <= $1
               AND (SELECT m.direction FROM messages m
                    WHERE m.project_id = conversations.project_id
                      AND m.conversation_id = conversations.id AND m.private = 0
                    ORDER BY m.created_at DESC, m.id DESC LIMIT 1) = 'out'
             RETURNING project_id, id, assignee_account_id, team_id, inbox_id, channel",
            &[idle_before.into()],
        )
        .await?;
    for (project, id, account, team, inbox, channel) in &rows {
        let e = Event {
            name: EventName::Dropped,
            conversation_id: id.clone(),
            message_id: None,
            account_id: account.clone(),
            team_id: team.clone(),
            inbox_id: inbox.clone(),
            channel: channel.clone(),
            value_s: None,
            value_bh_s: None,
            flag: false,
            label: None,
            at,
        };
        record(tx, project, &e).await?;
    }
    Ok(rows.len() as u64)
}

/// The delivery facts of an outbound message whose guarded status update
/// just touched its row: each of `sent_at`, `delivered_at`, `read_at` now
/// set is recorded at its own time (a `read` that filled the lower ones
/// records those too; one already recorded is skipped by the unique index),
/// and `failed` with its reason. Attributed to the sending agent.
pub(crate) async fn delivery(tx: &mut Tx, project_id: &str, message_id: &str) -> StoreResult<()> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let row: Option<Row> = tx
        .optional(
            "SELECT conversation_id, direction, sender_account_id, sent_at, delivered_at,
                 read_at, broadcast_id
             FROM messages WHERE project_id = $1 AND id = $2",
            &[project_id.into(), message_id.into()],
        )
        .await?;
    let Some((conversation_id, direction, sender, sent, delivered, read, bc)) = row else {
        return Ok(());
    };
    if direction != "out" {
        return Ok(());
    }
    let Some(c) = conv_row(tx, project_id, &conversation_id).await? else {
        return Ok(());
    };
    let stamps = [
        (EventName::Sent, sent),
        (EventName::Delivered, delivered),
        (EventName::Read, read),
    ];
    for (name, at) in stamps {
        if let Some(at) = at {
            let e = c
                .event(name, at)
                .account(sender.clone())
                .message(message_id)
                .label(bc.clone());
            record(tx, project_id, &e).await?;
        }
    }
    Ok(())
}

/// `failed` of an outbound message the guarded update just failed at `at`.
pub(crate) async fn failed(
    tx: &mut Tx,
    project_id: &str,
    message_id: &str,
    at: i64,
) -> StoreResult<()> {
    let row: Option<(String, String, Option<String>, Option<String>)> = tx
        .optional(
            "SELECT conversation_id, direction, sender_account_id, failed_reason
             FROM messages WHERE project_id = $1 AND id = $2",
            &[project_id.into(), message_id.into()],
        )
        .await?;
    let Some((conversation_id, direction, sender, reason)) = row else {
        return Ok(());
    };
    if direction != "out" {
        return Ok(());
    }
    let Some(c) = conv_row(tx, project_id, &conversation_id).await? else {
        return Ok(());
    };
    let e = c
        .event(EventName::Failed, at)
        .account(sender)
        .message(message_id)
        .label(reason);
    record(tx, project_id, &e).await?;
    Ok(())
}

/// A guarded delivery update (`timers::delivery_sql`) touched the row: its facts.
pub(crate) async fn on_delivery(
    tx: &mut Tx,
    project_id: &str,
    message_id: &str,
    status: DeliveryStatus,
    at: i64,
) -> StoreResult<()> {
    if status == DeliveryStatus::Failed {
        failed(tx, project_id, message_id, at).await
    } else {
        delivery(tx, project_id, message_id).await
    }
}

/// The facts of one conversation, oldest first (tests and the reports' raw
/// fold; `at` then id order).
pub(crate) async fn of_conversation(
    db: &crate::db::Db,
    project_id: &str,
    conversation_id: &str,
) -> StoreResult<Vec<SupportEvent>> {
    super::sql::all(
        db,
        "SELECT id, name, conversation_id, message_id, account_id, team_id, inbox_id, channel,
             value_s, value_bh_s, flag, label, at
         FROM support_events WHERE project_id = $1 AND conversation_id = $2
         ORDER BY at, name, id",
        &[project_id.into(), conversation_id.into()],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in EventName::ALL {
            assert_eq!(EventName::parse(n.as_str()), Some(*n));
        }
        assert_eq!(EventName::parse("nope"), None);
    }

    #[test]
    fn ids_differ() {
        let a: std::collections::HashSet<String> = (0..1000).map(|_| new_id(5)).collect();
        assert_eq!(a.len(), 1000);
        assert_eq!(new_id(1).len(), 36);
    }
}
