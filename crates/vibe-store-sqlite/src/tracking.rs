use sqlx::SqlitePool;
use vibe_store::*;

use crate::err;

const USER_COLS: &str = "u.id, u.anonymous_id, u.user_id, u.email, u.name, u.plan, u.traits, u.first_seen, u.last_seen, u.device, u.browser, u.os, u.event_count";
const SESSION_COLS: &str = "s.id, s.site_user_id, s.started_at, s.last_seen_at, s.ended_at, s.entry_url, s.current_url, s.current_path, s.page_entered_at, s.referrer, s.page_count, s.device, s.browser, s.os";

pub async fn online_visitors(
    pool: &SqlitePool,
    project_id: &str,
    since_ms: i64,
) -> StoreResult<Vec<OnlineVisitor>> {
    sqlx::query_as(
        "SELECT s.id AS session_id, s.site_user_id, u.anonymous_id, u.user_id, u.email, u.name, u.traits,
                s.started_at, s.last_seen_at, s.current_url, s.current_path, s.current_title, s.page_entered_at,
                s.page_count, s.referrer, s.device, s.browser, s.os
         FROM site_sessions s JOIN site_users u ON u.project_id = s.project_id AND u.id = s.site_user_id
         WHERE s.project_id = ? AND s.last_seen_at >= ? AND s.ended_at IS NULL
         ORDER BY s.last_seen_at DESC, s.id LIMIT 10000",
    )
    .bind(project_id)
    .bind(since_ms)
    .fetch_all(pool)
    .await
    .map_err(err)
}

const ONLINE_COLS: &str = "s.id AS session_id, s.site_user_id, u.anonymous_id, u.user_id, u.email, u.name, u.traits,
     s.started_at, s.last_seen_at, s.current_url, s.current_path, s.current_title, s.page_entered_at,
     s.page_count, s.referrer, s.device, s.browser, s.os";

pub async fn online_visitors_in(
    pool: &SqlitePool,
    project_id: &str,
    since_ms: i64,
    session_ids: &[String],
) -> StoreResult<Vec<OnlineVisitor>> {
    let mut out = Vec::new();
    // Bounded IN lists keep under SQLite's bound-parameter limit.
    for chunk in session_ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "SELECT {ONLINE_COLS}
             FROM site_sessions s JOIN site_users u ON u.project_id = s.project_id AND u.id = s.site_user_id
             WHERE s.project_id = ? AND s.last_seen_at >= ? AND s.ended_at IS NULL AND s.id IN ({marks})"
        );
        let mut q = sqlx::query_as(&sql).bind(project_id).bind(since_ms);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(pool).await.map_err(err)?);
    }
    Ok(out)
}

pub async fn sessions_last_seen_between(
    pool: &SqlitePool,
    project_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT id FROM site_sessions WHERE project_id = ? AND last_seen_at >= ? AND last_seen_at < ?",
    )
    .bind(project_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn expire_sessions(pool: &SqlitePool, idle_before_ms: i64) -> StoreResult<u64> {
    // In chunks, each its own transaction: after a bulk import millions of sessions
    // can be due at once, and one statement would hold SQLite's only write lock
    // (and keep the collector waiting) for many seconds.
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

pub async fn site_user(
    pool: &SqlitePool,
    project_id: &str,
    id: &str,
) -> StoreResult<Option<SiteUser>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM site_users u WHERE u.project_id = ? AND u.id = ?"
    ))
    .bind(project_id)
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(err)
}

pub async fn site_user_for_anonymous_id(
    pool: &SqlitePool,
    project_id: &str,
    anon: &str,
) -> StoreResult<Option<SiteUser>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM site_user_aliases a JOIN site_users u ON u.project_id = a.project_id AND u.id = a.site_user_id
         WHERE a.project_id = ? AND a.anonymous_id = ?"
    ))
    .bind(project_id)
    .bind(anon)
    .fetch_optional(pool)
    .await
    .map_err(err)
}

pub async fn session(
    pool: &SqlitePool,
    project_id: &str,
    session_id: &str,
) -> StoreResult<Option<SiteSession>> {
    sqlx::query_as(&format!(
        "SELECT {SESSION_COLS} FROM site_sessions s WHERE s.project_id = ? AND s.id = ?"
    ))
    .bind(project_id)
    .bind(session_id)
    .fetch_optional(pool)
    .await
    .map_err(err)
}

pub async fn count_events(pool: &SqlitePool, project_id: &str) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM user_events WHERE project_id = ?")
        .bind(project_id)
        .fetch_one(pool)
        .await
        .map_err(err)
}

pub async fn events_for_session(
    pool: &SqlitePool,
    project_id: &str,
    session_id: &str,
) -> StoreResult<Vec<StoredEvent>> {
    sqlx::query_as(
        "SELECT id, kind, name, anonymous_id, user_id, session_id, url, path, props, ts FROM user_events
         WHERE project_id = ? AND session_id = ? ORDER BY ts, id",
    )
    .bind(project_id)
    .bind(session_id)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn recent_events(
    pool: &SqlitePool,
    project_id: &str,
    limit: i64,
) -> StoreResult<Vec<StoredEvent>> {
    sqlx::query_as(
        "SELECT id, kind, name, anonymous_id, user_id, session_id, url, path, props, ts FROM user_events
         WHERE project_id = ? ORDER BY ts DESC, id DESC LIMIT ?",
    )
    .bind(project_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(err)
}
