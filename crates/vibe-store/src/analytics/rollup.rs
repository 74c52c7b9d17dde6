//! Rollups kept current at ingest: `daily_stats` per project and local day, and
//! `user_days` (who was active on which day) for distinct counts. This module is
//! the arithmetic both backends share: each reads the previous state of the
//! sessions and people a batch touches, and these functions turn old → new into
//! additive deltas, so counters stay exact without rescanning events.
//!
//! Definitions (docs/metrics.md):
//! - active user on a day: a person with at least one page view, event or identify
//!   that local day (heartbeats do not count);
//! - new user on a day: a person whose first message falls on that day;
//! - a session belongs to the day it started; its duration is `last_seen_at −
//!   started_at`; it bounced if it has at most one page view;
//! - churn on day d: of the people active in d−13 … d−7 (`churn_base`), those not
//!   active in d−6 … d (`churned`). A person's active days decide their part in
//!   the fourteen days after each of them, so a new active day or a merge changes
//!   at most those days' counters.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;

use vibe_core::day::ProjectTz;
use vibe_core::MessageKind;

use crate::ingest::{PersonUpsert, Resolved, SessionUpsert, TimeZones};

/// The counters of one `daily_stats` row: stored ([`DailyStats::counts`]) or
/// what a batch adds to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct DailyDelta {
    pub active_users: i64,
    pub new_users: i64,
    pub sessions: i64,
    pub pageviews: i64,
    pub events: i64,
    pub session_ms: i64,
    pub bounces: i64,
    /// People active in days d−13 … d−7, and of those, people not active since
    /// (the churn card's inputs, not served per day).
    #[serde(skip)]
    pub churn_base: i64,
    #[serde(skip)]
    pub churned: i64,
    /// User ids seen for the first time that day (the overview's signups).
    pub signups: i64,
}

impl DailyDelta {
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// The counters in the column order of `ingest::io::INSERT_DAILY_STATS`.
    pub fn columns(&self) -> [&i64; 10] {
        [
            &self.active_users,
            &self.new_users,
            &self.sessions,
            &self.pageviews,
            &self.events,
            &self.session_ms,
            &self.bounces,
            &self.churn_base,
            &self.churned,
            &self.signups,
        ]
    }

    fn add(&mut self, o: &Self, sign: i64) {
        self.active_users += sign * o.active_users;
        self.new_users += sign * o.new_users;
        self.sessions += sign * o.sessions;
        self.pageviews += sign * o.pageviews;
        self.events += sign * o.events;
        self.session_ms += sign * o.session_ms;
        self.bounces += sign * o.bounces;
        self.churn_base += sign * o.churn_base;
        self.churned += sign * o.churned;
        self.signups += sign * o.signups;
    }
}

fn shift(d: Date, days: i64) -> Date {
    d.checked_add(jiff::Span::new().days(days)).unwrap_or(d)
}

/// A person's part in day `d`'s churn counters: (in the base, churned).
pub fn churn_part(active: &BTreeSet<Date>, d: Date) -> (i64, i64) {
    let in_base = active.range(shift(d, -13)..=shift(d, -7)).next().is_some();
    let in_current = active.range(shift(d, -6)..=d).next().is_some();
    (i64::from(in_base), i64::from(in_base && !in_current))
}

/// Churn counters per day for everyone's active days (a rebuild), for days in
/// `from..=to`.
pub fn churn_rows(
    days_by_person: &BTreeMap<String, BTreeSet<Date>>,
    from: Date,
    to: Date,
) -> Vec<(String, i64, i64)> {
    let mut by_day: BTreeMap<Date, (i64, i64)> = BTreeMap::new();
    for active in days_by_person.values() {
        let affected: BTreeSet<Date> = active
            .iter()
            .flat_map(|a| (7..=13).map(move |k| shift(*a, k)))
            .filter(|d| *d >= from && *d <= to)
            .collect();
        for d in affected {
            let (b, c) = churn_part(active, d);
            let e = by_day.entry(d).or_default();
            e.0 += b;
            e.1 += c;
        }
    }
    by_day
        .into_iter()
        .filter(|(_, (b, _))| *b != 0)
        .map(|(d, (b, c))| (d.to_string(), b, c))
        .collect()
}

/// A session's state as stored before the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionState {
    pub started_at: i64,
    pub last_seen_at: i64,
    pub page_count: i64,
}

impl SessionState {
    /// The state after applying `up`, exactly as the backends' upsert computes it.
    pub fn after(old: Option<Self>, up: &SessionUpsert) -> Self {
        match old {
            None => Self {
                started_at: up.started_at,
                last_seen_at: up.last_seen_at,
                page_count: up.pageviews,
            },
            Some(o) => Self {
                started_at: o.started_at.min(up.started_at),
                last_seen_at: o.last_seen_at.max(up.last_seen_at),
                page_count: o.page_count + up.pageviews,
            },
        }
    }

    fn contribution(&self) -> DailyDelta {
        DailyDelta {
            sessions: 1,
            session_ms: (self.last_seen_at - self.started_at).max(0),
            bounces: i64::from(self.page_count <= 1),
            ..DailyDelta::default()
        }
    }
}

/// Deltas to `daily_stats`, keyed by (project, local day).
#[derive(Debug, Default)]
pub struct Deltas {
    pub by_day: BTreeMap<(String, String), DailyDelta>,
    /// `retention_cohorts` changes (written by `retention::ingest::apply`).
    pub retention: crate::retention::ingest::RetentionDeltas,
}

impl Deltas {
    fn entry(&mut self, project: &str, day: String) -> &mut DailyDelta {
        self.by_day.entry((project.to_owned(), day)).or_default()
    }

    /// Adds (`sign` = 1) or removes (−1) a person counted as new on their first day.
    pub fn new_user(&mut self, project: &str, tz: &ProjectTz, first_seen: i64, sign: i64) {
        self.entry(project, tz.day_of(first_seen)).new_users += sign;
    }

    /// A user id the project had never seen, first sent at `ts`.
    pub fn signup(&mut self, project: &str, tz: &ProjectTz, ts: i64) {
        self.entry(project, tz.day_of(ts)).signups += 1;
    }

    pub fn active_user(&mut self, project: &str, day: &str, sign: i64) {
        self.entry(project, day.to_owned()).active_users += sign;
    }

    /// A person's active days went from `old` to `new` (sets of every day that can
    /// matter: those within 13 days before any changed day).
    pub fn churn_change(&mut self, project: &str, old: &BTreeSet<Date>, new: &BTreeSet<Date>) {
        let changed: BTreeSet<Date> = old.symmetric_difference(new).copied().collect();
        let (Some(first), Some(last)) = (changed.first(), changed.last()) else {
            return;
        };
        let mut d = *first;
        let end = shift(*last, 13);
        while d <= end {
            let (b1, c1) = churn_part(new, d);
            let (b0, c0) = churn_part(old, d);
            if (b1, c1) != (b0, c0) {
                let e = self.entry(project, d.to_string());
                e.churn_base += b1 - b0;
                e.churned += c1 - c0;
            }
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
    }

    /// A session moved from `old` to `new`.
    pub fn session(
        &mut self,
        project: &str,
        tz: &ProjectTz,
        old: Option<SessionState>,
        new: SessionState,
    ) {
        if let Some(old) = old {
            self.entry(project, tz.day_of(old.started_at))
                .add(&old.contribution(), -1);
        }
        self.entry(project, tz.day_of(new.started_at))
            .add(&new.contribution(), 1);
    }

    /// Page views and custom events of the batch's new messages.
    pub fn messages(&mut self, resolved: &[Resolved<'_>], tzs: &TimeZones) {
        for r in resolved {
            let kind = r.msg.kind;
            if !matches!(kind, MessageKind::Pageview | MessageKind::Event) {
                continue;
            }
            let tz = tzs.get(r.project_id);
            let d = self.entry(r.project_id, tz.day_of(r.msg.ts));
            if kind == MessageKind::Pageview {
                d.pageviews += 1;
            } else {
                d.events += 1;
            }
        }
    }

    /// Rows worth writing: deltas that changed something.
    pub fn rows(&self) -> Vec<(&str, &str, DailyDelta)> {
        self.by_day
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((p, day), d)| (p.as_str(), day.as_str(), *d))
            .collect()
    }
}

/// The (project, person, local day) triples a batch marks active.
pub fn active_days(resolved: &[Resolved<'_>], tzs: &TimeZones) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = resolved
        .iter()
        .filter(|r| r.msg.kind.is_stored_event())
        .map(|r| {
            let tz = tzs.get(r.project_id);
            (
                r.project_id.to_owned(),
                r.person_id.to_owned(),
                tz.day_of(r.msg.ts),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// First-seen bookkeeping for people: `old_first_seen` is `None` for new people.
pub fn person_first_seen(
    deltas: &mut Deltas,
    tz: &ProjectTz,
    p: &PersonUpsert,
    old_first_seen: Option<i64>,
) {
    match old_first_seen {
        None => deltas.new_user(&p.project_id, tz, p.first_seen, 1),
        Some(old) if p.first_seen < old => {
            deltas.new_user(&p.project_id, tz, old, -1);
            deltas.new_user(&p.project_id, tz, p.first_seen, 1);
        }
        Some(_) => {}
    }
}

/// One day's stats as served by the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct DailyStats {
    pub day: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub counts: DailyDelta,
}

/// What a rebuild reads for a time range.
#[derive(Debug, Default)]
pub struct RollupInputs {
    /// (time, kind, person) of stored events.
    pub events: Vec<(i64, String, String)>,
    pub sessions: Vec<SessionState>,
    pub first_seen: Vec<i64>,
}

/// Recomputes `daily_stats` and `user_days` for `from..=to` (local days), and the
/// churn counters and `retention_cohorts` cells those days feed (and every
/// flow of the project, over its whole history), from the
/// stored events, sessions and people — the seed's `calculate_daily_stats`. It is
/// idempotent and yields the same rows as the incremental path. It works a week at
/// a time so memory stays bounded.
pub async fn rebuild(
    store: &dyn crate::Store,
    project: &crate::Project,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> crate::StoreResult<usize> {
    let tz = ProjectTz::or_utc(&project.timezone);
    let days = vibe_core::day::days_between(from, to);
    let mut written = 0;
    let signups = store.signup_times(&project.id).await?;
    for week in days.chunks(7) {
        let (first, last) = (week[0], week[week.len() - 1]);
        let from_ms = tz.start_of(first);
        let to_ms = last.tomorrow().map(|d| tz.start_of(d)).unwrap_or(i64::MAX);
        let inputs = store.rollup_inputs(&project.id, from_ms, to_ms).await?;
        let mut stats: BTreeMap<String, DailyStats> = BTreeMap::new();
        let mut user_days: std::collections::BTreeSet<(String, String)> = Default::default();
        fn row(stats: &mut BTreeMap<String, DailyStats>, day: String) -> &mut DailyDelta {
            &mut stats
                .entry(day.clone())
                .or_insert_with(|| DailyStats {
                    day,
                    ..Default::default()
                })
                .counts
        }
        for (ts, kind, person) in &inputs.events {
            let day = tz.day_of(*ts);
            match kind.as_str() {
                "pageview" => row(&mut stats, day.clone()).pageviews += 1,
                "event" => row(&mut stats, day.clone()).events += 1,
                _ => {}
            }
            user_days.insert((day, person.clone()));
        }
        for (day, _) in &user_days {
            row(&mut stats, day.clone()).active_users += 1;
        }
        for s in &inputs.sessions {
            let c = s.contribution();
            let r = row(&mut stats, tz.day_of(s.started_at));
            r.sessions += c.sessions;
            r.session_ms += c.session_ms;
            r.bounces += c.bounces;
        }
        for f in &inputs.first_seen {
            row(&mut stats, tz.day_of(*f)).new_users += 1;
        }
        for s in signups.iter().filter(|s| (from_ms..to_ms).contains(*s)) {
            row(&mut stats, tz.day_of(*s)).signups += 1;
        }
        let stats: Vec<DailyStats> = stats.into_values().collect();
        let user_days: Vec<(String, String)> = user_days.into_iter().collect();
        store
            .replace_rollups(
                &project.id,
                &first.to_string(),
                &last.to_string(),
                &stats,
                &user_days,
            )
            .await?;
        written += stats.len();
    }
    // Churn of days from..=to+13 depends on the active days just rebuilt.
    let mut days_by_person: BTreeMap<String, BTreeSet<Date>> = BTreeMap::new();
    for (day, person) in store.user_days(&project.id).await? {
        if let Some(d) = vibe_core::day::parse_day(&day) {
            days_by_person.entry(person).or_default().insert(d);
        }
    }
    let churn_to = shift(to, 13);
    let churn = churn_rows(&days_by_person, from, churn_to);
    store
        .replace_churn(
            &project.id,
            &from.to_string(),
            &churn_to.to_string(),
            &churn,
        )
        .await?;
    crate::retention::rebuild(store, &project.id, &tz, &days_by_person, from, to).await?;
    crate::features::rebuild::rebuild(store, project, from, to).await?;
    // The per-day sketches, from the exact tables just rebuilt (and payments).
    crate::uniques::rebuild(store.db(), &project.id, from, to).await?;
    // Attempts span days, so flows are rebuilt over the whole history.
    store.rebuild_flows(&project.id, &project.timezone).await?;
    store
        .db()
        .execute(RECOUNT_SESSIONS, (project.id.as_str(),))
        .await?;
    Ok(written)
}

/// Every person's `session_count` (kept at ingest, added up by merges) from
/// their stored sessions.
pub const RECOUNT_SESSIONS: &str =
    "UPDATE site_users SET session_count = (SELECT COUNT(*) FROM site_sessions s
     WHERE s.project_id = site_users.project_id AND s.site_user_id = site_users.id)
     WHERE project_id = $1";

/// Rebuilds a project's whole history: from its first event (or its creation)
/// to now.
pub async fn rebuild_history(
    store: &dyn crate::Store,
    project: &crate::Project,
    now_ms: i64,
) -> crate::StoreResult<usize> {
    let tz = ProjectTz::or_utc(&project.timezone);
    let bounds = store.event_time_bounds(&project.id).await?;
    let from = tz.date_of(bounds.map_or(now_ms, |b| b.0.min(project.created_at)));
    let to = tz.date_of(bounds.map_or(now_ms, |b| b.1.max(now_ms)));
    store
        .rebuild_revenue(&project.id, &project.timezone)
        .await?;
    rebuild(store, project, from, to).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_growing_session_moves_its_contribution() {
        let tz = ProjectTz::or_utc("UTC");
        let mut d = Deltas::default();
        let first = SessionState {
            started_at: 1_000,
            last_seen_at: 1_000,
            page_count: 1,
        };
        d.session("p", &tz, None, first);
        let later = SessionState {
            started_at: 1_000,
            last_seen_at: 61_000,
            page_count: 2,
        };
        d.session("p", &tz, Some(first), later);
        let day = d.by_day[&("p".to_string(), "1970-01-01".to_string())];
        assert_eq!((day.sessions, day.session_ms, day.bounces), (1, 60_000, 0));
    }

    #[test]
    fn earlier_first_seen_moves_the_new_user() {
        let tz = ProjectTz::or_utc("UTC");
        let mut d = Deltas::default();
        let p = PersonUpsert {
            events: 1,
            ..PersonUpsert::new("p", "a", 0)
        };
        person_first_seen(&mut d, &tz, &p, Some(2 * 86_400_000));
        let rows = d.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].2.new_users, 1);
        assert_eq!(rows[1].2.new_users, -1);
    }
}
