//! Funnel definitions and the events their conversion is computed from.

use sqlx::SqlitePool;
use vibe_store::funnel::MAX_STEPS;
use vibe_store::funnel::{events_sql, Funnel, FunnelEvent, FunnelRow, FunnelStep};
use vibe_store::funnel_rollup::{hour_of, sum_counts, HOUR_MS};
use vibe_store::users::SqlValue;
use vibe_store::*;

use crate::{err, funnel_build, funnel_rollup, ingest};

fn steps_json(f: &Funnel) -> String {
    serde_json::to_string(&f.steps).unwrap_or_else(|_| "[]".into())
}

/// Stores a funnel and marks its rollup building, on the writer connection.
pub fn create(conn: &mut rusqlite::Connection, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let tx = writer_tx(conn)?;
    tx.execute(
        "INSERT INTO funnels (id, project_id, name, steps, window_days, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            f.id,
            project_id,
            f.name,
            steps_json(f),
            f.window_days,
            f.created_at,
            f.updated_at
        ],
    )
    .map_err(ingest::err)?;
    funnel_build::start(&tx, project_id, &f.id, true)?;
    tx.commit().map_err(ingest::err)
}

fn writer_tx(conn: &mut rusqlite::Connection) -> StoreResult<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(ingest::err)
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

/// Replaces a funnel's definition and marks its rollup for rebuilding.
pub fn update(conn: &mut rusqlite::Connection, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let tx = writer_tx(conn)?;
    let changed = tx
        .execute(
            "UPDATE funnels SET name = ?1, steps = ?2, window_days = ?3, updated_at = ?4 WHERE project_id = ?5 AND id = ?6",
            rusqlite::params![f.name, steps_json(f), f.window_days, f.updated_at, project_id, f.id],
        )
        .map_err(ingest::err)?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    funnel_build::start(&tx, project_id, &f.id, false)?;
    tx.commit().map_err(ingest::err)
}

pub fn delete(
    conn: &mut rusqlite::Connection,
    project_id: &str,
    funnel_id: &str,
) -> StoreResult<()> {
    let tx = writer_tx(conn)?;
    let deleted = tx
        .execute(
            "DELETE FROM funnels WHERE project_id = ?1 AND id = ?2",
            rusqlite::params![project_id, funnel_id],
        )
        .map_err(ingest::err)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    for sql in [
        "DELETE FROM funnel_hits WHERE project_id = ?1 AND funnel_id = ?2",
        "DELETE FROM funnel_reach WHERE project_id = ?1 AND funnel_id = ?2",
        "DELETE FROM funnel_reach_hours WHERE project_id = ?1 AND funnel_id = ?2",
    ] {
        tx.execute(sql, rusqlite::params![project_id, funnel_id])
            .map_err(ingest::err)?;
    }
    tx.commit().map_err(ingest::err)
}

/// Rebuilds funnel rollups, one funnel per transaction.
pub fn rebuild_all(
    conn: &mut rusqlite::Connection,
    project_id: Option<&str>,
    only_unbuilt: bool,
) -> StoreResult<usize> {
    let funnels: Vec<(String, Funnel)> = {
        let mut stmt = conn
            .prepare(
                "SELECT project_id, id, name, steps, window_days, created_at, updated_at FROM funnels
                 WHERE (?1 IS NULL OR project_id = ?1) AND (?2 = 0 OR rollup_ready = 0)",
            )
            .map_err(ingest::err)?;
        let rows = stmt
            .query_map(rusqlite::params![project_id, only_unbuilt], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Funnel::from(FunnelRow {
                        id: r.get(1)?,
                        name: r.get(2)?,
                        steps: r.get(3)?,
                        window_days: r.get(4)?,
                        created_at: r.get(5)?,
                        updated_at: r.get(6)?,
                    }),
                ))
            })
            .map_err(ingest::err)?;
        rows.collect::<Result<_, _>>().map_err(ingest::err)?
    };
    for (project_id, f) in &funnels {
        let tx = writer_tx(conn)?;
        funnel_rollup::rebuild(&tx, project_id, f)?;
        tx.commit().map_err(ingest::err)?;
    }
    Ok(funnels.len())
}

/// `(k, people)` from the rollup (see `Store::funnel_reach_counts`): whole hours
/// from the hour buckets, the first hour from the rows.
pub async fn reach_counts(
    pool: &SqlitePool,
    project_id: &str,
    funnel_id: &str,
    from_ms: i64,
) -> StoreResult<Vec<(i64, i64)>> {
    let hour = hour_of(from_ms);
    let whole: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT step, SUM(people) FROM funnel_reach_hours
         WHERE project_id = ?1 AND funnel_id = ?2 AND hour > ?3 GROUP BY step",
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
         WHERE project_id = ?1 AND funnel_id = ?2 AND step IN ({steps}) AND last_start >= ?3 AND last_start < ?4
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
