//! The write path on SQLite: one IMMEDIATE transaction per batch, run
//! synchronously on the writer connection on a blocking thread (one hand-off per
//! batch, not one per statement). What to write is decided by
//! `vibe_store::ingest::batch`; this file is only its statements.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use rusqlite::{params_from_iter, ToSql, Transaction};
use vibe_core::day::parse_day;
use vibe_store::funnel_rollup::FunnelDef;
use vibe_store::ingest::batch::write_batch;
use vibe_store::ingest::io::{
    self as sql, churn_window, run_ready, ActiveDay, EventRow, IngestIo, Key,
};
use vibe_store::ingest::{shaped_chunks, PersonUpsert, SessionUpsert};
use vibe_store::rollup::{DailyDelta, SessionState};
use vibe_store::*;

use crate::funnel_rollup;
use crate::sql::{each_row, err, execute_numbered, first_row, multi_row, select_in, InKey};

pub fn ingest(
    conn: &mut rusqlite::Connection,
    jobs: &[IngestJob],
) -> StoreResult<Vec<IngestOutcome>> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let outcomes = run_ready(write_batch(&mut Writer(&tx), jobs))?;
    tx.commit().map_err(err)?;
    Ok(outcomes)
}

/// The active days a statement selects.
fn days(
    tx: &Transaction<'_>,
    statement: &str,
    values: &[&dyn ToSql],
) -> StoreResult<BTreeSet<Date>> {
    let mut out = BTreeSet::new();
    each_row(tx, statement, values, |d: String| {
        out.extend(parse_day(&d));
    })?;
    Ok(out)
}

impl InKey<2> for EventRow<'_> {
    fn key(&self) -> [&dyn ToSql; 2] {
        [&self.0.project_id, &self.1.id]
    }
}

impl InKey<2> for Key {
    fn key(&self) -> [&dyn ToSql; 2] {
        [&self.0, &self.1]
    }
}

impl InKey<2> for PersonUpsert {
    fn key(&self) -> [&dyn ToSql; 2] {
        [&self.project_id, &self.id]
    }
}

impl InKey<2> for SessionUpsert {
    fn key(&self) -> [&dyn ToSql; 2] {
        [&self.project_id, &self.id]
    }
}

impl InKey<3> for ActiveDay {
    fn key(&self) -> [&dyn ToSql; 3] {
        [&self.0, &self.1, &self.2]
    }
}

/// The open IMMEDIATE transaction: no other writer gets in between, so reads
/// need no locks.
pub(crate) struct Writer<'a, 'c>(pub(crate) &'a Transaction<'c>);

impl vibe_store::retention::ingest::RetentionIo for Writer<'_, '_> {}

impl IngestIo for Writer<'_, '_> {
    async fn insert_events(&mut self, rows: &[EventRow<'_>]) -> StoreResult<HashSet<Key>> {
        // Ids already stored are retries. Asking first (usually nothing comes back)
        // is cheaper than `RETURNING` every inserted row.
        let head = "SELECT project_id, id FROM user_events WHERE (project_id, id)";
        let existing: HashSet<Key> = select_in(self.0, head, rows, |k: Key| k)?;
        let mut inserted = HashSet::new();
        let fresh: Vec<_> = rows
            .iter()
            .filter(|(j, m, _)| {
                let key = (j.project_id.clone(), m.id.clone());
                !existing.contains(&key) && inserted.insert(key)
            })
            .collect();
        for chunk in shaped_chunks(&fresh) {
            let (n, cols) = (chunk.len(), sql::EVENT_COLUMNS);
            let mut stmt = multi_row(self.0, sql::INSERT_EVENTS, n, cols, sql::ON_EVENT_CONFLICT)?;
            let kinds: Vec<&str> = chunk.iter().map(|(_, m, _)| m.kind.as_str()).collect();
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(n * cols);
            for ((j, m, props), kind) in chunk.iter().zip(&kinds) {
                args.extend([
                    &j.project_id as &dyn ToSql,
                    &m.id,
                    kind,
                    &m.name,
                    &m.anonymous_id,
                    &m.user_id,
                    &m.session_id,
                    &m.url,
                    &m.path,
                    &m.referrer,
                    &m.title,
                    props,
                    &m.ts,
                    &j.received_at,
                ]);
            }
            stmt.execute(params_from_iter(args)).map_err(err)?;
        }
        Ok(inserted)
    }

    async fn read_aliases(&mut self, anons: &[Key]) -> StoreResult<HashMap<Key, String>> {
        let head = "SELECT project_id, anonymous_id, site_user_id FROM site_user_aliases WHERE (project_id, anonymous_id)";
        select_in(self.0, head, anons, |(p, a, person)| ((p, a), person))
    }

    async fn insert_aliases(&mut self, new: &[&Key]) -> StoreResult<()> {
        for chunk in shaped_chunks(new) {
            let tail = sql::ON_CONFLICT_NOTHING;
            let mut stmt = multi_row(self.0, sql::INSERT_ALIASES, chunk.len(), 3, tail)?;
            stmt.execute(params_from_iter(chunk.iter().flat_map(|(p, a)| [p, a, a])))
                .map_err(err)?;
        }
        Ok(())
    }

    async fn first_seen_pair(
        &mut self,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<(Option<i64>, Option<i64>)> {
        let statement = "SELECT first_seen FROM site_users WHERE project_id = $1 AND id = $2";
        let from = first_row(self.0, statement, &[&project, &from])?;
        Ok((from, first_row(self.0, statement, &[&project, &into])?))
    }

    async fn take_shared_days(
        &mut self,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<Vec<String>> {
        let mut shared: Vec<String> = Vec::new();
        each_row(
            self.0,
            "SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $2
             AND day IN (SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $3)",
            &[&project, &from, &into],
            |day| shared.push(day),
        )?;
        let delete =
            "DELETE FROM user_days WHERE project_id = $1 AND site_user_id = $2 AND day = $3";
        for day in &shared {
            execute_numbered(self.0, delete, &[&project, &from, day])?;
        }
        Ok(shared)
    }

    async fn read_first_seen(&mut self, people: &[PersonUpsert]) -> StoreResult<HashMap<Key, i64>> {
        let head = "SELECT project_id, id, first_seen FROM site_users WHERE (project_id, id)";
        select_in(self.0, head, people, |(p, id, first)| ((p, id), first))
    }

    async fn read_sessions(
        &mut self,
        sessions: &[SessionUpsert],
    ) -> StoreResult<HashMap<Key, SessionState>> {
        let head = "SELECT project_id, id, started_at, last_seen_at, page_count FROM site_sessions WHERE (project_id, id)";
        select_in(
            self.0,
            head,
            sessions,
            |(p, id, started_at, last_seen_at, page_count)| {
                let state = SessionState {
                    started_at,
                    last_seen_at,
                    page_count,
                };
                ((p, id), state)
            },
        )
    }

    async fn upsert_people(&mut self, people: &[PersonUpsert]) -> StoreResult<()> {
        let [before, after] = sql::ON_PEOPLE_CONFLICT;
        // SQLite merges JSON objects with json_patch.
        let tail = format!("{before}traits = CASE WHEN excluded.traits = '{{}}' THEN site_users.traits ELSE json_patch(site_users.traits, excluded.traits) END{after}");
        for chunk in shaped_chunks(people) {
            let (n, cols) = (chunk.len(), sql::PEOPLE_COLUMNS);
            let mut stmt = multi_row(self.0, sql::INSERT_PEOPLE, n, cols, &tail)?;
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(n * cols);
            for p in chunk {
                args.extend([
                    &p.project_id as &dyn ToSql,
                    &p.id,
                    &p.anonymous_id,
                    &p.user_id,
                    &p.email,
                    &p.name,
                    &p.plan,
                    p.traits_patch
                        .as_ref()
                        .map_or(&"{}" as &dyn ToSql, |t| t as &dyn ToSql),
                    &p.first_seen,
                    &p.last_seen,
                    &p.device,
                    &p.browser,
                    &p.os,
                    &p.events,
                    &p.new_sessions,
                ]);
            }
            stmt.execute(params_from_iter(args)).map_err(err)?;
        }
        Ok(())
    }

    async fn upsert_sessions(&mut self, sessions: &[SessionUpsert]) -> StoreResult<()> {
        for chunk in shaped_chunks(sessions) {
            let (n, cols) = (chunk.len(), sql::SESSION_COLUMNS);
            let tail = sql::ON_SESSION_CONFLICT;
            let mut stmt = multi_row(self.0, sql::INSERT_SESSIONS, n, cols, tail)?;
            let pages: Vec<_> = chunk.iter().map(|s| s.last_page.as_ref()).collect();
            let page_cols: Vec<[Option<&dyn ToSql>; 4]> = pages
                .iter()
                .map(|p| {
                    [
                        p.map(|p| &p.0 as &dyn ToSql),
                        p.map(|p| &p.1 as &dyn ToSql),
                        p.and_then(|p| p.2.as_ref()).map(|t| t as &dyn ToSql),
                        p.map(|p| &p.3 as &dyn ToSql),
                    ]
                })
                .collect();
            let null: &dyn ToSql = &rusqlite::types::Null;
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(n * cols);
            for (s, page) in chunk.iter().zip(&page_cols) {
                args.extend([
                    &s.project_id as &dyn ToSql,
                    &s.id,
                    &s.site_user_id,
                    &s.started_at,
                    &s.last_seen_at,
                    &s.ended_at,
                    &s.entry_url,
                    &s.referrer,
                ]);
                args.extend(page.iter().map(|c| c.unwrap_or(null)));
                args.extend([
                    &s.pageviews as &dyn ToSql,
                    &s.device,
                    &s.browser,
                    &s.os,
                    &s.screen,
                ]);
            }
            stmt.execute(params_from_iter(args)).map_err(err)?;
        }
        Ok(())
    }

    async fn insert_active_days<'d>(
        &mut self,
        days: &'d [ActiveDay],
    ) -> StoreResult<Vec<Cow<'d, ActiveDay>>> {
        // Asking first is cheaper than `RETURNING` every row, as for events.
        let head = "SELECT project_id, site_user_id, day FROM user_days WHERE (project_id, site_user_id, day)";
        let existing: HashSet<ActiveDay> = select_in(self.0, head, days, |d: ActiveDay| d)?;
        let new: Vec<Cow<'d, ActiveDay>> = days
            .iter()
            .filter(|k| !existing.contains(*k))
            .map(Cow::Borrowed)
            .collect();
        for chunk in shaped_chunks(&new) {
            let tail = sql::ON_CONFLICT_NOTHING;
            let mut stmt = multi_row(self.0, sql::INSERT_ACTIVE_DAYS, chunk.len(), 3, tail)?;
            stmt.execute(params_from_iter(
                chunk.iter().flat_map(|d| [&d.0, &d.1, &d.2]),
            ))
            .map_err(err)?;
        }
        Ok(new)
    }

    async fn active_days_near(
        &mut self,
        project: &str,
        people: &[(&str, Date, Date)],
    ) -> StoreResult<Vec<BTreeSet<Date>>> {
        let statement = "SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $2 AND day >= $3 AND day <= $4";
        let mut out = Vec::with_capacity(people.len());
        for (person, first, last) in people {
            let (from, to) = churn_window(*first, *last);
            out.push(days(self.0, statement, &[&project, person, &from, &to])?);
        }
        Ok(out)
    }

    async fn write_daily_stats(&mut self, rows: &[(&str, &str, DailyDelta)]) -> StoreResult<()> {
        for chunk in shaped_chunks(rows) {
            let (n, cols) = (chunk.len(), sql::DAILY_STATS_COLUMNS);
            let tail = sql::ON_DAILY_STATS_CONFLICT;
            let mut stmt = multi_row(self.0, sql::INSERT_DAILY_STATS, n, cols, tail)?;
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(n * cols);
            for (p, day, d) in chunk {
                args.extend([p as &dyn ToSql, day]);
                args.extend(d.columns().map(|c| c as &dyn ToSql));
            }
            stmt.execute(params_from_iter(args)).map_err(err)?;
        }
        Ok(())
    }

    async fn funnels(&mut self, projects: &[&str]) -> StoreResult<Vec<FunnelDef>> {
        funnel_rollup::defs(self.0, projects)
    }
}
