//! Background funnel builds on PostgreSQL (`vibe_store::funnel_build`). Every
//! chunk is one transaction that first takes the locks ingest's writes conflict
//! with (SHARE ROW EXCLUSIVE), so a chunk and an ingest batch never interleave —
//! for the milliseconds a chunk takes. The chunk waits at most `lock_timeout`
//! for them (shorter than `deadlock_timeout`), so if it ever stands in a lock
//! cycle with an ingest batch, the chunk gives up, not the batch.

use std::time::Instant;

use sqlx::{PgConnection, PgPool};
use vibe_store::funnel::FunnelStep;
use vibe_store::funnel_build::{people_per_chunk, BuildState, ChunkDone, Phase};
use vibe_store::funnel_rollup::io as rollup;
use vibe_store::funnel_rollup::FunnelDef;
use vibe_store::StoreResult;

use crate::err;
use crate::ingest::Tx;

const ROLLUP_TABLES: [&str; 3] = ["funnel_hits", "funnel_reach", "funnel_reach_hours"];

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
    let (first, last) = event_bounds(tx, project_id).await?;
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

async fn event_bounds(
    tx: &mut PgConnection,
    project_id: &str,
) -> StoreResult<(Option<i64>, Option<i64>)> {
    sqlx::query_as("SELECT MIN(ts), MAX(ts) FROM user_events WHERE project_id = $1")
        .bind(project_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(err)
}

type StateRow = (i64, Option<i64>, Option<String>, Option<i64>, Option<i64>);
/// A funnel's id and its build columns.
type IdStateRow = (
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);
/// Steps, window and build columns.
type DefStateRow = (
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn state_of((phase, ts, person, first, last): StateRow) -> BuildState {
    BuildState {
        phase: Phase::from_code(phase),
        scanned_to: ts,
        person,
        first_ts: first,
        last_ts: last,
    }
}

pub async fn states(pool: &PgPool, project_id: &str) -> StoreResult<Vec<(String, BuildState)>> {
    let rows: Vec<IdStateRow> = sqlx::query_as(
        "SELECT id, build_phase, build_ts, build_person, build_first_ts, build_last_ts
             FROM funnels WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(rows
        .into_iter()
        .map(|(id, a, b, c, d, e)| (id, state_of((a, b, c, d, e))))
        .collect())
}

pub async fn pending(pool: &PgPool) -> StoreResult<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT project_id, id FROM funnels WHERE build_phase <> 3 ORDER BY updated_at, id",
    )
    .fetch_all(pool)
    .await
    .map_err(err)
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
) -> StoreResult<Option<BuildState>> {
    let row: Option<DefStateRow> =
        sqlx::query_as(
            "SELECT steps, window_days, build_phase, build_ts, build_person, build_first_ts, build_last_ts
             FROM funnels WHERE project_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(project_id)
        .bind(funnel_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
    let Some((steps, window_days, phase, ts, person, first, last)) = row else {
        return Ok(None);
    };
    let mut state = state_of((phase, ts, person, first, last));
    if state.is_ready() {
        return Ok(Some(state));
    }
    let def = FunnelDef {
        id: funnel_id.to_owned(),
        project_id: project_id.to_owned(),
        steps: serde_json::from_str::<Vec<FunnelStep>>(&steps).unwrap_or_default(),
        window_ms: window_days * 86_400_000,
    };
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
    let limit = chunk as i64;
    match state.phase {
        Phase::Ready => {}
        Phase::Clear => {
            let mut all_gone = true;
            for table in ROLLUP_TABLES {
                let deleted = sqlx::query(&format!(
                    "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table}
                     WHERE project_id = $1 AND funnel_id = $2 LIMIT $3)"
                ))
                .bind(project_id)
                .bind(funnel_id)
                .bind(limit)
                .execute(&mut *tx)
                .await
                .map_err(err)?
                .rows_affected();
                all_gone &= (deleted as i64) < limit;
            }
            if all_gone {
                // Empty now, and nothing interleaves before the commit.
                let (first, last) = event_bounds(tx, project_id).await?;
                state = state_of((Phase::Hits.code(), None, None, first, last));
            }
        }
        Phase::Hits => {
            let after = state.scanned_to.unwrap_or(i64::MIN);
            // The chunk ends at the ts of the chunk-th next event; all events of
            // that ts are taken, so the cursor can be a ts alone.
            let until: Option<i64> = sqlx::query_scalar(
                "SELECT ts FROM user_events WHERE project_id = $1 AND ts > $2
                 ORDER BY ts LIMIT 1 OFFSET $3",
            )
            .bind(project_id)
            .bind(after)
            .bind(limit - 1)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            rollup::scan(&mut Tx(tx), &def, after, until).await?;
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
            let people: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT person FROM funnel_hits
                 WHERE project_id = $1 AND funnel_id = $2 AND ($3::text IS NULL OR person > $3)
                 ORDER BY person LIMIT $4",
            )
            .bind(project_id)
            .bind(funnel_id)
            .bind(&state.person)
            .bind(per as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
            rollup::recompute(&mut Tx(tx), &def, &people).await?;
            if people.len() < per {
                state.phase = Phase::Ready;
            } else {
                state.person = people.last().cloned();
            }
        }
    }
    sqlx::query(
        "UPDATE funnels SET build_phase = $1, build_ts = $2, build_person = $3,
         build_first_ts = $4, build_last_ts = $5 WHERE project_id = $6 AND id = $7",
    )
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
