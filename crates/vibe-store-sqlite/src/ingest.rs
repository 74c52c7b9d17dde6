//! The write path: one transaction per batch of requests, run synchronously on a
//! blocking thread (one hand-off per batch, not one per statement). Events go in
//! with multi-row inserts (retries are detected by their ids), then people and
//! sessions are upserted once each with the batch's net effect.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use vibe_core::day::parse_day;

use rusqlite::{params, params_from_iter, OptionalExtension, ToSql, Transaction};
use vibe_core::day::ProjectTz;
use vibe_core::Message;
use vibe_store::funnel_rollup::{FunnelWork, PersonMove};
use vibe_store::ingest::{
    fold_people, fold_sessions, shaped_chunks, PersonUpsert, Resolved, SessionUpsert, TimeZones,
};
use vibe_store::rollup::{active_days, person_first_seen, Deltas, SessionState};
use vibe_store::*;

use crate::funnel_rollup;

type Key = (String, String);

pub fn err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(msg.clone().unwrap_or_default())
        }
        // A value too big or of the wrong type: the data is at fault.
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::TooBig | rusqlite::ErrorCode::TypeMismatch
            ) =>
        {
            StoreError::Rejected(msg.clone().unwrap_or_else(|| f.to_string()))
        }
        _ => StoreError::other(e),
    }
}

/// `(?, ?, …), (?, ?, …)` for `rows` rows of `cols` columns.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(", "));
    vec![row; rows].join(", ")
}

pub fn ingest(
    conn: &mut rusqlite::Connection,
    jobs: &[IngestJob],
) -> StoreResult<Vec<IngestOutcome>> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let inserted = insert_events(&tx, jobs)?;
    let tzs = TimeZones::of_jobs(jobs);

    let mut outcomes = vec![IngestOutcome::default(); jobs.len()];
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut fresh: Vec<(&str, &Message)> = Vec::new();
    for (job, outcome) in jobs.iter().zip(outcomes.iter_mut()) {
        for m in &job.messages {
            let new = !m.kind.is_stored_event()
                || (inserted.contains(&(job.project_id.clone(), m.id.clone()))
                    && seen.insert((&job.project_id, &m.id)));
            if new {
                outcome.accepted += 1;
                fresh.push((&job.project_id, m));
            } else {
                outcome.duplicates += 1;
            }
        }
    }
    fresh.sort_by_key(|(_, m)| m.ts);

    let ids = resolve_identities(&tx, &fresh, &tzs)?;
    let persons: Vec<String> = fresh.iter().map(|(p, m)| ids.person_for(p, m)).collect();
    let resolved: Vec<Resolved<'_>> = fresh
        .iter()
        .zip(&persons)
        .map(|((p, m), person)| Resolved {
            project_id: p,
            msg: m,
            person_id: person,
        })
        .collect();

    let mut people = fold_people(&resolved);
    for p in &mut people {
        if let Some(uid) = ids.user_of.get(&(p.project_id.clone(), p.id.clone())) {
            p.user_id.clone_from(uid);
        }
    }
    let sessions = fold_sessions(&resolved);

    // Rollups: compare what these people and sessions were with what they become.
    let mut deltas = ids.deltas;
    let old_first_seen = read_first_seen(&tx, &people)?;
    for p in &people {
        let old = old_first_seen
            .get(&(p.project_id.clone(), p.id.clone()))
            .copied();
        person_first_seen(&mut deltas, tzs.get(&p.project_id), p, old);
    }
    let old_sessions = read_sessions(&tx, &sessions)?;
    for s in &sessions {
        let old = old_sessions
            .get(&(s.project_id.clone(), s.id.clone()))
            .copied();
        deltas.session(
            &s.project_id,
            tzs.get(&s.project_id),
            old,
            SessionState::after(old, s),
        );
    }
    deltas.messages(&resolved, &tzs);
    upsert_people(&tx, &people)?;
    upsert_sessions(&tx, &sessions)?;
    mark_active_days(&tx, &active_days(&resolved, &tzs), &mut deltas)?;
    write_daily_stats(&tx, &deltas)?;

    let mut projects: Vec<&str> = jobs.iter().map(|j| j.project_id.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    let funnels = funnel_rollup::defs(&tx, &projects)?;
    let work = FunnelWork::plan(&funnels, &resolved, &ids.moves);
    if !work.is_empty() {
        funnel_rollup::apply(&tx, &funnels, &ids.moves, &work)?;
    }
    tx.commit().map_err(err)?;
    Ok(outcomes)
}

fn insert_events(tx: &Transaction<'_>, jobs: &[IngestJob]) -> StoreResult<HashSet<Key>> {
    let rows: Vec<(&IngestJob, &Message, Option<String>)> = jobs
        .iter()
        .flat_map(|j| j.messages.iter().map(move |m| (j, m)))
        .filter(|(_, m)| m.kind.is_stored_event())
        .map(|(j, m)| {
            let props = m.props.as_ref().or(m.traits.as_ref());
            (
                j,
                m,
                props.map(|p| serde_json::Value::Object(p.clone()).to_string()),
            )
        })
        .collect();
    // Ids already stored are retries. Asking first (usually nothing comes back) is
    // cheaper than `RETURNING` every inserted row; the immediate transaction keeps
    // other writers out in between.
    let mut existing: HashSet<Key> = HashSet::new();
    for chunk in shaped_chunks(&rows) {
        let sql = format!(
            "SELECT project_id, id FROM user_events WHERE (project_id, id) IN (VALUES {})",
            placeholders(chunk.len(), 2)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let args = chunk.iter().flat_map(|(j, m, _)| [&j.project_id, &m.id]);
        let found = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(err)?;
        for row in found {
            existing.insert(row.map_err(err)?);
        }
    }
    let mut inserted = HashSet::new();
    let fresh: Vec<_> = rows
        .iter()
        .filter(|(j, m, _)| {
            let key = (j.project_id.clone(), m.id.clone());
            !existing.contains(&key) && inserted.insert(key)
        })
        .collect();
    for chunk in shaped_chunks(&fresh) {
        let sql = format!(
            "INSERT INTO user_events (project_id, id, kind, name, anonymous_id, user_id, session_id, url, path, referrer, title, props, ts, received_at)
             VALUES {} ON CONFLICT (project_id, id) DO NOTHING",
            placeholders(chunk.len(), 14)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let kinds: Vec<&str> = chunk.iter().map(|(_, m, _)| m.kind.as_str()).collect();
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 14);
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

/// Who each message belongs to. Anonymous ids map to people through
/// `site_user_aliases`; an identify ties a person to a `user_id`, merging an
/// anonymous person into the existing person of that user when there is one.
#[derive(Default)]
struct Identities {
    by_anon: HashMap<Key, String>,
    by_user: HashMap<Key, Option<String>>,
    /// `user_id` of each person touched, as known after this batch.
    user_of: HashMap<Key, Option<String>>,
    /// Rollup changes caused by merging people.
    deltas: Deltas,
    /// Past events that changed owner, for the funnel rollup.
    moves: Vec<PersonMove>,
}

impl Identities {
    fn person_for(&self, project: &str, m: &Message) -> String {
        let key = |id: &str| (project.to_owned(), id.to_owned());
        if let Some(anon) = &m.anonymous_id {
            if let Some(p) = self.by_anon.get(&key(anon)) {
                return p.clone();
            }
        }
        let uid = m.user_id.as_deref().unwrap_or_default();
        self.by_user
            .get(&key(uid))
            .cloned()
            .flatten()
            .unwrap_or_else(|| user_person_id(uid))
    }
}

fn user_person_id(user_id: &str) -> String {
    format!("uid:{user_id}")
}

fn resolve_identities(
    tx: &Transaction<'_>,
    fresh: &[(&str, &Message)],
    tzs: &TimeZones,
) -> StoreResult<Identities> {
    let mut ids = Identities::default();

    // Known aliases; unknown anonymous ids become people of their own.
    let anons: HashSet<Key> = fresh
        .iter()
        .filter_map(|(p, m)| Some(((*p).to_owned(), m.anonymous_id.clone()?)))
        .collect();
    let mut anons: Vec<Key> = anons.into_iter().collect();
    anons.sort();
    for chunk in shaped_chunks(&anons) {
        let sql = format!(
            "SELECT project_id, anonymous_id, site_user_id FROM site_user_aliases WHERE (project_id, anonymous_id) IN (VALUES {})",
            placeholders(chunk.len(), 2)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(
                params_from_iter(chunk.iter().flat_map(|(p, a)| [p, a])),
                |r| {
                    Ok((
                        (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .map_err(err)?;
        for row in rows {
            let (key, person) = row.map_err(err)?;
            ids.by_anon.insert(key, person);
        }
    }
    let new_aliases: Vec<&Key> = anons
        .iter()
        .filter(|k| !ids.by_anon.contains_key(*k))
        .collect();
    for chunk in shaped_chunks(&new_aliases) {
        let sql = format!(
            "INSERT INTO site_user_aliases (project_id, anonymous_id, site_user_id) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 3)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        stmt.execute(params_from_iter(chunk.iter().flat_map(|(p, a)| [p, a, a])))
            .map_err(err)?;
    }
    for (p, a) in new_aliases {
        ids.by_anon.insert((p.clone(), a.clone()), a.clone());
    }

    // Only messages carrying a user_id can change identities.
    for (project, m) in fresh.iter().filter(|(_, m)| m.user_id.is_some()) {
        let uid = m.user_id.clone().unwrap_or_default();
        let ukey = ((*project).to_owned(), uid.clone());
        let q = match ids.by_user.get(&ukey) {
            Some(q) => q.clone(),
            None => {
                let q: Option<String> = tx
                    .prepare_cached(
                        "SELECT id FROM site_users WHERE project_id = ? AND user_id = ?",
                    )
                    .and_then(|mut s| s.query_row(params![project, uid], |r| r.get(0)).optional())
                    .map_err(err)?;
                ids.by_user.insert(ukey.clone(), q.clone());
                if let Some(q) = &q {
                    ids.user_of
                        .insert(((*project).to_owned(), q.clone()), Some(uid.clone()));
                }
                q
            }
        };
        let Some(anon) = &m.anonymous_id else {
            // Server-side message without an anonymous id: the user's person.
            let person = q.unwrap_or_else(|| user_person_id(&uid));
            ids.by_user.insert(ukey, Some(person.clone()));
            ids.user_of
                .insert(((*project).to_owned(), person), Some(uid));
            continue;
        };
        let akey = ((*project).to_owned(), anon.clone());
        let p = ids
            .by_anon
            .get(&akey)
            .cloned()
            .unwrap_or_else(|| anon.clone());
        let pkey = ((*project).to_owned(), p.clone());
        let p_user = match ids.user_of.get(&pkey) {
            Some(u) => u.clone(),
            None => {
                let u: Option<Option<String>> = tx
                    .prepare_cached(
                        "SELECT user_id FROM site_users WHERE project_id = ? AND id = ?",
                    )
                    .and_then(|mut s| s.query_row(params![project, p], |r| r.get(0)).optional())
                    .map_err(err)?;
                let u = u.flatten();
                ids.user_of.insert(pkey.clone(), u.clone());
                u
            }
        };
        if p_user.as_deref() == Some(uid.as_str()) {
            continue;
        }
        match (q, p_user) {
            (Some(q), None) if q != p => {
                merge_person(tx, project, &p, &q, tzs.get(project), &mut ids.deltas)?;
                ids.moves.push(PersonMove::Merge {
                    project_id: (*project).to_owned(),
                    from: p.clone(),
                    into: q.clone(),
                });
                for person in ids.by_anon.values_mut().filter(|x| **x == p) {
                    person.clone_from(&q);
                }
                ids.user_of.remove(&pkey);
            }
            (Some(q), Some(_)) => {
                repoint_alias(tx, project, anon, &q)?;
                ids.moves.push(PersonMove::Repoint {
                    project_id: (*project).to_owned(),
                    anonymous_id: anon.clone(),
                    from: p.clone(),
                    to: q.clone(),
                });
                ids.by_anon.insert(akey, q);
            }
            (Some(_), None) => {}
            (None, None) => {
                ids.user_of.insert(pkey, Some(uid.clone()));
                ids.by_user.insert(ukey, Some(p.clone()));
                tx.execute(
                    "UPDATE site_users SET user_id = ? WHERE project_id = ? AND id = ?",
                    params![uid, project, p],
                )
                .map_err(err)?;
            }
            (None, Some(_)) => {
                // This device belonged to someone else: a new person for this user.
                let person = user_person_id(&uid);
                repoint_alias(tx, project, anon, &person)?;
                ids.moves.push(PersonMove::Repoint {
                    project_id: (*project).to_owned(),
                    anonymous_id: anon.clone(),
                    from: p.clone(),
                    to: person.clone(),
                });
                ids.by_anon.insert(akey, person.clone());
                ids.by_user.insert(ukey, Some(person.clone()));
                ids.user_of
                    .insert(((*project).to_owned(), person), Some(uid.clone()));
            }
        }
    }
    Ok(ids)
}

fn repoint_alias(tx: &Transaction<'_>, project: &str, anon: &str, person: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE site_user_aliases SET site_user_id = ? WHERE project_id = ? AND anonymous_id = ?",
        params![person, project, anon],
    )
    .map_err(err)?;
    Ok(())
}

/// Folds anonymous person `from` into `into`: aliases, sessions, active days and
/// counters move; the merged person is new on the earlier of the two first days.
fn merge_person(
    tx: &Transaction<'_>,
    project: &str,
    from: &str,
    into: &str,
    tz: &ProjectTz,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let first_seen = |id: &str| -> StoreResult<Option<i64>> {
        tx.prepare_cached("SELECT first_seen FROM site_users WHERE project_id = ? AND id = ?")
            .and_then(|mut s| s.query_row(params![project, id], |r| r.get(0)).optional())
            .map_err(err)
    };
    if let (Some(f), Some(i)) = (first_seen(from)?, first_seen(into)?) {
        deltas.new_user(project, tz, f, -1);
        if f < i {
            deltas.new_user(project, tz, i, -1);
            deltas.new_user(project, tz, f, 1);
        }
    }
    let (from_days, into_days) = (
        active_days_of(tx, project, from)?,
        active_days_of(tx, project, into)?,
    );
    let merged: BTreeSet<Date> = from_days.union(&into_days).copied().collect();
    deltas.churn_change(project, &from_days, &BTreeSet::new());
    deltas.churn_change(project, &into_days, &merged);
    let shared_days: Vec<String> = tx
        .prepare_cached(
            "SELECT day FROM user_days WHERE project_id = ?1 AND site_user_id = ?2
             AND day IN (SELECT day FROM user_days WHERE project_id = ?1 AND site_user_id = ?3)",
        )
        .and_then(|mut s| {
            s.query_map(params![project, from, into], |r| r.get(0))?
                .collect()
        })
        .map_err(err)?;
    for day in &shared_days {
        deltas.active_user(project, day, -1);
        tx.execute(
            "DELETE FROM user_days WHERE project_id = ? AND site_user_id = ? AND day = ?",
            params![project, from, day],
        )
        .map_err(err)?;
    }
    for sql in [
        "UPDATE site_user_aliases SET site_user_id = ?1 WHERE project_id = ?2 AND site_user_id = ?3",
        "UPDATE site_sessions SET site_user_id = ?1 WHERE project_id = ?2 AND site_user_id = ?3",
        "UPDATE user_days SET site_user_id = ?1 WHERE project_id = ?2 AND site_user_id = ?3",
        "UPDATE site_users SET
            first_seen = min(first_seen, COALESCE((SELECT first_seen FROM site_users WHERE project_id = ?2 AND id = ?3), first_seen)),
            last_seen = max(last_seen, COALESCE((SELECT last_seen FROM site_users WHERE project_id = ?2 AND id = ?3), last_seen)),
            event_count = event_count + COALESCE((SELECT event_count FROM site_users WHERE project_id = ?2 AND id = ?3), 0)
         WHERE project_id = ?2 AND id = ?1",
    ] {
        tx.execute(sql, params![into, project, from]).map_err(err)?;
    }
    tx.execute(
        "DELETE FROM site_users WHERE project_id = ?1 AND id = ?2",
        params![project, from],
    )
    .map_err(err)?;
    Ok(())
}

fn read_first_seen(
    tx: &Transaction<'_>,
    people: &[PersonUpsert],
) -> StoreResult<HashMap<Key, i64>> {
    let mut out = HashMap::new();
    for chunk in shaped_chunks(people) {
        let sql = format!(
            "SELECT project_id, id, first_seen FROM site_users WHERE (project_id, id) IN (VALUES {})",
            placeholders(chunk.len(), 2)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(
                params_from_iter(chunk.iter().flat_map(|p| [&p.project_id, &p.id])),
                |r| {
                    Ok((
                        (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .map_err(err)?;
        for row in rows {
            let (k, v) = row.map_err(err)?;
            out.insert(k, v);
        }
    }
    Ok(out)
}

fn read_sessions(
    tx: &Transaction<'_>,
    sessions: &[SessionUpsert],
) -> StoreResult<HashMap<Key, SessionState>> {
    let mut out = HashMap::new();
    for chunk in shaped_chunks(sessions) {
        let sql = format!(
            "SELECT project_id, id, started_at, last_seen_at, page_count FROM site_sessions WHERE (project_id, id) IN (VALUES {})",
            placeholders(chunk.len(), 2)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(
                params_from_iter(chunk.iter().flat_map(|s| [&s.project_id, &s.id])),
                |r| {
                    Ok((
                        (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                        SessionState {
                            started_at: r.get(2)?,
                            last_seen_at: r.get(3)?,
                            page_count: r.get(4)?,
                        },
                    ))
                },
            )
            .map_err(err)?;
        for row in rows {
            let (k, v) = row.map_err(err)?;
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Records (project, person, day) activity; each pair new to `user_days` is one
/// more active user that day.
fn mark_active_days(
    tx: &Transaction<'_>,
    days: &[(String, String, String)],
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let mut existing: HashSet<(String, String, String)> = HashSet::new();
    for chunk in shaped_chunks(days) {
        let sql = format!(
            "SELECT project_id, site_user_id, day FROM user_days WHERE (project_id, site_user_id, day) IN (VALUES {})",
            placeholders(chunk.len(), 3)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(
                params_from_iter(chunk.iter().flat_map(|(p, u, d)| [p, u, d])),
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .map_err(err)?;
        for row in rows {
            existing.insert(row.map_err(err)?);
        }
    }
    let new: Vec<&(String, String, String)> =
        days.iter().filter(|k| !existing.contains(*k)).collect();
    for chunk in shaped_chunks(&new) {
        let sql = format!(
            "INSERT INTO user_days (project_id, site_user_id, day) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 3)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        stmt.execute(params_from_iter(
            chunk.iter().flat_map(|(p, u, d)| [p, u, d]),
        ))
        .map_err(err)?;
    }
    for (p, _, d) in &new {
        deltas.active_user(p, d, 1);
    }
    churn_after_new_days(tx, &new, deltas)
}

/// Churn counters move for the people who have new active days: compare their
/// active days around the new ones before and after.
fn churn_after_new_days(
    tx: &Transaction<'_>,
    new: &[&(String, String, String)],
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let mut by_person: BTreeMap<(&str, &str), BTreeSet<Date>> = BTreeMap::new();
    for (p, u, d) in new {
        if let Some(d) = parse_day(d) {
            by_person.entry((p, u)).or_default().insert(d);
        }
    }
    let mut stmt = tx
        .prepare_cached(
            "SELECT day FROM user_days WHERE project_id = ?1 AND site_user_id = ?2 AND day >= ?3 AND day <= ?4",
        )
        .map_err(err)?;
    for ((project, person), added) in by_person {
        let (Some(first), Some(last)) = (added.first(), added.last()) else {
            continue;
        };
        let window = (days_from(*first, -13), days_from(*last, 13));
        let now: BTreeSet<Date> = stmt
            .query_map(params![project, person, window.0, window.1], |r| {
                r.get::<_, String>(0)
            })
            .map_err(err)?
            .filter_map(|d| d.ok().and_then(|d| parse_day(&d)))
            .collect();
        let before: BTreeSet<Date> = now.difference(&added).copied().collect();
        deltas.churn_change(project, &before, &now);
    }
    Ok(())
}

fn days_from(d: Date, days: i64) -> String {
    d.checked_add(jiff::Span::new().days(days))
        .unwrap_or(d)
        .to_string()
}

/// All active days of a person.
fn active_days_of(
    tx: &Transaction<'_>,
    project: &str,
    person: &str,
) -> StoreResult<BTreeSet<Date>> {
    let mut stmt = tx
        .prepare_cached("SELECT day FROM user_days WHERE project_id = ?1 AND site_user_id = ?2")
        .map_err(err)?;
    let days = stmt
        .query_map(params![project, person], |r| r.get::<_, String>(0))
        .map_err(err)?
        .filter_map(|d| d.ok().and_then(|d| parse_day(&d)))
        .collect();
    Ok(days)
}

fn write_daily_stats(tx: &Transaction<'_>, deltas: &Deltas) -> StoreResult<()> {
    let rows = deltas.rows();
    for chunk in shaped_chunks(&rows) {
        let sql = format!(
            "INSERT INTO daily_stats (project_id, day, active_users, new_users, sessions, pageviews, events, session_ms, bounces, churn_base, churned)
             VALUES {}
             ON CONFLICT (project_id, day) DO UPDATE SET
                churn_base = daily_stats.churn_base + excluded.churn_base,
                churned = daily_stats.churned + excluded.churned,
                active_users = daily_stats.active_users + excluded.active_users,
                new_users = daily_stats.new_users + excluded.new_users,
                sessions = daily_stats.sessions + excluded.sessions,
                pageviews = daily_stats.pageviews + excluded.pageviews,
                events = daily_stats.events + excluded.events,
                session_ms = daily_stats.session_ms + excluded.session_ms,
                bounces = daily_stats.bounces + excluded.bounces",
            placeholders(chunk.len(), 11)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 11);
        for (p, day, d) in chunk {
            args.extend([
                p as &dyn ToSql,
                day,
                &d.active_users,
                &d.new_users,
                &d.sessions,
                &d.pageviews,
                &d.events,
                &d.session_ms,
                &d.bounces,
                &d.churn_base,
                &d.churned,
            ]);
        }
        stmt.execute(params_from_iter(args)).map_err(err)?;
    }
    Ok(())
}

fn upsert_people(tx: &Transaction<'_>, people: &[PersonUpsert]) -> StoreResult<()> {
    for chunk in shaped_chunks(people) {
        let sql = format!(
            "INSERT INTO site_users (project_id, id, anonymous_id, user_id, email, name, plan, traits, first_seen, last_seen, device, browser, os, event_count)
             VALUES {}
             ON CONFLICT (project_id, id) DO UPDATE SET
                user_id = COALESCE(excluded.user_id, site_users.user_id),
                email = COALESCE(excluded.email, site_users.email),
                name = COALESCE(excluded.name, site_users.name),
                plan = COALESCE(excluded.plan, site_users.plan),
                traits = CASE WHEN excluded.traits = '{{}}' THEN site_users.traits ELSE json_patch(site_users.traits, excluded.traits) END,
                first_seen = min(site_users.first_seen, excluded.first_seen),
                last_seen = max(site_users.last_seen, excluded.last_seen),
                device = COALESCE(excluded.device, site_users.device),
                browser = COALESCE(excluded.browser, site_users.browser),
                os = COALESCE(excluded.os, site_users.os),
                event_count = site_users.event_count + excluded.event_count",
            placeholders(chunk.len(), 14)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 14);
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
            ]);
        }
        stmt.execute(params_from_iter(args)).map_err(err)?;
    }
    Ok(())
}

fn upsert_sessions(tx: &Transaction<'_>, sessions: &[SessionUpsert]) -> StoreResult<()> {
    // Every right-hand side reads the row as it was before this update.
    for chunk in shaped_chunks(sessions) {
        let sql = format!(
            "INSERT INTO site_sessions (project_id, id, site_user_id, started_at, last_seen_at, ended_at, entry_url, referrer,
                current_url, current_path, current_title, page_entered_at, page_count, device, browser, os, screen)
             VALUES {}
             ON CONFLICT (project_id, id) DO UPDATE SET
                site_user_id = excluded.site_user_id,
                started_at = min(site_sessions.started_at, excluded.started_at),
                last_seen_at = max(site_sessions.last_seen_at, excluded.last_seen_at),
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
                screen = COALESCE(excluded.screen, site_sessions.screen)",
            placeholders(chunk.len(), 17)
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let pages: Vec<_> = chunk.iter().map(|s| s.last_page.as_ref()).collect();
        let cols: Vec<[Option<&dyn ToSql>; 4]> = pages
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
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 17);
        for (s, page) in chunk.iter().zip(&cols) {
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
