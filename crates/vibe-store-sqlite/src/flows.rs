//! Flow writes on the writer connection: each one IMMEDIATE transaction, so
//! no ingest batch interleaves with the rebuild of the flow's rollup
//! (`vibe_store::flows::write`).

use vibe_store::flows::write::{self, FlowWrite};
use vibe_store::ingest::io::run_ready;
use vibe_store::StoreResult;

use crate::ingest::Writer;
use crate::sql::err;

/// Runs `f` in one IMMEDIATE transaction on the writer.
fn in_tx<T>(
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

/// Runs `op` in one IMMEDIATE transaction on the writer.
pub fn write(
    conn: &mut rusqlite::Connection,
    project: &str,
    tz: &str,
    op: &FlowWrite,
) -> StoreResult<usize> {
    in_tx(conn, |w| run_ready(write::apply(w, project, tz, op)))
}
