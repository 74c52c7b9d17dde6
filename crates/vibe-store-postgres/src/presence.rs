//! The presence statements that differ from SQLite's.

use sqlx::PgPool;
use vibe_store::db::err;
use vibe_store::tracking::{ONLINE_COLS, ONLINE_FROM};
use vibe_store::*;

pub async fn online_visitors_in(
    pool: &PgPool,
    project_id: &str,
    since_ms: i64,
    session_ids: &[String],
) -> StoreResult<Vec<OnlineVisitor>> {
    // One array parameter (SQLite has none and binds IN lists): one statement shape
    // whatever the number of sessions.
    let sql = format!("SELECT {ONLINE_COLS} {ONLINE_FROM} AND s.id = ANY($3)");
    sqlx::query_as(&sql)
        .bind(project_id)
        .bind(since_ms)
        .bind(session_ids)
        .fetch_all(pool)
        .await
        .map_err(err)
}

pub async fn expire_sessions(pool: &PgPool, idle_before_ms: i64) -> StoreResult<u64> {
    // One statement (SQLite works in chunks so as not to hold its only write lock):
    // per project, so the (project_id, last_seen_at) index serves the range.
    let done = sqlx::query(
        "UPDATE site_sessions SET ended_at = last_seen_at
         WHERE project_id IN (SELECT id FROM projects) AND last_seen_at < $1 AND ended_at IS NULL",
    )
    .bind(idle_before_ms)
    .execute(pool)
    .await
    .map_err(err)?;
    Ok(done.rows_affected())
}
