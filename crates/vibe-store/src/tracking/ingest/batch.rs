//! One ingest transaction, written once: which messages are new, who they
//! belong to, what people, sessions and rollups become. The backend's
//! [`IngestIo`] does the reads and writes, in this order.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use vibe_core::day::parse_day;
use vibe_core::Message;

use super::identities::resolve_identities;
use super::io::{ActiveDay, EventRow, IngestIo};
use super::{fold_people, fold_sessions, IngestJob, IngestOutcome, Resolved, TimeZones};
use crate::funnel_rollup::{self, FunnelWork};
use crate::rollup::{active_days, person_first_seen, Deltas, SessionState};
use crate::StoreResult;

/// Writes a batch inside the backend's open transaction (it begins and
/// commits).
pub async fn write_batch<I: IngestIo>(
    io: &mut I,
    jobs: &[IngestJob],
) -> StoreResult<Vec<IngestOutcome>> {
    let inserted = io.insert_events(&event_rows(jobs)).await?;
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

    let mut ids = resolve_identities(io, &fresh, &tzs).await?;
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
    let mut deltas = std::mem::take(&mut ids.deltas);
    let old_first_seen = io.read_first_seen(&people).await?;
    for p in &people {
        let old = old_first_seen
            .get(&(p.project_id.clone(), p.id.clone()))
            .copied();
        person_first_seen(&mut deltas, tzs.get(&p.project_id), p, old);
    }
    let old_sessions = io.read_sessions(&sessions).await?;
    let mut new_sessions: HashMap<(&str, &str), i64> = HashMap::new();
    for s in &sessions {
        let old = old_sessions
            .get(&(s.project_id.clone(), s.id.clone()))
            .copied();
        if old.is_none() {
            *new_sessions
                .entry((&s.project_id, &s.site_user_id))
                .or_default() += 1;
        }
        deltas.session(
            &s.project_id,
            tzs.get(&s.project_id),
            old,
            SessionState::after(old, s),
        );
    }
    deltas.messages(&resolved, &tzs);
    for p in &mut people {
        p.new_sessions = new_sessions
            .get(&(p.project_id.as_str(), p.id.as_str()))
            .copied()
            .unwrap_or(0);
    }
    io.upsert_people(&people).await?;
    io.upsert_sessions(&sessions).await?;
    let active = active_days(&resolved, &tzs);
    let new_days = mark_active_days(io, &active, &mut deltas).await?;
    io.write_daily_stats(&deltas.rows()).await?;
    crate::retention::ingest::apply(
        io,
        &tzs,
        &people,
        &old_first_seen,
        &new_days,
        &mut deltas.retention,
    )
    .await?;
    let mut uniques = std::mem::take(&mut ids.uniques);
    for (p, person, day) in new_days.iter().map(|d| &**d) {
        uniques.add(p, crate::uniques::ACTIVE, "", day, person);
    }
    crate::features::ingest::apply(io, &resolved, &tzs, &mut uniques).await?;

    let mut projects: Vec<&str> = jobs.iter().map(|j| j.project_id.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    // The payers sketches follow the payment rows as the upserts leave them.
    let payments = crate::revenue::ingest::payment_ids(&resolved);
    let before = match payments.is_empty() {
        true => Vec::new(),
        false => crate::uniques::ingest::payment_rows(io, &payments).await?,
    };
    crate::revenue::ingest::apply(io, &resolved, &tzs).await?;
    if !payments.is_empty() {
        let after = crate::uniques::ingest::payment_rows(io, &payments).await?;
        uniques.payments(io, &before, &after).await?;
    }
    uniques.write(io).await?;
    crate::flows::ingest::apply(io, &resolved, &tzs, &projects).await?;
    let funnels = io.funnels(&projects).await?;
    let work = FunnelWork::plan(&funnels, &resolved, &ids.moves);
    if !work.is_empty() {
        funnel_rollup::io::apply(io, &funnels, &ids.moves, &work).await?;
    }
    Ok(outcomes)
}

/// The stored events of a batch, with their props (or traits) as JSON text.
fn event_rows(jobs: &[IngestJob]) -> Vec<EventRow<'_>> {
    jobs.iter()
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
        .collect()
}

/// Records (project, person, day) activity; each pair new to `user_days` is one
/// more active user that day. Churn counters then move for the people who have
/// new active days: compare their active days around the new ones before and
/// after. Returns the new pairs.
async fn mark_active_days<'d, I: IngestIo>(
    io: &mut I,
    days: &'d [ActiveDay],
    deltas: &mut Deltas,
) -> StoreResult<Vec<Cow<'d, ActiveDay>>> {
    let new = io.insert_active_days(days).await?;
    let mut by_person: BTreeMap<(&str, &str), BTreeSet<Date>> = BTreeMap::new();
    for day in &new {
        let (p, u, d) = &**day;
        deltas.active_user(p, d, 1);
        if let Some(d) = parse_day(d) {
            by_person.entry((p, u)).or_default().insert(d);
        }
    }
    let people: Vec<(&str, &str, &BTreeSet<Date>)> =
        by_person.iter().map(|((p, u), d)| (*p, *u, d)).collect();
    let mut start = 0;
    while start < people.len() {
        let project = people[start].0;
        let end = start + people[start..].partition_point(|(p, _, _)| *p == project);
        let group = &people[start..end];
        start = end;
        let windows: Vec<(&str, Date, Date)> = group
            .iter()
            .filter_map(|(_, u, added)| Some((*u, *added.first()?, *added.last()?)))
            .collect();
        let now = io.active_days_near(project, &windows).await?;
        for ((_, _, added), now) in group.iter().zip(&now) {
            let before: BTreeSet<Date> = now.difference(added).copied().collect();
            deltas.churn_change(project, &before, now);
        }
    }
    Ok(new)
}
