//! What a backend does for an ingest transaction: the reads and writes, and
//! nothing else. The decisions (who is who, what the rollups gain) are in
//! [`super::batch`] and [`super::identities`], written once.
//!
//! The statements both databases accept are the `const`s below, with `$n`
//! placeholders (rusqlite binds them by name). Multi-row statements are a
//! shared head plus the backend's `VALUES` list and conflict clause.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use jiff::civil::Date;
use vibe_core::day::parse_day;
use vibe_core::Message;

use super::{IngestJob, PersonUpsert, SessionUpsert};
use crate::db::{column, first_value, TxRead};
use crate::features::ingest::FeatureIo;
use crate::funnel_rollup::io::FunnelIo;
use crate::funnel_rollup::FunnelDef;
use crate::retention::ingest::RetentionIo;
use crate::rollup::{DailyDelta, SessionState};
use crate::StoreResult;

/// `(project_id, id)` of a person, session, event or alias.
pub type Key = (String, String);
/// `(project_id, person, day)`: one row of `user_days`.
pub type ActiveDay = (String, String, String);

/// A stored event as it is inserted: its job, the message, and its props (or
/// traits) as JSON text.
pub type EventRow<'a> = (&'a IngestJob, &'a Message, Option<String>);

/// The ingest transaction's I/O. SQLite implements it synchronously on its
/// writer connection (and drives [`super::batch::write_batch`] with
/// [`run_ready`]); PostgreSQL with sqlx, locking what it reads.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait IngestIo:
    FunnelIo
    + FeatureIo
    + crate::flows::ingest::FlowIo
    + RetentionIo
    + crate::revenue::ingest::RevenueIo
    + crate::uniques::ingest::UniquesIo
    + TxRead<(String,)>
    + TxRead<(Option<String>,)>
{
    /// Inserts the events not yet stored; the keys of those it inserted.
    async fn insert_events(&mut self, rows: &[EventRow<'_>]) -> StoreResult<HashSet<Key>>;
    /// The stored person of each known anonymous id (`anons` is sorted).
    async fn read_aliases(&mut self, anons: &[Key]) -> StoreResult<HashMap<Key, String>>;
    /// New anonymous ids, each its own person.
    async fn insert_aliases(&mut self, new: &[&Key]) -> StoreResult<()>;
    /// [`PERSON_OF_USER`].
    async fn person_of_user(&mut self, project: &str, user: &str) -> StoreResult<Option<String>> {
        first_value(self, PERSON_OF_USER, &[project.into(), user.into()]).await
    }
    /// [`USER_OF_PERSON`]: `None` when the person is not stored.
    async fn user_of_person(
        &mut self,
        project: &str,
        person: &str,
    ) -> StoreResult<Option<Option<String>>> {
        first_value(self, USER_OF_PERSON, &[project.into(), person.into()]).await
    }
    /// [`SET_USER`].
    async fn set_user(&mut self, project: &str, person: &str, user_id: &str) -> StoreResult<()> {
        let args = [user_id.into(), project.into(), person.into()];
        self.execute(SET_USER, &args).await.map(drop)
    }
    /// [`REPOINT_ALIAS`].
    async fn repoint_alias(&mut self, project: &str, anon: &str, person: &str) -> StoreResult<()> {
        let args = [person.into(), project.into(), anon.into()];
        self.execute(REPOINT_ALIAS, &args).await.map(drop)
    }
    /// `first_seen` of both people of a merge.
    async fn first_seen_pair(
        &mut self,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<(Option<i64>, Option<i64>)>;
    /// [`ACTIVE_DAYS_OF`].
    async fn active_days_of(&mut self, project: &str, person: &str) -> StoreResult<BTreeSet<Date>> {
        let days: Vec<String> =
            column(self, ACTIVE_DAYS_OF, &[project.into(), person.into()]).await?;
        Ok(days.iter().filter_map(|d| parse_day(d)).collect())
    }
    /// Deletes the active days `from` shares with `into`; returns those days.
    async fn take_shared_days(
        &mut self,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<Vec<String>>;
    /// [`MOVE_PERSON`], bound `(into, project, from)`, then [`DELETE_PERSON`].
    async fn move_person(&mut self, project: &str, from: &str, into: &str) -> StoreResult<()> {
        let args = [into.into(), project.into(), from.into()];
        for statement in MOVE_PERSON {
            self.execute(statement, &args).await?;
        }
        let args = [project.into(), from.into()];
        self.execute(DELETE_PERSON, &args).await.map(drop)
    }
    /// Serialises batches that resolve the same user ids (`users` is sorted
    /// and unique), so two of them cannot both give a new user a person.
    /// SQLite has one writer already; PostgreSQL takes transaction locks.
    async fn lock_users(&mut self, users: &[Key]) -> StoreResult<()> {
        let _ = users;
        Ok(())
    }
    /// Stored `first_seen` of these people.
    async fn read_first_seen(&mut self, people: &[PersonUpsert]) -> StoreResult<HashMap<Key, i64>>;
    /// Stored state of these sessions.
    async fn read_sessions(
        &mut self,
        sessions: &[SessionUpsert],
    ) -> StoreResult<HashMap<Key, SessionState>>;
    async fn upsert_people(&mut self, people: &[PersonUpsert]) -> StoreResult<()>;
    async fn upsert_sessions(&mut self, sessions: &[SessionUpsert]) -> StoreResult<()>;
    /// Inserts these `user_days` rows; returns those that were new.
    async fn insert_active_days<'d>(
        &mut self,
        days: &'d [ActiveDay],
    ) -> StoreResult<Vec<Cow<'d, ActiveDay>>>;
    /// Active days of each `(person, first, last)` of one project from 13 days
    /// before `first` to 13 days after `last`, in the order asked.
    async fn active_days_near(
        &mut self,
        project: &str,
        people: &[(&str, Date, Date)],
    ) -> StoreResult<Vec<BTreeSet<Date>>>;
    async fn write_daily_stats(&mut self, rows: &[(&str, &str, DailyDelta)]) -> StoreResult<()>;
    /// Funnel definitions of these projects.
    async fn funnels(&mut self, projects: &[&str]) -> StoreResult<Vec<FunnelDef>>;
}

/// Runs a future that never waits: a synchronous [`IngestIo`] returns every
/// answer at once, so one poll finishes the batch.
pub fn run_ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("a synchronous ingest backend never waits"),
    }
}

/// The `day` strings of a window: `first − 13` … `last + 13`.
pub fn churn_window(first: Date, last: Date) -> (String, String) {
    (days_from(first, -13), days_from(last, 13))
}

fn days_from(d: Date, days: i64) -> String {
    d.checked_add(jiff::Span::new().days(days))
        .unwrap_or(d)
        .to_string()
}

pub const INSERT_EVENTS: &str = "INSERT INTO user_events (project_id, id, kind, name, anonymous_id, user_id, session_id, url, path, referrer, title, props, ts, received_at) ";
pub const EVENT_COLUMNS: usize = 14;
pub const ON_EVENT_CONFLICT: &str = " ON CONFLICT (project_id, id) DO NOTHING";

pub const INSERT_ALIASES: &str =
    "INSERT INTO site_user_aliases (project_id, anonymous_id, site_user_id) ";
pub const INSERT_ACTIVE_DAYS: &str = "INSERT INTO user_days (project_id, site_user_id, day) ";
pub const ON_CONFLICT_NOTHING: &str = " ON CONFLICT DO NOTHING";

pub const PERSON_OF_USER: &str = "SELECT id FROM site_users WHERE project_id = $1 AND user_id = $2";
pub const USER_OF_PERSON: &str = "SELECT user_id FROM site_users WHERE project_id = $1 AND id = $2";
pub const SET_USER: &str = "UPDATE site_users SET user_id = $1 WHERE project_id = $2 AND id = $3";
pub const REPOINT_ALIAS: &str =
    "UPDATE site_user_aliases SET site_user_id = $1 WHERE project_id = $2 AND anonymous_id = $3";
pub const ACTIVE_DAYS_OF: &str =
    "SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $2";

/// Moves everything of person `$3` to `$1` in project `$2` (then
/// [`DELETE_PERSON`] deletes `$3`). CRM fields: tags are united, notes move,
/// and the contact row moves unless `$1` has one, whose priority and
/// properties are kept (each filled from `$3`'s when unset or empty); payments and
/// subscriptions move. Each statement names all
/// three parameters (`site_user_id <> $1` always holds), as both backends'
/// binding expects. Feature
/// rollups (`features`): per-day uniques are united, per-person counters and
/// AI sums add up. Flow attempts (`flows`) move; when both people have one
/// for a flow, the open one is kept (the earlier-started of two open ones,
/// the later-started of two ended ones).
pub const MOVE_PERSON: [&str; 24] = [
    // A person's conversations (and so their messages) follow them.
    "UPDATE conversations SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "INSERT INTO contact_tags (project_id, site_user_id, tag)
     SELECT project_id, $1, tag FROM contact_tags WHERE project_id = $2 AND site_user_id = $3
     ON CONFLICT DO NOTHING",
    "DELETE FROM contact_tags WHERE project_id = $2 AND site_user_id = $3 AND site_user_id <> $1",
    "UPDATE contact_notes SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    // Their browsers' push subscriptions too (an endpoint is unique per project, so no clash).
    "UPDATE push_subscriptions SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "UPDATE contacts SET priority = (SELECT o.priority FROM contacts o WHERE o.project_id = $2 AND o.site_user_id = $3)
     WHERE project_id = $2 AND site_user_id = $1 AND priority IS NULL",
    "UPDATE contacts SET properties = COALESCE((SELECT o.properties FROM contacts o WHERE o.project_id = $2 AND o.site_user_id = $3), properties)
     WHERE project_id = $2 AND site_user_id = $1 AND properties = '{}'",
    "UPDATE contacts SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3
       AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.project_id = $2 AND c.site_user_id = $1)",
    "DELETE FROM contacts WHERE project_id = $2 AND site_user_id = $3 AND site_user_id <> $1",
    "UPDATE payments SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "UPDATE subscriptions SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "UPDATE site_user_aliases SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "UPDATE site_sessions SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "UPDATE user_days SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
    "INSERT INTO feature_user_days (project_id, day, name, site_user_id)
     SELECT project_id, day, name, $1 FROM feature_user_days WHERE project_id = $2 AND site_user_id = $3
     ON CONFLICT DO NOTHING",
    "DELETE FROM feature_user_days WHERE project_id = $2 AND site_user_id = $3 AND site_user_id <> $1",
    "INSERT INTO person_features (project_id, site_user_id, name, events, first_ts, last_ts)
     SELECT project_id, $1, name, events, first_ts, last_ts FROM person_features WHERE project_id = $2 AND site_user_id = $3
     ON CONFLICT (project_id, site_user_id, name) DO UPDATE SET
       events = person_features.events + excluded.events,
       first_ts = CASE WHEN excluded.first_ts < person_features.first_ts THEN excluded.first_ts ELSE person_features.first_ts END,
       last_ts = CASE WHEN excluded.last_ts > person_features.last_ts THEN excluded.last_ts ELSE person_features.last_ts END",
    "DELETE FROM person_features WHERE project_id = $2 AND site_user_id = $3 AND site_user_id <> $1",
    "INSERT INTO ai_usage_days (project_id, day, model, site_user_id, calls, prompt_tokens, completion_tokens, cost_micro_usd)
     SELECT project_id, day, model, $1, calls, prompt_tokens, completion_tokens, cost_micro_usd FROM ai_usage_days WHERE project_id = $2 AND site_user_id = $3
     ON CONFLICT (project_id, day, model, site_user_id) DO UPDATE SET
       calls = ai_usage_days.calls + excluded.calls,
       prompt_tokens = ai_usage_days.prompt_tokens + excluded.prompt_tokens,
       completion_tokens = ai_usage_days.completion_tokens + excluded.completion_tokens,
       cost_micro_usd = ai_usage_days.cost_micro_usd + excluded.cost_micro_usd",
    "DELETE FROM ai_usage_days WHERE project_id = $2 AND site_user_id = $3 AND site_user_id <> $1",
    "DELETE FROM flow_attempts WHERE project_id = $2 AND site_user_id = $1 AND EXISTS (
       SELECT 1 FROM flow_attempts o WHERE o.project_id = $2 AND o.site_user_id = $3 AND o.site_user_id <> $1
         AND o.flow_id = flow_attempts.flow_id
         AND ((o.outcome = 'open' AND (flow_attempts.outcome <> 'open' OR o.started_at < flow_attempts.started_at))
           OR (o.outcome <> 'open' AND flow_attempts.outcome <> 'open' AND o.started_at > flow_attempts.started_at)))",
    "UPDATE flow_attempts SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3
       AND NOT EXISTS (SELECT 1 FROM flow_attempts c WHERE c.project_id = $2 AND c.site_user_id = $1 AND c.flow_id = flow_attempts.flow_id)",
    "DELETE FROM flow_attempts WHERE project_id = $2 AND site_user_id = $3 AND site_user_id <> $1",
    "UPDATE site_users SET
        first_seen = COALESCE((SELECT o.first_seen FROM site_users o WHERE o.project_id = $2 AND o.id = $3 AND o.first_seen < site_users.first_seen), first_seen),
        last_seen = COALESCE((SELECT o.last_seen FROM site_users o WHERE o.project_id = $2 AND o.id = $3 AND o.last_seen > site_users.last_seen), last_seen),
        event_count = event_count + COALESCE((SELECT o.event_count FROM site_users o WHERE o.project_id = $2 AND o.id = $3), 0),
        session_count = session_count + COALESCE((SELECT o.session_count FROM site_users o WHERE o.project_id = $2 AND o.id = $3), 0)
     WHERE project_id = $2 AND id = $1",
];
pub const DELETE_PERSON: &str = "DELETE FROM site_users WHERE project_id = $1 AND id = $2";

pub const INSERT_DAILY_STATS: &str = "INSERT INTO daily_stats (project_id, day, active_users, new_users, sessions, pageviews, events, session_ms, bounces, churn_base, churned, signups) ";
pub const DAILY_STATS_COLUMNS: usize = 12;
pub const ON_DAILY_STATS_CONFLICT: &str = " ON CONFLICT (project_id, day) DO UPDATE SET
    churn_base = daily_stats.churn_base + excluded.churn_base,
    churned = daily_stats.churned + excluded.churned,
    active_users = daily_stats.active_users + excluded.active_users,
    new_users = daily_stats.new_users + excluded.new_users,
    sessions = daily_stats.sessions + excluded.sessions,
    pageviews = daily_stats.pageviews + excluded.pageviews,
    events = daily_stats.events + excluded.events,
    session_ms = daily_stats.session_ms + excluded.session_ms,
    bounces = daily_stats.bounces + excluded.bounces,
    signups = daily_stats.signups + excluded.signups";

pub const INSERT_PEOPLE: &str = "INSERT INTO site_users (project_id, id, anonymous_id, user_id, email, name, plan, traits, first_seen, last_seen, device, browser, os, event_count, session_count) ";
pub const PEOPLE_COLUMNS: usize = 15;
/// The people upsert's conflict clause around the backend's `traits = …` line
/// (how JSON objects merge is the one thing the databases spell differently).
pub const ON_PEOPLE_CONFLICT: [&str; 2] = [
    " ON CONFLICT (project_id, id) DO UPDATE SET
    user_id = COALESCE(excluded.user_id, site_users.user_id),
    email = COALESCE(excluded.email, site_users.email),
    name = COALESCE(excluded.name, site_users.name),
    plan = COALESCE(excluded.plan, site_users.plan),
    ",
    ",
    first_seen = CASE WHEN excluded.first_seen < site_users.first_seen THEN excluded.first_seen ELSE site_users.first_seen END,
    last_seen = CASE WHEN excluded.last_seen > site_users.last_seen THEN excluded.last_seen ELSE site_users.last_seen END,
    device = COALESCE(excluded.device, site_users.device),
    browser = COALESCE(excluded.browser, site_users.browser),
    os = COALESCE(excluded.os, site_users.os),
    event_count = site_users.event_count + excluded.event_count,
    session_count = site_users.session_count + excluded.session_count",
];

pub const INSERT_SESSIONS: &str = "INSERT INTO site_sessions (project_id, id, site_user_id, started_at, last_seen_at, ended_at, entry_url, referrer,
    current_url, current_path, current_title, page_entered_at, page_count, device, browser, os, screen) ";
pub const SESSION_COLUMNS: usize = 17;
/// Every right-hand side reads the row as it was before this update.
pub const ON_SESSION_CONFLICT: &str = " ON CONFLICT (project_id, id) DO UPDATE SET
    site_user_id = excluded.site_user_id,
    started_at = CASE WHEN excluded.started_at < site_sessions.started_at THEN excluded.started_at ELSE site_sessions.started_at END,
    last_seen_at = CASE WHEN excluded.last_seen_at > site_sessions.last_seen_at THEN excluded.last_seen_at ELSE site_sessions.last_seen_at END,
    ended_at = CASE
        WHEN excluded.ended_at IS NOT NULL AND excluded.ended_at >= site_sessions.last_seen_at THEN excluded.ended_at
        WHEN excluded.ended_at IS NULL AND excluded.last_seen_at > COALESCE(site_sessions.ended_at, 0) THEN NULL
        ELSE site_sessions.ended_at END,
    entry_url = COALESCE(site_sessions.entry_url, excluded.entry_url),
    referrer = COALESCE(site_sessions.referrer, excluded.referrer),
    current_url = CASE WHEN excluded.page_entered_at >= COALESCE(site_sessions.page_entered_at, 0) THEN excluded.current_url ELSE site_sessions.current_url END,
    current_path = CASE WHEN excluded.page_entered_at >= COALESCE(site_sessions.page_entered_at, 0) THEN excluded.current_path ELSE site_sessions.current_path END,
    current_title = CASE WHEN excluded.page_entered_at >= COALESCE(site_sessions.page_entered_at, 0) THEN excluded.current_title ELSE site_sessions.current_title END,
    page_entered_at = CASE WHEN excluded.page_entered_at >= COALESCE(site_sessions.page_entered_at, 0) THEN excluded.page_entered_at ELSE site_sessions.page_entered_at END,
    page_count = site_sessions.page_count + excluded.page_count,
    device = COALESCE(excluded.device, site_sessions.device),
    browser = COALESCE(excluded.browser, site_sessions.browser),
    os = COALESCE(excluded.os, site_sessions.os),
    screen = COALESCE(excluded.screen, site_sessions.screen)";
