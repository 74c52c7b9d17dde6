//! Background funnel builds on SQLite (`vibe_store::funnel_build`). Every chunk is
//! one IMMEDIATE transaction on the writer connection, so it serialises with
//! ingest batches but holds the writer only as long as one chunk takes.

use std::time::Instant;

use rusqlite::{params, OptionalExtension, Transaction};
use sqlx::SqlitePool;
use vibe_store::funnel::FunnelStep;
use vibe_store::funnel_build::{people_per_chunk, BuildState, ChunkDone, Phase};
use vibe_store::funnel_rollup::io as rollup;
use vibe_store::funnel_rollup::FunnelDef;
use vibe_store::ingest::io::run_ready;
use vibe_store::StoreResult;

use crate::err as sqlx_err;
use crate::ingest::Writer;
use crate::sql::err;

const ROLLUP_TABLES: [&str; 3] = ["funnel_hits", "funnel_reach", "funnel_reach_hours"];

/// Marks a funnel building, inside the transaction that stored its definition.
/// A new funnel has no rollup rows and starts scanning; an edited one first
/// clears the rows of its old definition.
pub fn start(
    tx: &Transaction<'_>,
    project_id: &str,
    funnel_id: &str,
    fresh: bool,
) -> StoreResult<()> {
    let phase = if fresh { Phase::Hits } else { Phase::Clear };
    let (first, last) = event_bounds(tx, project_id)?;
    tx.execute(
        "UPDATE funnels SET rollup_ready = 1, build_phase = ?1, build_ts = NULL, build_person = NULL,
         build_first_ts = ?2, build_last_ts = ?3 WHERE project_id = ?4 AND id = ?5",
        params![phase.code(), first, last, project_id, funnel_id],
    )
    .map_err(err)?;
    Ok(())
}

fn event_bounds(tx: &Transaction<'_>, project_id: &str) -> StoreResult<(Option<i64>, Option<i64>)> {
    tx.query_row(
        "SELECT MIN(ts), MAX(ts) FROM user_events WHERE project_id = ?1",
        [project_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .map_err(err)
}

fn state_of(
    phase: i64,
    ts: Option<i64>,
    person: Option<String>,
    first: Option<i64>,
    last: Option<i64>,
) -> BuildState {
    BuildState {
        phase: Phase::from_code(phase),
        scanned_to: ts,
        person,
        first_ts: first,
        last_ts: last,
    }
}

pub async fn states(pool: &SqlitePool, project_id: &str) -> StoreResult<Vec<(String, BuildState)>> {
    type Row = (
        String,
        i64,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, build_phase, build_ts, build_person, build_first_ts, build_last_ts
         FROM funnels WHERE project_id = ?1",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(sqlx_err)?;
    Ok(rows
        .into_iter()
        .map(|(id, phase, ts, person, first, last)| (id, state_of(phase, ts, person, first, last)))
        .collect())
}

pub async fn pending(pool: &SqlitePool) -> StoreResult<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT project_id, id FROM funnels WHERE build_phase <> 3 ORDER BY updated_at, id",
    )
    .fetch_all(pool)
    .await
    .map_err(sqlx_err)
}

/// One chunk of a funnel's build, in its own writer transaction.
pub fn chunk(
    conn: &mut rusqlite::Connection,
    project_id: &str,
    funnel_id: &str,
    chunk: usize,
) -> StoreResult<ChunkDone> {
    let began = Instant::now();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let state = step(&tx, project_id, funnel_id, chunk.max(1))?;
    tx.commit().map_err(err)?;
    Ok(ChunkDone {
        state,
        held: began.elapsed(),
    })
}

fn step(
    tx: &Transaction<'_>,
    project_id: &str,
    funnel_id: &str,
    chunk: usize,
) -> StoreResult<Option<BuildState>> {
    type Row = (
        String,
        i64,
        i64,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let row: Option<Row> = tx
        .query_row(
            "SELECT steps, window_days, build_phase, build_ts, build_person, build_first_ts, build_last_ts
             FROM funnels WHERE project_id = ?1 AND id = ?2",
            params![project_id, funnel_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .optional()
        .map_err(err)?;
    let Some((steps, window_days, phase, ts, person, first, last)) = row else {
        return Ok(None);
    };
    let mut state = state_of(phase, ts, person, first, last);
    let def = FunnelDef {
        id: funnel_id.to_owned(),
        project_id: project_id.to_owned(),
        steps: serde_json::from_str::<Vec<FunnelStep>>(&steps).unwrap_or_default(),
        window_ms: window_days * 86_400_000,
    };
    let limit = chunk as i64;
    match state.phase {
        Phase::Ready => return Ok(Some(state)),
        Phase::Clear => {
            let mut all_gone = true;
            for table in ROLLUP_TABLES {
                let deleted = tx
                    .execute(
                        &format!(
                            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table}
                             WHERE project_id = ?1 AND funnel_id = ?2 LIMIT ?3)"
                        ),
                        params![project_id, funnel_id, limit],
                    )
                    .map_err(err)?;
                all_gone &= (deleted as i64) < limit;
            }
            if all_gone {
                // Empty now, and nothing interleaves before the commit.
                let (first, last) = event_bounds(tx, project_id)?;
                state = state_of(Phase::Hits.code(), None, None, first, last);
            }
        }
        Phase::Hits => {
            let after = state.scanned_to.unwrap_or(i64::MIN);
            // The chunk ends at the ts of the chunk-th next event; all events of
            // that ts are taken, so the cursor can be a ts alone.
            let until: Option<i64> = tx
                .query_row(
                    "SELECT ts FROM user_events WHERE project_id = ?1 AND ts > ?2
                     ORDER BY ts LIMIT 1 OFFSET ?3",
                    params![project_id, after, limit - 1],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            run_ready(rollup::scan(&mut Writer(tx), &def, after, until))?;
            match until {
                Some(t) => state.scanned_to = Some(t),
                None => {
                    state.phase = Phase::Reach;
                    state.person = None;
                }
            }
        }
        Phase::Reach => {
            let per = people_per_chunk(chunk);
            let people: Vec<String> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT DISTINCT person FROM funnel_hits
                         WHERE project_id = ?1 AND funnel_id = ?2 AND (?3 IS NULL OR person > ?3)
                         ORDER BY person LIMIT ?4",
                    )
                    .map_err(err)?;
                let rows = stmt
                    .query_map(
                        params![project_id, funnel_id, state.person, per as i64],
                        |r| r.get(0),
                    )
                    .map_err(err)?;
                rows.collect::<Result<_, _>>().map_err(err)?
            };
            run_ready(rollup::recompute(&mut Writer(tx), &def, &people))?;
            if people.len() < per {
                state.phase = Phase::Ready;
            } else {
                state.person = people.last().cloned();
            }
        }
    }
    tx.execute(
        "UPDATE funnels SET build_phase = ?1, build_ts = ?2, build_person = ?3,
         build_first_ts = ?4, build_last_ts = ?5 WHERE project_id = ?6 AND id = ?7",
        params![
            state.phase.code(),
            state.scanned_to,
            state.person,
            state.first_ts,
            state.last_ts,
            project_id,
            funnel_id
        ],
    )
    .map_err(err)?;
    Ok(Some(state))
}
