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
    sqlx::query(
        "UPDATE funnels SET rollup_ready = TRUE, build_phase = $1, build_ts = NULL, build_person = NULL,
         build_first_ts = $2, build_last_ts = $3 WHERE project_id = $4 AND id = $5",
    )
    .bind(phase.code())
    .bind(first)
    .bind(last)
    .bind(project_id)
    .bind(funnel_id)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    Ok(())
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
    let row: Option<FunnelRow> = sqlx::query_as(&format!("{} FOR UPDATE", build::FUNNEL_ROW))
        .bind(project_id)
        .bind(funnel_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (def, mut state) = build::of_funnel_row(project_id, funnel_id, row);
    if state.is_ready() {
        return Ok(Some(state));
    }
    sqlx::query("SET LOCAL lock_timeout = '500ms'")
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    // Resolving people while scanning must not race a merge that has changed
    // aliases but not yet moved hits, so the scan also locks the identity
    // tables (in the order ingest writes them).
    let locks = if state.phase == Phase::Hits {
        "LOCK TABLE site_user_aliases, site_users, funnel_hits, funnel_reach, funnel_reach_hours IN SHARE ROW EXCLUSIVE MODE"
    } else {
        "LOCK TABLE funnel_hits, funnel_reach, funnel_reach_hours IN SHARE ROW EXCLUSIVE MODE"
    };
    sqlx::query(locks).execute(&mut *tx).await.map_err(err)?;
    build::advance(&mut Tx(tx), &def, &mut state, chunk).await?;
    sqlx::query(SAVE_STATE)
        .bind(state.phase.code())
        .bind(state.scanned_to)
        .bind(&state.person)
        .bind(state.first_ts)
        .bind(state.last_ts)
        .bind(project_id)
        .bind(funnel_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    Ok(Some(state))
}

impl BuildIo for Tx<'_> {
    async fn clear_some(&mut self, table: &str, def: &FunnelDef, limit: i64) -> StoreResult<u64> {
        // PostgreSQL has no DELETE … LIMIT; rows are picked by ctid.
        let sql = format!(
            "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table}
             WHERE project_id = $1 AND funnel_id = $2 LIMIT $3)"
        );
        let done = sqlx::query(&sql)
            .bind(&def.project_id)
            .bind(&def.id)
            .bind(limit)
            .execute(&mut *self.0)
            .await
            .map_err(err)?;
        Ok(done.rows_affected())
    }

    async fn event_bounds(&mut self, project_id: &str) -> StoreResult<(Option<i64>, Option<i64>)> {
        sqlx::query_as(build::EVENT_BOUNDS)
            .bind(project_id)
            .fetch_one(&mut *self.0)
            .await
            .map_err(err)
    }

    async fn chunk_end(
        &mut self,
        project_id: &str,
        after: i64,
        skip: i64,
    ) -> StoreResult<Option<i64>> {
        sqlx::query_scalar(build::CHUNK_END)
            .bind(project_id)
            .bind(after)
            .bind(skip)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(err)
    }

    async fn people_after(
        &mut self,
        def: &FunnelDef,
        after: Option<&str>,
        per: i64,
    ) -> StoreResult<Vec<String>> {
        // The cast types `$3`, which PostgreSQL cannot infer from `IS NULL`.
        sqlx::query_scalar(
            "SELECT DISTINCT person FROM funnel_hits
             WHERE project_id = $1 AND funnel_id = $2 AND ($3::text IS NULL OR person > $3)
             ORDER BY person LIMIT $4",
        )
        .bind(&def.project_id)
        .bind(&def.id)
        .bind(after)
        .bind(per)
        .fetch_all(&mut *self.0)
        .await
        .map_err(err)
    }
}
