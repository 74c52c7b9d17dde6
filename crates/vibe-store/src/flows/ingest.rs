//! What an ingest batch does to the flow rollups, written once for both
//! backends over shared statements ([`FlowIo`]). Only projects with flows pay
//! anything: one `SELECT` of the batch's projects' flows per batch (skipped
//! when the batch has no page view or event), then, for the people with
//! matching events only, one read of their attempts per project and chunk of
//! people, and one multi-row upsert per table and chunk.
//!
//! Concurrency: on PostgreSQL the people of the batch are already locked
//! (`read_first_seen` reads them `FOR UPDATE`) when this runs, so two nodes
//! never interleave on one person's attempts; a flow rebuild locks
//! `user_events` (SHARE), so it waits for batches in flight and batches wait
//! for it (`flows::write`).

use std::collections::BTreeMap;

use vibe_core::MessageKind;

use super::attempt::{advance, Attempt, DayDeltas, FlowDef, Outcome};
use super::model::parse_step;
use crate::db::{Arg, TxExec, TxRead};
use crate::ingest::{MultiRow, Resolved, TimeZones};
use crate::StoreResult;

/// `(id, project_id, start_step, complete_step, fail_step, window_hours)`.
pub type DefRow = (String, String, String, String, Option<String>, i64);
/// `(site_user_id, flow_id, started_at, outcome, ended_at)`.
pub type StateRow = (String, String, i64, String, i64);
/// A matching stored event: `(id, ts, kind, path, name, person)`.
pub type EventRow = (String, i64, String, Option<String>, Option<String>, String);

/// What the flow rollups need of an open transaction: shared statements
/// only, so every backend has it.
pub trait FlowIo: TxExec + TxRead<DefRow> + TxRead<StateRow> + TxRead<EventRow> {}

impl<T: TxExec + TxRead<DefRow> + TxRead<StateRow> + TxRead<EventRow>> FlowIo for T {}

/// Rows of one shared statement on the open transaction.
pub(crate) async fn rows<T, I: TxRead<T> + ?Sized>(
    io: &mut I,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<T>> {
    io.all_rows(sql, args).await
}

pub(crate) static ATTEMPTS: MultiRow = MultiRow::new(
    "INSERT INTO flow_attempts (project_id, site_user_id, flow_id, started_at, outcome, ended_at) VALUES ",
    6,
    " ON CONFLICT (project_id, site_user_id, flow_id) DO UPDATE SET
       started_at = excluded.started_at, outcome = excluded.outcome, ended_at = excluded.ended_at",
);
pub(crate) static DAYS: MultiRow = MultiRow::new(
    "INSERT INTO flow_days (project_id, flow_id, day, started, completed, failed, completion_ms_sum) VALUES ",
    7,
    " ON CONFLICT (project_id, flow_id, day) DO UPDATE SET
       started = flow_days.started + excluded.started,
       completed = flow_days.completed + excluded.completed,
       failed = flow_days.failed + excluded.failed,
       completion_ms_sum = flow_days.completion_ms_sum + excluded.completion_ms_sum",
);
pub(crate) static DURATIONS: MultiRow = MultiRow::new(
    "INSERT INTO flow_duration_days (project_id, flow_id, day, bucket, n) VALUES ",
    5,
    " ON CONFLICT (project_id, flow_id, day, bucket) DO UPDATE SET n = flow_duration_days.n + excluded.n",
);

/// The statement shapes of the `IN` lists below, so the statement caches
/// keep a handful of them.
const SHAPES: [usize; 4] = [1, 8, 64, 512];

/// `$first, $first+1, …` for `n` values, `n` one of [`SHAPES`].
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `items` in chunks of at most 512, each padded (repeating its first item)
/// to the next shape.
fn padded<'a, T: Copy>(items: &'a [T]) -> impl Iterator<Item = Vec<T>> + 'a {
    items.chunks(512).map(|c| {
        let shape = SHAPES.into_iter().find(|s| *s >= c.len()).unwrap_or(512);
        let mut v = c.to_vec();
        v.resize(shape, c[0]);
        v
    })
}

/// The flows of these projects.
pub async fn defs<I: FlowIo>(io: &mut I, projects: &[&str]) -> StoreResult<Vec<FlowDef>> {
    let mut out = Vec::new();
    for chunk in padded(projects) {
        let sql = format!(
            "SELECT id, project_id, start_step, complete_step, fail_step, window_hours FROM flows
             WHERE project_id IN ({})",
            placeholders(1, chunk.len())
        );
        let args: Vec<Arg<'_>> = chunk.iter().map(|p| Arg::from(*p)).collect();
        let found: Vec<DefRow> = rows(io, &sql, &args).await?;
        out.extend(
            found
                .into_iter()
                .map(|(id, project_id, s, c, f, hours)| FlowDef {
                    project_id,
                    id,
                    start: parse_step(&s),
                    complete: parse_step(&c),
                    fail: f.as_deref().map(parse_step),
                    window_ms: hours.saturating_mul(super::attempt::HOUR_MS),
                }),
        );
    }
    // One order on every node (and nothing twice, whatever the chunks).
    out.sort_by(|a, b| (&a.project_id, &a.id).cmp(&(&b.project_id, &b.id)));
    out.dedup_by(|a, b| a.project_id == b.project_id && a.id == b.id);
    Ok(out)
}

/// The latest attempts of these people (one project) in any flow.
pub async fn read_attempts<I: FlowIo>(
    io: &mut I,
    project: &str,
    people: &[&str],
) -> StoreResult<BTreeMap<(String, String), Attempt>> {
    let mut out = BTreeMap::new();
    for chunk in padded(people) {
        let sql = format!(
            "SELECT site_user_id, flow_id, started_at, outcome, ended_at FROM flow_attempts
             WHERE project_id = $1 AND site_user_id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut args = vec![Arg::from(project)];
        args.extend(chunk.iter().map(|p| Arg::from(*p)));
        let found: Vec<StateRow> = rows(io, &sql, &args).await?;
        for (person, flow, started_at, outcome, ended_at) in found {
            let a = Attempt {
                started_at,
                outcome: Outcome::parse(&outcome),
                ended_at,
            };
            out.insert((flow, person), a);
        }
    }
    Ok(out)
}

/// Writes attempts `(person, flow, attempt)` and day deltas of one project.
pub async fn write<I: FlowIo>(
    io: &mut I,
    project: &str,
    attempts: &[(&str, &str, Attempt)],
    deltas: &DayDeltas,
) -> StoreResult<()> {
    ATTEMPTS
        .write(io, attempts, |(person, flow, a)| {
            vec![
                Arg::from(project),
                Arg::from(*person),
                Arg::from(*flow),
                a.started_at.into(),
                Arg::from(a.outcome.as_str()),
                a.ended_at.into(),
            ]
        })
        .await?;
    let days: Vec<_> = deltas.days.iter().collect();
    DAYS.write(io, &days, |((flow, day), c)| {
        vec![
            Arg::from(project),
            Arg::from(flow),
            Arg::from(day),
            c.started.into(),
            c.completed.into(),
            c.failed.into(),
            c.completion_ms.into(),
        ]
    })
    .await?;
    let durations: Vec<_> = deltas.durations.iter().collect();
    DURATIONS
        .write(io, &durations, |((flow, day, bucket), n)| {
            vec![
                Arg::from(project),
                Arg::from(flow),
                Arg::from(day),
                (*bucket).into(),
                (**n).into(),
            ]
        })
        .await
}

/// Adds a batch's new messages (after identity resolution, merges already
/// moved: `MOVE_PERSON`) to the flow rollups.
pub async fn apply<I: FlowIo>(
    io: &mut I,
    resolved: &[Resolved<'_>],
    tzs: &TimeZones,
    projects: &[&str],
) -> StoreResult<()> {
    let relevant =
        |r: &&Resolved<'_>| matches!(r.msg.kind, MessageKind::Pageview | MessageKind::Event);
    if !resolved.iter().any(|r| relevant(&r)) {
        return Ok(());
    }
    let flows = defs(io, projects).await?;
    if flows.is_empty() {
        return Ok(());
    }
    // Per project: (flow index, person) → matching events (ts, id, matches).
    type Hits<'m> = BTreeMap<(usize, &'m str), Vec<(i64, &'m str, super::attempt::Matches)>>;
    let mut by_project: BTreeMap<&str, Hits<'_>> = BTreeMap::new();
    for r in resolved.iter().filter(relevant) {
        let m = r.msg;
        for (i, f) in flows.iter().enumerate() {
            if f.project_id != r.project_id {
                continue;
            }
            let hit = f.matches(m.kind.as_str(), m.path.as_deref(), m.name.as_deref());
            if hit.any() {
                by_project
                    .entry(r.project_id)
                    .or_default()
                    .entry((i, r.person_id))
                    .or_default()
                    .push((m.ts, &m.id, hit));
            }
        }
    }
    for (project, mut hits) in by_project {
        let mut people: Vec<&str> = hits.keys().map(|(_, p)| *p).collect();
        people.sort_unstable();
        people.dedup();
        let stored = read_attempts(io, project, &people).await?;
        let tz = tzs.get(project);
        let mut attempts: Vec<(&str, &str, Attempt)> = Vec::new();
        let mut deltas = DayDeltas::default();
        for ((i, person), events) in hits.iter_mut() {
            let f = &flows[*i];
            // Ties in time are broken by event id, as in the rebuild.
            events.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            let before = stored.get(&(f.id.clone(), (*person).to_owned())).copied();
            let mut state = before;
            for (ts, _, hit) in events.iter() {
                for c in advance(&mut state, f.window_ms, *ts, *hit)
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    deltas.add(&f.id, tz, c);
                }
            }
            if let Some(a) = state.filter(|a| Some(*a) != before) {
                attempts.push((person, &f.id, a));
            }
        }
        // Key order, so concurrent PostgreSQL nodes lock rows in one order.
        attempts.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        write(io, project, &attempts, &deltas).await?;
    }
    Ok(())
}
