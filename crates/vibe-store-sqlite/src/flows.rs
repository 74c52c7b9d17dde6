//! Flow writes on the writer connection: each one IMMEDIATE transaction, so
//! no ingest batch interleaves with the rebuild of the flow's rollup
//! (`vibe_store::flows::write`).

use vibe_store::flows::model::Flow;
use vibe_store::flows::write;
use vibe_store::ingest::io::run_ready;
use vibe_store::StoreResult;

use crate::ingest::Writer;
use crate::sql::err;

/// Runs `f` in one IMMEDIATE transaction on the writer.
pub fn in_tx<T>(
    conn: &mut rusqlite::Connection,
    f: impl FnOnce(&mut Writer<'_, '_>) -> StoreResult<T>,
) -> StoreResult<T> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let out = f(&mut Writer(&tx))?;
    tx.commit().map_err(err)?;
    Ok(out)
}

pub fn create(
    conn: &mut rusqlite::Connection,
    project: &str,
    tz: &str,
    f: &Flow,
) -> StoreResult<()> {
    in_tx(conn, |w| run_ready(write::create(w, project, tz, f)))
}

pub fn update(
    conn: &mut rusqlite::Connection,
    project: &str,
    tz: &str,
    f: &Flow,
) -> StoreResult<()> {
    in_tx(conn, |w| run_ready(write::update(w, project, tz, f)))
}

pub fn delete(conn: &mut rusqlite::Connection, project: &str, flow_id: &str) -> StoreResult<()> {
    in_tx(conn, |w| run_ready(write::delete(w, project, flow_id)))
}

pub fn rebuild(conn: &mut rusqlite::Connection, project: &str, tz: &str) -> StoreResult<usize> {
    in_tx(conn, |w| run_ready(write::rebuild_project(w, project, tz)))
}
