//! Reads of the rollup tables. Their cost depends on days and active people in
//! the range, never on the number of raw events.

use sqlx::{PgPool, Postgres, QueryBuilder};
use vibe_store::ingest::shaped_chunks;
use vibe_store::rollup::DailyStats;
use vibe_store::rollup::{RollupInputs, SessionState};
use vibe_store::*;

use crate::err;

pub async fn daily_stats(
    pool: &PgPool,
    project_id: &str,
    from_day: &str,
    to_day: &str,
) -> StoreResult<Vec<DailyStats>> {
    sqlx::query_as(
        "SELECT day, active_users, new_users, sessions, pageviews, events, session_ms, bounces, churn_base, churned FROM daily_stats
         WHERE project_id = $1 AND day >= $2 AND day <= $3
           AND (active_users <> 0 OR new_users <> 0 OR sessions <> 0 OR pageviews <> 0 OR events <> 0 OR churn_base <> 0)
         ORDER BY day",
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
        // Two range scans of the primary key and a set difference: linear in the
        // activity of the two weeks, whatever the plan of a correlated subquery.
        "SELECT
            (SELECT COUNT(DISTINCT site_user_id) FROM user_days WHERE project_id = $1 AND day >= $2 AND day <= $3),
            (SELECT COUNT(*) FROM (
                SELECT site_user_id FROM user_days WHERE project_id = $1 AND day >= $2 AND day <= $3
                EXCEPT
                SELECT site_user_id FROM user_days WHERE project_id = $1 AND day >= $4 AND day <= $5) gone)",
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

pub async fn rollup_inputs(
    pool: &PgPool,
    project_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> StoreResult<RollupInputs> {
    // Events belong to the person their anonymous id maps to now (merges re-point
    // aliases), or — without one — to the person of their user id.
    let events: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT e.ts, e.kind, COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id)
         FROM user_events e
         LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
         LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
         WHERE e.project_id = $1 AND e.ts >= $2 AND e.ts < $3",
    )
    .bind(project_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let sessions: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT started_at, last_seen_at, page_count FROM site_sessions
         WHERE project_id = $1 AND started_at >= $2 AND started_at < $3",
    )
    .bind(project_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let first_seen: Vec<i64> = sqlx::query_scalar(
        "SELECT first_seen FROM site_users WHERE project_id = $1 AND first_seen >= $2 AND first_seen < $3",
    )
    .bind(project_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(RollupInputs {
        events,
        sessions: sessions
            .into_iter()
            .map(|(started_at, last_seen_at, page_count)| SessionState {
                started_at,
                last_seen_at,
                page_count,
            })
            .collect(),
        first_seen,
    })
}

pub async fn replace_rollups(
    pool: &PgPool,
    project_id: &str,
    from_day: &str,
    to_day: &str,
    stats: &[DailyStats],
    user_days: &[(String, String)],
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    for table in ["daily_stats", "user_days"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE project_id = $1 AND day >= $2 AND day <= $3"
        ))
        .bind(project_id)
        .bind(from_day)
        .bind(to_day)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    for chunk in shaped_chunks(stats) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO daily_stats (project_id, day, active_users, new_users, sessions, pageviews, events, session_ms, bounces, churn_base, churned) ",
        );
        q.push_values(chunk, |mut b, s| {
            b.push_bind(project_id)
                .push_bind(&s.day)
                .push_bind(s.active_users)
                .push_bind(s.new_users)
                .push_bind(s.sessions)
                .push_bind(s.pageviews)
                .push_bind(s.events)
                .push_bind(s.session_ms)
                .push_bind(s.bounces)
                .push_bind(s.churn_base)
                .push_bind(s.churned);
        });
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    for chunk in shaped_chunks(user_days) {
        let mut q =
            QueryBuilder::<Postgres>::new("INSERT INTO user_days (project_id, day, site_user_id) ");
        q.push_values(chunk, |mut b, (day, person)| {
            b.push_bind(project_id).push_bind(day).push_bind(person);
        });
        q.build().execute(&mut *tx).await.map_err(err)?;
    }
    tx.commit().await.map_err(err)
}

pub async fn event_time_bounds(pool: &PgPool, project_id: &str) -> StoreResult<Option<(i64, i64)>> {
    let row: (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(ts), MAX(ts) FROM user_events WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(pool)
            .await
            .map_err(err)?;
    Ok(row.0.zip(row.1))
}

pub async fn replace_churn(
    pool: &PgPool,
    project_id: &str,
    from_day: &str,
    to_day: &str,
    rows: &[(String, i64, i64)],
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    sqlx::query(
        "UPDATE daily_stats SET churn_base = 0, churned = 0 WHERE project_id = $1 AND day >= $2 AND day <= $3",
    )
    .bind(project_id)
    .bind(from_day)
    .bind(to_day)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    for (day, base, churned) in rows {
        sqlx::query(
            "INSERT INTO daily_stats (project_id, day, churn_base, churned) VALUES ($1, $2, $3, $4)
             ON CONFLICT (project_id, day) DO UPDATE SET churn_base = excluded.churn_base, churned = excluded.churned",
        )
        .bind(project_id)
        .bind(day)
        .bind(base)
        .bind(churned)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    tx.commit().await.map_err(err)
}

pub async fn pending_rebuilds(pool: &PgPool) -> StoreResult<Vec<String>> {
    sqlx::query_scalar("SELECT project_id FROM rollup_rebuilds ORDER BY project_id")
        .fetch_all(pool)
        .await
        .map_err(err)
}

pub async fn rebuild_done(pool: &PgPool, project_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM rollup_rebuilds WHERE project_id = $1")
        .bind(project_id)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(())
}
