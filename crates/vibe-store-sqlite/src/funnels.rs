//! Funnel definitions and the events their conversion is computed from.

use rusqlite::ToSql;
use vibe_store::funnel::{Funnel, FunnelRow};
use vibe_store::funnels::sql::{self, steps_json};
use vibe_store::*;

use crate::{funnel_build, funnel_rollup, ingest};

/// Runs one of the shared `$1, $2, …` statements on the writer. rusqlite sees
/// `$1` as a parameter *named* "$1", so values are bound by name, not position.
fn execute_numbered(
    tx: &rusqlite::Transaction<'_>,
    statement: &str,
    values: &[&dyn ToSql],
) -> StoreResult<usize> {
    let mut stmt = tx.prepare_cached(statement).map_err(ingest::err)?;
    debug_assert_eq!(stmt.parameter_count(), values.len(), "{statement}");
    for (i, value) in values.iter().enumerate() {
        if let Some(index) = stmt
            .parameter_index(&format!("${}", i + 1))
            .map_err(ingest::err)?
        {
            stmt.raw_bind_parameter(index, value).map_err(ingest::err)?;
        }
    }
    stmt.raw_execute().map_err(ingest::err)
}

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
    tx.commit().map_err(ingest::err)
}

fn writer_tx(conn: &mut rusqlite::Connection) -> StoreResult<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(ingest::err)
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
    tx.commit().map_err(ingest::err)
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
                // `rollup_ready` is an INTEGER 0/1 here, a BOOLEAN on PostgreSQL.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_bind_by_number_not_position() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b INTEGER)")
            .unwrap();
        let tx = conn.transaction().unwrap();
        // `$2` appears first: bound by position, `a` would get 2.
        let n = execute_numbered(&tx, "INSERT INTO t (b, a) VALUES ($2, $1)", &[&1, &2]).unwrap();
        assert_eq!(n, 1);
        let row: (i64, i64) = tx
            .query_row("SELECT a, b FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(row, (1, 2));
    }
}
