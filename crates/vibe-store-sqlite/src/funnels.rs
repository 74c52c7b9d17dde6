//! Funnel definitions and the events their conversion is computed from.

use vibe_store::funnel::{Funnel, FunnelRow};
use vibe_store::funnel_rollup::io as rollup;
use vibe_store::funnels::sql::{self, steps_json};
use vibe_store::ingest::io::run_ready;
use vibe_store::*;

use crate::funnel_build;
use crate::ingest::Writer;
use crate::sql::{err, execute_numbered};

/// Stores a funnel and marks its rollup building, on the writer connection.
pub fn create(conn: &mut rusqlite::Connection, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let tx = writer_tx(conn)?;
    execute_numbered(
        &tx,
        sql::INSERT,
        &[
            &f.id,
            &project_id,
            &f.name,
            &steps_json(f),
            &f.window_days,
            &f.created_at,
            &f.updated_at,
        ],
    )?;
    funnel_build::start(&tx, project_id, &f.id, true)?;
    tx.commit().map_err(err)
}

fn writer_tx(conn: &mut rusqlite::Connection) -> StoreResult<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)
}

/// Replaces a funnel's definition and marks its rollup for rebuilding.
pub fn update(conn: &mut rusqlite::Connection, project_id: &str, f: &Funnel) -> StoreResult<()> {
    let tx = writer_tx(conn)?;
    let changed = execute_numbered(
        &tx,
        sql::UPDATE,
        &[
            &f.name,
            &steps_json(f),
            &f.window_days,
            &f.updated_at,
            &project_id,
            &f.id,
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    funnel_build::start(&tx, project_id, &f.id, false)?;
    tx.commit().map_err(err)
}

pub fn delete(
    conn: &mut rusqlite::Connection,
    project_id: &str,
    funnel_id: &str,
) -> StoreResult<()> {
    let tx = writer_tx(conn)?;
    let deleted = execute_numbered(&tx, sql::DELETE, &[&project_id, &funnel_id])?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    for statement in sql::DELETE_ROLLUP {
        execute_numbered(&tx, statement, &[&project_id, &funnel_id])?;
    }
    tx.commit().map_err(err)
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
                // `rollup_ready` is an INTEGER 0/1 here, a BOOLEAN on PostgreSQL.
                "SELECT project_id, id, name, steps, window_days, created_at, updated_at FROM funnels
                 WHERE (?1 IS NULL OR project_id = ?1) AND (?2 = 0 OR rollup_ready = 0)",
            )
            .map_err(err)?;
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
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)?
    };
    for (project_id, f) in &funnels {
        let tx = writer_tx(conn)?;
        run_ready(rollup::rebuild(&mut Writer(&tx), project_id, f))?;
        tx.commit().map_err(err)?;
    }
    Ok(funnels.len())
}
