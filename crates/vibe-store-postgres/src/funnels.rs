//! Funnel definitions and the events their conversion is computed from.

use sqlx::PgPool;
use vibe_store::db::err;
use vibe_store::funnel::{Funnel, FunnelRow};
use vibe_store::funnel_rollup::io as rollup;
use vibe_store::funnels::sql::{self, steps_json};
use vibe_store::*;

use crate::funnel_build;
use crate::ingest::Tx;

/// Stores a funnel and marks its rollup building.
pub async fn create(pool: &PgPool, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    sqlx::query(sql::INSERT)
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

/// Replaces a funnel's definition and marks its rollup for rebuilding.
pub async fn update(pool: &PgPool, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    let done = sqlx::query(sql::UPDATE)
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
    let done = sqlx::query(sql::DELETE)
        .bind(project_id)
        .bind(funnel_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    for statement in sql::DELETE_ROLLUP {
        sqlx::query(statement)
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
        // `rollup_ready` is a BOOLEAN here, an INTEGER 0/1 on SQLite.
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
        rollup::rebuild(&mut Tx(&mut tx), project_id, &f).await?;
        tx.commit().await.map_err(err)?;
    }
    Ok(rows.len())
}
