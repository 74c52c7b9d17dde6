//! Flow writes on PostgreSQL (`vibe_store::flows::write`): each transaction
//! first takes `user_events` in SHARE mode, which conflicts with the ROW
//! EXCLUSIVE lock every ingest batch holds from its first insert to its
//! commit. So batches in flight on any node commit before the rebuild reads
//! events (and it sees them), and later batches wait until it commits (and
//! then read the rebuilt attempts).

use sqlx::PgPool;
use vibe_store::db::err;
use vibe_store::flows::write::{self, FlowWrite};
use vibe_store::StoreResult;

use crate::ingest::Tx;

const LOCK: &str = "LOCK TABLE user_events IN SHARE MODE";

/// Runs `op` in one transaction holding that lock.
pub async fn write(pool: &PgPool, project: &str, tz: &str, op: &FlowWrite) -> StoreResult<usize> {
    let mut tx = pool.begin().await.map_err(err)?;
    Tx(&mut tx).exec(LOCK, ()).await?;
    let n = write::apply(&mut Tx(&mut tx), project, tz, op).await?;
    tx.commit().await.map_err(err)?;
    Ok(n)
}
