//! Funnel definitions and the events their conversion is computed from.

use sqlx::PgPool;
use vibe_store::funnel::MAX_STEPS;
use vibe_store::funnel::{events_sql, Funnel, FunnelEvent, FunnelRow, FunnelStep};
use vibe_store::funnel_rollup::{hour_of, sum_counts, HOUR_MS};
use vibe_store::users::SqlValue;
use vibe_store::*;

use crate::{err, funnel_build, funnel_rollup};

fn steps_json(f: &Funnel) -> String {
    serde_json::to_string(&f.steps).unwrap_or_else(|_| "[]".into())
}

/// Stores a funnel and marks its rollup building.
pub async fn create(pool: &PgPool, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    sqlx::query(
        "INSERT INTO funnels (id, project_id, name, steps, window_days, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&f.id)
    .bind(project_id)
    .bind(&f.name)
    .bind(steps_json(f))
    .bind(f.window_days)
    .bind(f.created_at)
    .bind(f.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    funnel_build::start(&mut tx, project_id, &f.id, true).await?;
    tx.commit().await.map_err(err)
}

pub async fn list(pool: &PgPool, project_id: &str) -> StoreResult<Vec<Funnel>> {
    let rows: Vec<FunnelRow> = sqlx::query_as(
        "SELECT id, name, steps, window_days, created_at, updated_at FROM funnels WHERE project_id = $1 ORDER BY created_at, id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(rows.into_iter().map(Funnel::from).collect())
}

pub async fn get(pool: &PgPool, project_id: &str, funnel_id: &str) -> StoreResult<Option<Funnel>> {
    let row: Option<FunnelRow> = sqlx::query_as(
        "SELECT id, name, steps, window_days, created_at, updated_at FROM funnels WHERE project_id = $1 AND id = $2",
    )
    .bind(project_id)
    .bind(funnel_id)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    Ok(row.map(Funnel::from))
}

/// Replaces a funnel's definition and marks its rollup for rebuilding.
pub async fn update(pool: &PgPool, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    let done = sqlx::query(
        "UPDATE funnels SET name = $1, steps = $2, window_days = $3, updated_at = $4 WHERE project_id = $5 AND id = $6",
    )
    .bind(&f.name)
    .bind(steps_json(f))
    .bind(f.window_days)
    .bind(f.updated_at)
    .bind(project_id)
    .bind(&f.id)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    funnel_build::start(&mut tx, project_id, &f.id, false).await?;
    tx.commit().await.map_err(err)
}

pub async fn delete(pool: &PgPool, project_id: &str, funnel_id: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    let done = sqlx::query("DELETE FROM funnels WHERE project_id = $1 AND id = $2")
        .bind(project_id)
        .bind(funnel_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    for sql in [
        "DELETE FROM funnel_hits WHERE project_id = $1 AND funnel_id = $2",
        "DELETE FROM funnel_reach WHERE project_id = $1 AND funnel_id = $2",
        "DELETE FROM funnel_reach_hours WHERE project_id = $1 AND funnel_id = $2",
    ] {
        sqlx::query(sql)
            .bind(project_id)
            .bind(funnel_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    tx.commit().await.map_err(err)
}

/// Rebuilds funnel rollups, one funnel per transaction.
pub async fn rebuild_all(
    pool: &PgPool,
    project_id: Option<&str>,
    only_unbuilt: bool,
) -> StoreResult<usize> {
    let rows: Vec<(String, String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT project_id, id, name, steps, window_days, created_at, updated_at FROM funnels
         WHERE ($1::text IS NULL OR project_id = $1) AND (NOT $2 OR NOT rollup_ready)",
    )
    .bind(project_id)
    .bind(only_unbuilt)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    for (project_id, id, name, steps, window_days, created_at, updated_at) in &rows {
        let f = Funnel::from(FunnelRow {
            id: id.clone(),
            name: name.clone(),
            steps: steps.clone(),
            window_days: *window_days,
            created_at: *created_at,
            updated_at: *updated_at,
        });
        let mut tx = pool.begin().await.map_err(err)?;
        funnel_rollup::rebuild(&mut tx, project_id, &f).await?;
        tx.commit().await.map_err(err)?;
    }
    Ok(rows.len())
}

/// `(k, people)` from the rollup (see `Store::funnel_reach_counts`): whole hours
/// from the hour buckets, the first hour from the rows.
pub async fn reach_counts(
    pool: &PgPool,
    project_id: &str,
    funnel_id: &str,
    from_ms: i64,
) -> StoreResult<Vec<(i64, i64)>> {
    let hour = hour_of(from_ms);
    let whole: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT step, SUM(people)::int8 FROM funnel_reach_hours
         WHERE project_id = $1 AND funnel_id = $2 AND hour > $3 GROUP BY step",
    )
    .bind(project_id)
    .bind(funnel_id)
    .bind(hour)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    // Naming every step lets the (…, step, last_start) index seek each step's range
    // instead of reading the funnel's whole key prefix.
    let steps = (1..=MAX_STEPS)
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let first: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT step, COUNT(*) FROM funnel_reach
         WHERE project_id = $1 AND funnel_id = $2 AND step IN ({steps}) AND last_start >= $3 AND last_start < $4
         GROUP BY step"
    ))
    .bind(project_id)
    .bind(funnel_id)
    .bind(from_ms)
    .bind((hour + 1).saturating_mul(HOUR_MS))
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(sum_counts(&whole, &first))
}

pub async fn events(
    pool: &PgPool,
    project_id: &str,
    steps: &[FunnelStep],
    from_ms: i64,
    to_ms: i64,
) -> StoreResult<Vec<FunnelEvent>> {
    let (sql, args) = events_sql(project_id, steps, from_ms, to_ms);
    let sql = vibe_store::users::numbered_placeholders(&sql);
    let mut q = sqlx::query_as::<_, FunnelEvent>(&sql);
    for a in args {
        q = match a {
            SqlValue::Text(s) => q.bind(s),
            SqlValue::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(pool).await.map_err(err)
}
