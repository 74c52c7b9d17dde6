//! The presence statements that differ from PostgreSQL's.

use sqlx::SqlitePool;
use vibe_store::db::err;
use vibe_store::tracking::{ONLINE_COLS, ONLINE_FROM};
use vibe_store::*;

pub async fn online_visitors_in(
    pool: &SqlitePool,
    project_id: &str,
    since_ms: i64,
    session_ids: &[String],
) -> StoreResult<Vec<OnlineVisitor>> {
    let mut out = Vec::new();
    // SQLite has no arrays (PostgreSQL binds one `= ANY($3)`): bounded IN lists
    // keep under SQLite's bound-parameter limit.
    for chunk in session_ids.chunks(500) {
        let marks = (3..3 + chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!("SELECT {ONLINE_COLS} {ONLINE_FROM} AND s.id IN ({marks})");
        let mut q = sqlx::query_as(&sql).bind(project_id).bind(since_ms);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(pool).await.map_err(err)?);
    }
    Ok(out)
}

pub async fn expire_sessions(pool: &SqlitePool, idle_before_ms: i64) -> StoreResult<u64> {
    // In chunks, each its own transaction (PostgreSQL runs one statement): after a
    // bulk import millions of sessions can be due at once, and one statement would
    // hold SQLite's only write lock (and keep the collector waiting) for many seconds.
    const CHUNK: i64 = 5_000;
    let mut total = 0;
    loop {
        let done = sqlx::query(
            "UPDATE site_sessions SET ended_at = last_seen_at WHERE rowid IN (
                SELECT rowid FROM site_sessions
                WHERE project_id IN (SELECT id FROM projects) AND last_seen_at < ?1 AND ended_at IS NULL
                LIMIT ?2)",
        )
        .bind(idle_before_ms)
        .bind(CHUNK)
        .execute(pool)
        .await
        .map_err(err)?;
        total += done.rows_affected();
        if done.rows_affected() < CHUNK as u64 {
            return Ok(total);
        }
    }
}
