//! Funnel definitions and the events their conversion is computed from.

use sqlx::SqlitePool;
use vibe_store::funnel::{events_sql, Funnel, FunnelEvent, FunnelRow, FunnelStep};
use vibe_store::users::SqlValue;
use vibe_store::*;

use crate::err;

fn steps_json(f: &Funnel) -> String {
    serde_json::to_string(&f.steps).unwrap_or_else(|_| "[]".into())
}

pub async fn create(pool: &SqlitePool, project_id: &str, f: &Funnel) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO funnels (id, project_id, name, steps, window_days, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&f.id)
    .bind(project_id)
    .bind(&f.name)
    .bind(steps_json(f))
    .bind(f.window_days)
    .bind(f.created_at)
    .bind(f.updated_at)
    .execute(pool)
    .await
    .map_err(err)?;
    Ok(())
}

pub async fn list(pool: &SqlitePool, project_id: &str) -> StoreResult<Vec<Funnel>> {
    let rows: Vec<FunnelRow> = sqlx::query_as(
        "SELECT id, name, steps, window_days, created_at, updated_at FROM funnels WHERE project_id = ?1 ORDER BY created_at, id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(rows.into_iter().map(Funnel::from).collect())
}

pub async fn get(
    pool: &SqlitePool,
    project_id: &str,
    funnel_id: &str,
) -> StoreResult<Option<Funnel>> {
    let row: Option<FunnelRow> = sqlx::query_as(
        "SELECT id, name, steps, window_days, created_at, updated_at FROM funnels WHERE project_id = ?1 AND id = ?2",
    )
    .bind(project_id)
    .bind(funnel_id)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    Ok(row.map(Funnel::from))
}

pub async fn update(pool: &SqlitePool, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE funnels SET name = ?1, steps = ?2, window_days = ?3, updated_at = ?4 WHERE project_id = ?5 AND id = ?6",
    )
    .bind(&f.name)
    .bind(steps_json(f))
    .bind(f.window_days)
    .bind(f.updated_at)
    .bind(project_id)
    .bind(&f.id)
    .execute(pool)
    .await
    .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete(pool: &SqlitePool, project_id: &str, funnel_id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM funnels WHERE project_id = ?1 AND id = ?2")
        .bind(project_id)
        .bind(funnel_id)
        .execute(pool)
        .await
        .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn events(
    pool: &SqlitePool,
    project_id: &str,
    steps: &[FunnelStep],
    from_ms: i64,
    to_ms: i64,
) -> StoreResult<Vec<FunnelEvent>> {
    let (sql, args) = events_sql(project_id, steps, from_ms, to_ms);
    let mut q = sqlx::query_as::<_, FunnelEvent>(&sql);
    for a in args {
        q = match a {
            SqlValue::Text(s) => q.bind(s),
            SqlValue::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(pool).await.map_err(err)
}
