//! Flow writes, once for both backends, inside a transaction the backend
//! serialises with ingestion (SQLite: an IMMEDIATE transaction on the writer
//! connection; PostgreSQL: `LOCK TABLE user_events IN SHARE MODE` first, so
//! batches in flight commit before and later ones wait). Creating or editing
//! a flow rebuilds its rollup from stored events in the same transaction.

use std::collections::HashMap;

use vibe_core::day::ProjectTz;

use super::attempt::{advance, Attempt, DayDeltas, FlowDef};
use super::ingest::{defs, rows, write, EventRow, FlowIo};
use super::model::Flow;
use crate::db::Arg;
use crate::{StoreError, StoreResult};

const INSERT: &str = "INSERT INTO flows
     (project_id, id, name, start_step, complete_step, fail_step, window_hours, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9)";
const UPDATE: &str = "UPDATE flows SET name = $3, start_step = $4, complete_step = $5,
     fail_step = NULLIF($6, ''), window_hours = $7, updated_at = $8
     WHERE project_id = $1 AND id = $2";
const DELETE: &str = "DELETE FROM flows WHERE project_id = $1 AND id = $2";
/// A flow's rollup rows, `$1` project, `$2` flow.
const DELETE_ROLLUP: [&str; 3] = [
    "DELETE FROM flow_attempts WHERE project_id = $1 AND flow_id = $2",
    "DELETE FROM flow_days WHERE project_id = $1 AND flow_id = $2",
    "DELETE FROM flow_duration_days WHERE project_id = $1 AND flow_id = $2",
];

/// Matching events read per statement of a rebuild.
const CHUNK: i64 = 5_000;

/// A flow write: each runs in one transaction the backend serialises with
/// ingestion ([`apply`]).
#[derive(Debug, Clone)]
pub enum FlowWrite {
    /// Stores the flow and builds its rollup from stored events.
    Create(Flow),
    /// Replaces the definition and rebuilds the rollup; `NotFound` unless the
    /// flow is this project's.
    Update(Flow),
    /// Deletes the flow (by id) and its rollup; `NotFound` unless it is this
    /// project's.
    Delete(String),
    /// Rebuilds every flow of the project.
    RebuildAll,
}

/// Runs `op` for the project (`tz`: its time zone, for local days); how many
/// flows were (re)built.
pub async fn apply<I: FlowIo>(
    io: &mut I,
    project_id: &str,
    tz: &str,
    op: &FlowWrite,
) -> StoreResult<usize> {
    match op {
        FlowWrite::Create(f) | FlowWrite::Update(f) => {
            let (start, complete, fail) = f.step_columns();
            let fail = fail.unwrap_or_default();
            let mut args = vec![
                Arg::from(project_id),
                Arg::from(&f.id),
                Arg::from(&f.name),
                Arg::from(&start),
                Arg::from(&complete),
                Arg::from(&fail),
                f.window_hours.into(),
            ];
            let sql = if matches!(op, FlowWrite::Create(_)) {
                args.push(f.created_at.into());
                INSERT
            } else {
                UPDATE
            };
            args.push(f.updated_at.into());
            if io.execute(sql, &args).await? == 0 {
                return Err(StoreError::NotFound);
            }
            rebuild(io, &FlowDef::of(project_id, f), &ProjectTz::or_utc(tz)).await?;
            Ok(1)
        }
        FlowWrite::Delete(flow_id) => delete(io, project_id, flow_id).await.map(|()| 0),
        FlowWrite::RebuildAll => rebuild_project(io, project_id, tz).await,
    }
}

async fn delete<I: FlowIo>(io: &mut I, project_id: &str, flow_id: &str) -> StoreResult<()> {
    let args = [Arg::from(project_id), Arg::from(flow_id)];
    if io.execute(DELETE, &args).await? == 0 {
        return Err(StoreError::NotFound);
    }
    for sql in DELETE_ROLLUP {
        io.execute(sql, &args).await?;
    }
    Ok(())
}

async fn rebuild_project<I: FlowIo>(io: &mut I, project_id: &str, tz: &str) -> StoreResult<usize> {
    let tz = ProjectTz::or_utc(tz);
    let flows = defs(io, &[project_id]).await?;
    for def in &flows {
        rebuild(io, def, &tz).await?;
    }
    Ok(flows.len())
}

/// The stored events matching any of a flow's steps after `(ts, id)`, in
/// `(ts, id)` order, with the person each belongs to now (as in
/// `rollup::rebuild`).
fn events_sql(def: &FlowDef) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    for (i, step) in def.steps().into_iter().enumerate() {
        let (condition, value) = crate::funnel::step_sql(step);
        conditions.push(condition.replace('?', &format!("${}", i + 4)));
        values.push(value);
    }
    let sql = format!(
        "SELECT e.id, e.ts, e.kind, e.path, e.name, COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id)
         FROM user_events e
         LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
         LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
         WHERE e.project_id = $1 AND e.ts >= $2 AND (e.ts > $2 OR e.id > $3) AND ({})
         ORDER BY e.ts, e.id LIMIT {CHUNK}",
        conditions.join(" OR ")
    );
    (sql, values)
}

/// Replaces one flow's rollup with what its stored events give, fed through
/// the same [`advance`] as ingest, in `(ts, id)` order.
pub async fn rebuild<I: FlowIo>(io: &mut I, def: &FlowDef, tz: &ProjectTz) -> StoreResult<()> {
    let key = [Arg::from(&def.project_id), Arg::from(&def.id)];
    for sql in DELETE_ROLLUP {
        io.execute(sql, &key).await?;
    }
    let (sql, values) = events_sql(def);
    let mut states: HashMap<String, Option<Attempt>> = HashMap::new();
    let mut deltas = DayDeltas::default();
    let (mut after_ts, mut after_id) = (i64::MIN, String::new());
    loop {
        let mut args = vec![
            Arg::from(&def.project_id),
            after_ts.into(),
            Arg::from(&after_id),
        ];
        args.extend(values.iter().map(Arg::from));
        let chunk: Vec<EventRow> = rows(io, &sql, &args).await?;
        let Some(last) = chunk.last() else {
            break;
        };
        let full = chunk.len() as i64 == CHUNK;
        (after_ts, after_id) = (last.1, last.0.clone());
        for (_, ts, kind, path, name, person) in chunk {
            let hit = def.matches(&kind, path.as_deref(), name.as_deref());
            let state = states.entry(person).or_default();
            for c in advance(state, def.window_ms, ts, hit)
                .into_iter()
                .flatten()
                .flatten()
            {
                deltas.add(&def.id, tz, c);
            }
        }
        if !full {
            break;
        }
    }
    let mut attempts: Vec<(&str, &str, Attempt)> = states
        .iter()
        .filter_map(|(p, a)| Some((p.as_str(), def.id.as_str(), (*a)?)))
        .collect();
    attempts.sort_by(|a, b| a.0.cmp(b.0));
    write(io, &def.project_id, &attempts, &deltas).await
}
