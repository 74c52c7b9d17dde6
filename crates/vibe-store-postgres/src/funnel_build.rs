//! Background funnel builds on PostgreSQL (`vibe_store::funnel_build`). Every
//! chunk is one transaction that first takes the locks ingest's writes conflict
//! with (SHARE ROW EXCLUSIVE), so a chunk and an ingest batch never interleave —
//! for the milliseconds a chunk takes. The chunk waits at most `lock_timeout`
//! for them (shorter than `deadlock_timeout`), so if it ever stands in a lock
//! cycle with an ingest batch, the chunk gives up, not the batch.

use std::time::Instant;

use sqlx::{PgConnection, PgPool};
use vibe_store::funnel_build::io::{self as build, BuildIo, FunnelRow, SAVE_STATE};
use vibe_store::funnel_build::{ChunkDone, Phase};
use vibe_store::funnel_rollup::FunnelDef;
use vibe_store::StoreResult;

use crate::err;
use crate::ingest::Tx;

/// Marks a funnel building, inside the transaction that stored its definition.
/// A new funnel has no rollup rows and starts scanning; an edited one first
/// clears the rows of its old definition.
pub async fn start(
    tx: &mut PgConnection,
    project_id: &str,
    funnel_id: &str,
    fresh: bool,
) -> StoreResult<()> {
    let phase = if fresh { Phase::Hits } else { Phase::Clear };
    let (first, last) = Tx(tx).event_bounds(project_id).await?;
    // `rollup_ready` is a BOOLEAN here, an INTEGER 0/1 on SQLite.
    let sql = "UPDATE funnels SET rollup_ready = TRUE, build_phase = $1, build_ts = NULL, build_person = NULL,
         build_first_ts = $2, build_last_ts = $3 WHERE project_id = $4 AND id = $5";
    let params = (phase.code(), first, last, project_id, funnel_id);
    Tx(tx).exec(sql, params).await.map(drop)
}

/// One chunk of a funnel's build, in its own transaction.
pub async fn chunk(
    pool: &PgPool,
    project_id: &str,
    funnel_id: &str,
    chunk: usize,
) -> StoreResult<ChunkDone> {
    let mut tx = pool.begin().await.map_err(err)?;
    let began = Instant::now();
    let state = step(&mut tx, project_id, funnel_id, chunk.max(1)).await?;
    tx.commit().await.map_err(err)?;
    Ok(ChunkDone {
        state,
        held: began.elapsed(),
    })
}

async fn step(
    tx: &mut PgConnection,
    project_id: &str,
    funnel_id: &str,
    chunk: usize,
) -> StoreResult<Option<vibe_store::funnel_build::BuildState>> {
    let mut tx = Tx(tx);
    let sql = format!("{} FOR UPDATE", build::FUNNEL_ROW);
    let row: Option<FunnelRow> = tx.row(&sql, (project_id, funnel_id)).await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (def, mut state) = build::of_funnel_row(project_id, funnel_id, row);
    if state.is_ready() {
        return Ok(Some(state));
    }
    tx.exec("SET LOCAL lock_timeout = '500ms'", ()).await?;
    // Resolving people while scanning must not race a merge that has changed
    // aliases but not yet moved hits, so the scan also locks the identity
    // tables (in the order ingest writes them).
    let locks = if state.phase == Phase::Hits {
        "LOCK TABLE site_user_aliases, site_users, funnel_hits, funnel_reach, funnel_reach_hours IN SHARE ROW EXCLUSIVE MODE"
    } else {
        "LOCK TABLE funnel_hits, funnel_reach, funnel_reach_hours IN SHARE ROW EXCLUSIVE MODE"
    };
    tx.exec(locks, ()).await?;
    build::advance(&mut tx, &def, &mut state, chunk).await?;
    tx.exec(SAVE_STATE, state.saved(project_id, funnel_id))
        .await?;
    Ok(Some(state))
}

impl BuildIo for Tx<'_> {
    async fn clear_some(&mut self, table: &str, def: &FunnelDef, limit: i64) -> StoreResult<u64> {
        // PostgreSQL has no DELETE … LIMIT; rows are picked by ctid.
        let sql = format!(
            "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table}
             WHERE project_id = $1 AND funnel_id = $2 LIMIT $3)"
        );
        self.exec(&sql, (&def.project_id, &def.id, limit)).await
    }
}
