//! The write path: one transaction per batch of requests. Events go in with
//! multi-row inserts (retries are detected by their ids), then people and sessions
//! are upserted once each with the batch's net effect.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use vibe_core::day::parse_day;

use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use vibe_core::day::ProjectTz;
use vibe_core::Message;
use vibe_store::funnel_rollup::{FunnelWork, PersonMove};
use vibe_store::ingest::{
    fold_people, fold_sessions, shaped_chunks, PersonUpsert, Resolved, SessionUpsert, TimeZones,
};
use vibe_store::rollup::{active_days, person_first_seen, Deltas, SessionState};
use vibe_store::*;

use vibe_store::db::err;

use crate::funnel_rollup;

type Key = (String, String);

pub async fn ingest(pool: &PgPool, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>> {
    let mut tx = pool.begin().await.map_err(err)?;
    let inserted = insert_events(&mut tx, jobs).await?;
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

    let mut ids = resolve_identities(&mut tx, &fresh, &tzs).await?;
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
    // The rows are locked (FOR UPDATE) so concurrent nodes cannot interleave.
    let mut deltas = std::mem::take(&mut ids.deltas);
    let old_first_seen = read_first_seen(&mut tx, &people).await?;
    for p in &people {
        let old = old_first_seen
            .get(&(p.project_id.clone(), p.id.clone()))
            .copied();
        person_first_seen(&mut deltas, tzs.get(&p.project_id), p, old);
    }
    let old_sessions = read_sessions(&mut tx, &sessions).await?;
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
    upsert_people(&mut tx, &people).await?;
    upsert_sessions(&mut tx, &sessions).await?;
    mark_active_days(&mut tx, &active_days(&resolved, &tzs), &mut deltas).await?;
    write_daily_stats(&mut tx, &deltas).await?;

    let mut projects: Vec<&str> = jobs.iter().map(|j| j.project_id.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    let funnels = funnel_rollup::defs(&mut tx, &projects).await?;
    let work = FunnelWork::plan(&funnels, &resolved, &ids.moves);
    if !work.is_empty() {
        funnel_rollup::apply(&mut tx, &funnels, &ids.moves, &work).await?;
    }
    tx.commit().await.map_err(err)?;
    Ok(outcomes)
}

async fn insert_events(tx: &mut PgConnection, jobs: &[IngestJob]) -> StoreResult<HashSet<Key>> {
    let rows: Vec<(&IngestJob, &Message, Option<String>)> = jobs
        .iter()
        .flat_map(|j| j.messages.iter().map(move |m| (j, m)))
        .filter(|(_, m)| m.kind.is_stored_event())
        .map(|(j, m)| {
            (
                j,
                m,
                m.props
                    .as_ref()
                    .or(m.traits.as_ref())
                    .map(|p| serde_json::Value::Object(p.clone()).to_string()),
            )
        })
        .collect();
    let mut inserted = HashSet::new();
    for chunk in shaped_chunks(&rows) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO user_events (project_id, id, kind, name, anonymous_id, user_id, session_id, url, path, referrer, title, props, ts, received_at) ",
        );
        q.push_values(chunk, |mut b, (j, m, props)| {
            b.push_bind(&j.project_id)
                .push_bind(&m.id)
                .push_bind(m.kind.as_str())
                .push_bind(&m.name)
                .push_bind(&m.anonymous_id)
                .push_bind(&m.user_id)
                .push_bind(&m.session_id)
                .push_bind(&m.url)
                .push_bind(&m.path)
                .push_bind(&m.referrer)
                .push_bind(&m.title)
                .push_bind(props)
                .push_bind(m.ts)
                .push_bind(j.received_at);
        });
        q.push(" ON CONFLICT (project_id, id) DO NOTHING RETURNING project_id, id");
        let got: Vec<Key> = q.build_query_as().fetch_all(&mut *tx).await.map_err(err)?;
        inserted.extend(got);
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

async fn resolve_identities(
    tx: &mut PgConnection,
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
        // Batches are almost always for one project: `project_id = ? AND
        // anonymous_id IN (…)` walks the primary key once per id.
        let mut projects: Vec<&str> = chunk.iter().map(|(p, _)| p.as_str()).collect();
        projects.dedup();
        for project in projects {
            let mut q = QueryBuilder::<Postgres>::new(
                "SELECT anonymous_id, site_user_id FROM site_user_aliases WHERE project_id = ",
            );
            q.push_bind(project).push(" AND anonymous_id IN (");
            let mut sep = q.separated(", ");
            for (_, a) in chunk.iter().filter(|(p, _)| p == project) {
                sep.push_bind(a);
            }
            q.push(")");
            let rows: Vec<(String, String)> =
                q.build_query_as().fetch_all(&mut *tx).await.map_err(err)?;
            for (a, person) in rows {
                ids.by_anon.insert((project.to_owned(), a), person);
            }
        }
    }
    let new_aliases: Vec<&Key> = anons
        .iter()
        .filter(|k| !ids.by_anon.contains_key(*k))
        .collect();
    for chunk in shaped_chunks(&new_aliases) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO site_user_aliases (project_id, anonymous_id, site_user_id) ",
        );
        q.push_values(chunk, |mut b, (p, a)| {
            b.push_bind(p).push_bind(a).push_bind(a);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *tx).await.map_err(err)?;
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
                let q: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM site_users WHERE project_id = $1 AND user_id = $2",
                )
                .bind(project)
                .bind(&uid)
                .fetch_optional(&mut *tx)
                .await
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
                let u: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT user_id FROM site_users WHERE project_id = $1 AND id = $2",
                )
                .bind(project)
                .bind(&p)
                .fetch_optional(&mut *tx)
                .await
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
                merge_person(tx, project, &p, &q, tzs.get(project), &mut ids.deltas).await?;
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
                repoint_alias(tx, project, anon, &q).await?;
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
                sqlx::query("UPDATE site_users SET user_id = $1 WHERE project_id = $2 AND id = $3")
                    .bind(&uid)
                    .bind(project)
                    .bind(&p)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            (None, Some(_)) => {
                // This device belonged to someone else: a new person for this user.
                let person = user_person_id(&uid);
                repoint_alias(tx, project, anon, &person).await?;
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

async fn repoint_alias(
    tx: &mut PgConnection,
    project: &str,
    anon: &str,
    person: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE site_user_aliases SET site_user_id = $1 WHERE project_id = $2 AND anonymous_id = $3")
        .bind(person)
        .bind(project)
        .bind(anon)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    Ok(())
}

/// Folds anonymous person `from` into `into`: aliases, sessions, active days and
/// counters move; the merged person is new on the earlier of the two first days.
async fn merge_person(
    tx: &mut PgConnection,
    project: &str,
    from: &str,
    into: &str,
    tz: &ProjectTz,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let seen: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, first_seen FROM site_users WHERE project_id = $1 AND id IN ($2, $3) FOR UPDATE",
    )
    .bind(project)
    .bind(from)
    .bind(into)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    let first = |id: &str| seen.iter().find(|(i, _)| i == id).map(|(_, f)| *f);
    if let (Some(f), Some(i)) = (first(from), first(into)) {
        deltas.new_user(project, tz, f, -1);
        if f < i {
            deltas.new_user(project, tz, i, -1);
            deltas.new_user(project, tz, f, 1);
        }
    }
    let from_days = active_days_of(tx, project, from).await?;
    let into_days = active_days_of(tx, project, into).await?;
    let merged: BTreeSet<Date> = from_days.union(&into_days).copied().collect();
    deltas.churn_change(project, &from_days, &BTreeSet::new());
    deltas.churn_change(project, &into_days, &merged);
    let shared_days: Vec<String> = sqlx::query_scalar(
        "DELETE FROM user_days WHERE project_id = $1 AND site_user_id = $2
         AND day IN (SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $3) RETURNING day",
    )
    .bind(project)
    .bind(from)
    .bind(into)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    for day in &shared_days {
        deltas.active_user(project, day, -1);
    }
    for sql in [
        "UPDATE site_user_aliases SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
        "UPDATE site_sessions SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
        "UPDATE user_days SET site_user_id = $1 WHERE project_id = $2 AND site_user_id = $3",
        "UPDATE site_users SET
            first_seen = LEAST(first_seen, COALESCE((SELECT first_seen FROM site_users WHERE project_id = $2 AND id = $3), first_seen)),
            last_seen = GREATEST(last_seen, COALESCE((SELECT last_seen FROM site_users WHERE project_id = $2 AND id = $3), last_seen)),
            event_count = event_count + COALESCE((SELECT event_count FROM site_users WHERE project_id = $2 AND id = $3), 0)
         WHERE project_id = $2 AND id = $1",
    ] {
        sqlx::query(sql).bind(into).bind(project).bind(from).execute(&mut *tx).await.map_err(err)?;
    }
    sqlx::query("DELETE FROM site_users WHERE project_id = $1 AND id = $2")
        .bind(project)
        .bind(from)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    Ok(())
}

async fn read_first_seen(
    tx: &mut PgConnection,
    people: &[PersonUpsert],
) -> StoreResult<HashMap<Key, i64>> {
    let mut out = HashMap::new();
    for (project, ids) in ids_by_project(
        people
            .iter()
            .map(|p| (p.project_id.as_str(), p.id.as_str())),
    ) {
        // `id = ANY($2)` walks the primary key once per id; a row-value IN list of
        // hundreds of pairs made the planner scan the table.
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, first_seen FROM site_users WHERE project_id = $1 AND id = ANY($2) FOR UPDATE")
                .bind(project)
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
        out.extend(
            rows.into_iter()
                .map(|(id, f)| ((project.to_owned(), id), f)),
        );
    }
    Ok(out)
}

async fn read_sessions(
    tx: &mut PgConnection,
    sessions: &[SessionUpsert],
) -> StoreResult<HashMap<Key, SessionState>> {
    let mut out = HashMap::new();
    for (project, ids) in ids_by_project(
        sessions
            .iter()
            .map(|s| (s.project_id.as_str(), s.id.as_str())),
    ) {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT id, started_at, last_seen_at, page_count FROM site_sessions
             WHERE project_id = $1 AND id = ANY($2) FOR UPDATE",
        )
        .bind(project)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        out.extend(
            rows.into_iter()
                .map(|(id, started_at, last_seen_at, page_count)| {
                    (
                        (project.to_owned(), id),
                        SessionState {
                            started_at,
                            last_seen_at,
                            page_count,
                        },
                    )
                }),
        );
    }
    Ok(out)
}

/// Groups (project, id) pairs by project, ids sorted (a stable lock order).
fn ids_by_project<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, Vec<String>)> {
    let mut map: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (p, id) in pairs {
        map.entry(p).or_default().push(id.to_owned());
    }
    map.into_iter()
        .map(|(p, mut ids)| {
            ids.sort();
            (p, ids)
        })
        .collect()
}

/// Records (project, person, day) activity; each pair new to `user_days` is one
/// more active user that day.
async fn mark_active_days(
    tx: &mut PgConnection,
    days: &[(String, String, String)],
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let mut added: BTreeMap<(String, String), BTreeSet<Date>> = BTreeMap::new();
    for chunk in shaped_chunks(days) {
        let mut q =
            QueryBuilder::<Postgres>::new("INSERT INTO user_days (project_id, site_user_id, day) ");
        q.push_values(chunk, |mut b, (p, u, d)| {
            b.push_bind(p).push_bind(u).push_bind(d);
        });
        q.push(" ON CONFLICT DO NOTHING RETURNING project_id, site_user_id, day");
        let new: Vec<(String, String, String)> =
            q.build_query_as().fetch_all(&mut *tx).await.map_err(err)?;
        for (p, u, d) in new {
            deltas.active_user(&p, &d, 1);
            if let Some(d) = parse_day(&d) {
                added.entry((p, u)).or_default().insert(d);
            }
        }
    }
    churn_after_new_days(tx, &added, deltas).await
}

/// Churn counters move for the people who have new active days: compare their
/// active days around the new ones before and after.
async fn churn_after_new_days(
    tx: &mut PgConnection,
    added: &BTreeMap<(String, String), BTreeSet<Date>>,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let mut by_project: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (p, u) in added.keys() {
        by_project.entry(p).or_default().push(u);
    }
    for (project, people) in by_project {
        let days = added
            .iter()
            .filter(|((p, _), _)| p == project)
            .flat_map(|(_, d)| d.iter().copied());
        let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
            continue;
        };
        let shift = |d: Date, n: i64| {
            d.checked_add(jiff::Span::new().days(n))
                .unwrap_or(d)
                .to_string()
        };
        // One index descent per person, whatever the planner thinks of the table.
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT u.site_user_id, u.day FROM UNNEST($2::text[]) AS p(id)
             JOIN user_days u ON u.project_id = $1 AND u.site_user_id = p.id
             WHERE u.day >= $3 AND u.day <= $4",
        )
        .bind(project)
        .bind(&people)
        .bind(shift(first, -13))
        .bind(shift(last, 13))
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        let mut now: BTreeMap<&str, BTreeSet<Date>> = BTreeMap::new();
        for (u, d) in &rows {
            if let Some(d) = parse_day(d) {
                now.entry(u.as_str()).or_default().insert(d);
            }
        }
        for person in people {
            let now = now.remove(person).unwrap_or_default();
            let new = &added[&(project.to_owned(), person.to_owned())];
            let before: BTreeSet<Date> = now.difference(new).copied().collect();
            deltas.churn_change(project, &before, &now);
        }
    }
    Ok(())
}

/// All active days of a person.
async fn active_days_of(
    tx: &mut PgConnection,
    project: &str,
    person: &str,
) -> StoreResult<BTreeSet<Date>> {
    let days: Vec<String> =
        sqlx::query_scalar("SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $2")
            .bind(project)
            .bind(person)
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
    Ok(days.iter().filter_map(|d| parse_day(d)).collect())
}

async fn write_daily_stats(tx: &mut PgConnection, deltas: &Deltas) -> StoreResult<()> {
    let rows = deltas.rows();
    for chunk in shaped_chunks(&rows) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO daily_stats (project_id, day, active_users, new_users, sessions, pageviews, events, session_ms, bounces, churn_base, churned) ",
        );
        q.push_values(chunk, |mut b, (p, day, d)| {
            b.push_bind(*p)
                .push_bind(*day)
                .push_bind(d.active_users)
                .push_bind(d.new_users)
                .push_bind(d.sessions)
                .push_bind(d.pageviews)
                .push_bind(d.events)
                .push_bind(d.session_ms)
                .push_bind(d.bounces)
                .push_bind(d.churn_base)
                .push_bind(d.churned);
        });
        q.push(
            " ON CONFLICT (project_id, day) DO UPDATE SET
                churn_base = daily_stats.churn_base + excluded.churn_base,
                churned = daily_stats.churned + excluded.churned,
                active_users = daily_stats.active_users + excluded.active_users,
                new_users = daily_stats.new_users + excluded.new_users,
                sessions = daily_stats.sessions + excluded.sessions,
                pageviews = daily_stats.pageviews + excluded.pageviews,
                events = daily_stats.events + excluded.events,
                session_ms = daily_stats.session_ms + excluded.session_ms,
                bounces = daily_stats.bounces + excluded.bounces",
        );
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}

async fn upsert_people(
    tx: &mut PgConnection,
    people: &[vibe_store::ingest::PersonUpsert],
) -> StoreResult<()> {
    for chunk in shaped_chunks(people) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO site_users (project_id, id, anonymous_id, user_id, email, name, plan, traits, first_seen, last_seen, device, browser, os, event_count) ",
        );
        q.push_values(chunk, |mut b, p| {
            b.push_bind(&p.project_id)
                .push_bind(&p.id)
                .push_bind(&p.anonymous_id)
                .push_bind(&p.user_id)
                .push_bind(&p.email)
                .push_bind(&p.name)
                .push_bind(&p.plan)
                .push_bind(p.traits_patch.as_deref().unwrap_or("{}"))
                .push_bind(p.first_seen)
                .push_bind(p.last_seen)
                .push_bind(&p.device)
                .push_bind(&p.browser)
                .push_bind(&p.os)
                .push_bind(p.events);
        });
        q.push(
            " ON CONFLICT (project_id, id) DO UPDATE SET
                user_id = COALESCE(excluded.user_id, site_users.user_id),
                email = COALESCE(excluded.email, site_users.email),
                name = COALESCE(excluded.name, site_users.name),
                plan = COALESCE(excluded.plan, site_users.plan),
                traits = CASE WHEN excluded.traits = '{}' THEN site_users.traits ELSE jsonb_strip_nulls(site_users.traits::jsonb || excluded.traits::jsonb)::text END,
                first_seen = LEAST(site_users.first_seen, excluded.first_seen),
                last_seen = GREATEST(site_users.last_seen, excluded.last_seen),
                device = COALESCE(excluded.device, site_users.device),
                browser = COALESCE(excluded.browser, site_users.browser),
                os = COALESCE(excluded.os, site_users.os),
                event_count = site_users.event_count + excluded.event_count",
        );
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}

async fn upsert_sessions(
    tx: &mut PgConnection,
    sessions: &[vibe_store::ingest::SessionUpsert],
) -> StoreResult<()> {
    for chunk in shaped_chunks(sessions) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO site_sessions (project_id, id, site_user_id, started_at, last_seen_at, ended_at, entry_url, referrer,
                current_url, current_path, current_title, page_entered_at, page_count, device, browser, os, screen) ",
        );
        q.push_values(chunk, |mut b, s| {
            let page = s.last_page.as_ref();
            b.push_bind(&s.project_id)
                .push_bind(&s.id)
                .push_bind(&s.site_user_id)
                .push_bind(s.started_at)
                .push_bind(s.last_seen_at)
                .push_bind(s.ended_at)
                .push_bind(&s.entry_url)
                .push_bind(&s.referrer)
                .push_bind(page.map(|p| &p.0))
                .push_bind(page.map(|p| &p.1))
                .push_bind(page.and_then(|p| p.2.as_ref()))
                .push_bind(page.map(|p| p.3))
                .push_bind(s.pageviews)
                .push_bind(&s.device)
                .push_bind(&s.browser)
                .push_bind(&s.os)
                .push_bind(&s.screen);
        });
        // Every right-hand side reads the row as it was before this update.
        q.push(
            " ON CONFLICT (project_id, id) DO UPDATE SET
                site_user_id = excluded.site_user_id,
                started_at = LEAST(site_sessions.started_at, excluded.started_at),
                last_seen_at = GREATEST(site_sessions.last_seen_at, excluded.last_seen_at),
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
        );
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    Ok(())
}
