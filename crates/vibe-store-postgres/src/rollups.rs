//! Reads of the rollup tables. Their cost depends on days and active people in
//! the range, never on the number of raw events.

use sqlx::PgPool;
use vibe_store::rollup::DailyStats;
use vibe_store::*;

use crate::err;

pub async fn daily_stats(
    pool: &PgPool,
    project_id: &str,
    from_day: &str,
    to_day: &str,
) -> StoreResult<Vec<DailyStats>> {
    sqlx::query_as(
        "SELECT day, active_users, new_users, sessions, pageviews, events, session_ms, bounces FROM daily_stats
         WHERE project_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
    )
    .bind(project_id)
    .bind(from_day)
    .bind(to_day)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn online_at(
    pool: &PgPool,
    project_id: &str,
    at_ms: i64,
    window_ms: i64,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM site_sessions
         WHERE project_id = $1 AND started_at > $2 - 86400000 AND started_at <= $2
           AND last_seen_at >= $2 - $3 AND (ended_at IS NULL OR ended_at >= $2)",
    )
    .bind(project_id)
    .bind(at_ms)
    .bind(window_ms)
    .fetch_one(pool)
    .await
    .map_err(err)
}

pub async fn churn_counts(
    pool: &PgPool,
    project_id: &str,
    prev: (&str, &str),
    cur: (&str, &str),
) -> StoreResult<(i64, i64)> {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN NOT EXISTS (
                SELECT 1 FROM user_days c WHERE c.project_id = $1 AND c.site_user_id = a.site_user_id
                AND c.day >= $4 AND c.day <= $5) THEN 1 ELSE 0 END), 0)
         FROM (SELECT DISTINCT site_user_id FROM user_days
               WHERE project_id = $1 AND day >= $2 AND day <= $3) a",
    )
    .bind(project_id)
    .bind(prev.0)
    .bind(prev.1)
    .bind(cur.0)
    .bind(cur.1)
    .fetch_one(pool)
    .await
    .map_err(err)
}

pub async fn user_days(pool: &PgPool, project_id: &str) -> StoreResult<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT day, site_user_id FROM user_days WHERE project_id = $1 ORDER BY day, site_user_id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn count_online(pool: &PgPool, project_id: &str, since_ms: i64) -> StoreResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM site_sessions WHERE project_id = $1 AND last_seen_at >= $2 AND ended_at IS NULL",
    )
    .bind(project_id)
    .bind(since_ms)
    .fetch_one(pool)
    .await
    .map_err(err)
}
