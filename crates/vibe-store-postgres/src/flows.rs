//! Flow writes on PostgreSQL (`vibe_store::flows::write`): each transaction
//! first takes `user_events` in SHARE mode, which conflicts with the ROW
//! EXCLUSIVE lock every ingest batch holds from its first insert to its
//! commit. So batches in flight on any node commit before the rebuild reads
//! events (and it sees them), and later batches wait until it commits (and
//! then read the rebuilt attempts).

use sqlx::PgPool;
use vibe_store::db::err;
use vibe_store::flows::model::Flow;
use vibe_store::flows::write;
use vibe_store::StoreResult;

use crate::ingest::Tx;

const LOCK: &str = "LOCK TABLE user_events IN SHARE MODE";

pub async fn create(pool: &PgPool, project: &str, tz: &str, f: &Flow) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    Tx(&mut tx).exec(LOCK, ()).await?;
    write::create(&mut Tx(&mut tx), project, tz, f).await?;
    tx.commit().await.map_err(err)
}

pub async fn update(pool: &PgPool, project: &str, tz: &str, f: &Flow) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    Tx(&mut tx).exec(LOCK, ()).await?;
    write::update(&mut Tx(&mut tx), project, tz, f).await?;
    tx.commit().await.map_err(err)
}

pub async fn delete(pool: &PgPool, project: &str, flow_id: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(err)?;
    Tx(&mut tx).exec(LOCK, ()).await?;
    write::delete(&mut Tx(&mut tx), project, flow_id).await?;
    tx.commit().await.map_err(err)
}

pub async fn rebuild(pool: &PgPool, project: &str, tz: &str) -> StoreResult<usize> {
    let mut tx = pool.begin().await.map_err(err)?;
    Tx(&mut tx).exec(LOCK, ()).await?;
    let n = write::rebuild_project(&mut Tx(&mut tx), project, tz).await?;
    tx.commit().await.map_err(err)?;
    Ok(n)
}
