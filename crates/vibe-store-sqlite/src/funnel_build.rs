//! Background funnel builds on SQLite (`vibe_store::funnel_build`). Every chunk is
//! one IMMEDIATE transaction on the writer connection, so it serialises with
//! ingest batches but holds the writer only as long as one chunk takes.

use std::time::Instant;

use rusqlite::{params, Transaction};
use vibe_store::funnel_build::io::{self as build, BuildIo, FunnelRow, SAVE_STATE};
use vibe_store::funnel_build::{BuildState, ChunkDone, Phase};
use vibe_store::funnel_rollup::FunnelDef;
use vibe_store::ingest::io::run_ready;
use vibe_store::StoreResult;

use crate::ingest::Writer;
use crate::sql::{err, execute_numbered, optional};

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
    let (first, last) = run_ready(Writer(tx).event_bounds(project_id))?;
    // `rollup_ready` is an INTEGER 0/1 here, a BOOLEAN on PostgreSQL.
    tx.execute(
        "UPDATE funnels SET rollup_ready = 1, build_phase = ?1, build_ts = NULL, build_person = NULL,
         build_first_ts = ?2, build_last_ts = ?3 WHERE project_id = ?4 AND id = ?5",
        params![phase.code(), first, last, project_id, funnel_id],
    )
    .map_err(err)?;
    Ok(())
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
    let row: Option<FunnelRow> = optional(tx, build::FUNNEL_ROW, &[&project_id, &funnel_id])?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (def, mut state) = build::of_funnel_row(project_id, funnel_id, row);
    if state.is_ready() {
        return Ok(Some(state));
    }
    run_ready(build::advance(&mut Writer(tx), &def, &mut state, chunk))?;
    let (phase, ts, person, first, last, p, f) = state.saved(project_id, funnel_id);
    execute_numbered(
        tx,
        SAVE_STATE,
        &[&phase, &ts, &person, &first, &last, &p, &f],
    )?;
    Ok(Some(state))
}

impl BuildIo for Writer<'_, '_> {
    async fn clear_some(&mut self, table: &str, def: &FunnelDef, limit: i64) -> StoreResult<u64> {
        // SQLite's DELETE has no LIMIT unless compiled with it; rows are picked by rowid.
        let sql = format!(
            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table}
             WHERE project_id = ?1 AND funnel_id = ?2 LIMIT ?3)"
        );
        let deleted = self
            .0
            .execute(&sql, params![def.project_id, def.id, limit])
            .map_err(err)?;
        Ok(deleted as u64)
    }
}
