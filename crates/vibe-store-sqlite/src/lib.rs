//! SQLite backend: the embedded default. One file (`vibe.db`) in WAL mode.

mod flows;
mod funnel_build;
mod funnel_rollup;
mod funnels;
mod ingest;
mod sql;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use vibe_store::db::{err, Db, HasDb};
use vibe_store::*;

const MIGRATIONS: &[(i64, &str)] = vibe_store::migrations!();

pub struct SqliteStore {
    /// The sqlx pool, for reads and the shared SQL of the domain traits.
    db: Db,
    /// The one connection ingestion writes through, used from a blocking thread.
    /// SQLite has a single writer anyway, and a connection that always writes
    /// keeps its page cache warm.
    writer: Arc<Mutex<rusqlite::Connection>>,
}

fn open_writer(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(sql::err)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(sql::err)?;
    conn.set_prepared_statement_cache_capacity(64);
    // The writer touches index pages all over the event, people and session
    // tables; a 256 MiB page cache (allocated as used) keeps the hot ones.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;
         PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(sql::err)?;
    Ok(conn)
}

/// Checkpoints the WAL from its own thread and connection, so the writer never
/// pays for copying pages back and fsyncing on its commit path (the writer runs
/// with `wal_autocheckpoint = 0`). Passive checkpoints never block the writer. A
/// busy writer can keep a passive checkpoint from ever finishing, so once the WAL
/// holds more than 16k pages (64 MiB) the checkpointer takes the writer's lock for
/// a truncating checkpoint, which bounds the WAL. Stops when the store is dropped.
fn spawn_checkpointer(
    path: std::path::PathBuf,
    writer: std::sync::Weak<Mutex<rusqlite::Connection>>,
) {
    const EVERY: Duration = Duration::from_millis(250);
    const MAX_WAL_PAGES: i64 = 16_384;
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let conn = match rusqlite::Connection::open(&path) {
                Ok(c) => c,
                Err(e) => {
                    return tracing::error!(error = %e, "checkpointer could not open the database")
                }
            };
            let _ = conn.busy_timeout(Duration::from_secs(5));
            let checkpoint = |mode: &str| {
                conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                })
            };
            loop {
                std::thread::sleep(EVERY);
                let Some(writer) = writer.upgrade() else {
                    break;
                };
                match checkpoint("PASSIVE") {
                    Ok((log, _)) if log > MAX_WAL_PAGES => {
                        // Hold the writer still so the checkpoint can finish and reset the WAL.
                        let _paused = writer.lock().unwrap_or_else(|e| e.into_inner());
                        if let Err(e) = checkpoint("TRUNCATE") {
                            tracing::warn!(error = %e, "WAL truncate checkpoint failed");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the WAL checkpointer");
    }
}

impl SqliteStore {
    /// Runs `f` on the writer connection from a blocking thread: every write that
    /// must not interleave with ingestion goes through here.
    async fn on_writer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(StoreError::other)?
    }

    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a commit survives a crash of the process; only a
            // power loss can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            // Checkpoint every ~40 MB of WAL instead of every 4 MB: fewer, larger
            // checkpoints on the commit path of the writer.
            .pragma("wal_autocheckpoint", "10000");
        Self::connect(opts).await
    }

    /// `sqlite://…` URLs, for `DATABASE_URL=sqlite://path`.
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Self::connect(opts).await
    }

    async fn connect(opts: SqliteConnectOptions) -> StoreResult<Self> {
        let path = opts.get_filename().to_owned();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts)
            .await
            .map_err(err)?;
        let db = Db::Sqlite(pool);
        db.migrate(MIGRATIONS).await?;
        let path_for_checkpoints = path.clone();
        let writer = tokio::task::spawn_blocking(move || open_writer(&path))
            .await
            .map_err(StoreError::other)??;
        let writer = Arc::new(Mutex::new(writer));
        spawn_checkpointer(path_for_checkpoints, Arc::downgrade(&writer));
        Ok(Self { db, writer })
    }
}

impl HasDb for SqliteStore {
    fn db(&self) -> &Db {
        &self.db
    }
}

// Domains whose SQL is all shared: nothing to add.
impl Store for SqliteStore {}
impl AccountStore for SqliteStore {}
impl ProjectStore for SqliteStore {}
impl PeopleStore for SqliteStore {}
impl CrmStore for SqliteStore {}
impl vibe_store::FeatureStore for SqliteStore {}
impl vibe_store::AiUsageStore for SqliteStore {}
impl vibe_store::SegmentStore for SqliteStore {}
impl vibe_store::InboxStore for SqliteStore {}
impl vibe_store::ChannelStore for SqliteStore {}
impl vibe_store::AuditStore for SqliteStore {}
impl vibe_store::TemplateStore for SqliteStore {}
impl vibe_store::PushStore for SqliteStore {}
impl vibe_store::CampaignStore for SqliteStore {}
impl AnalyticsStore for SqliteStore {}
impl vibe_store::RetentionStore for SqliteStore {}
impl RevenueStore for SqliteStore {}
impl vibe_store::SupportAnalyticsStore for SqliteStore {}

#[async_trait]
impl TrackingStore for SqliteStore {
    async fn ingest(&self, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>> {
        let jobs = jobs.to_vec();
        self.on_writer(move |conn| ingest::ingest(conn, &jobs))
            .await
    }
}

// Flow writes rebuild the flow's rollup on the writer connection, so no ingest
// batch interleaves with them.
#[async_trait]
impl vibe_store::FlowStore for SqliteStore {
    async fn write_flow(
        &self,
        project_id: &str,
        timezone: &str,
        op: vibe_store::flows::write::FlowWrite,
    ) -> StoreResult<usize> {
        let (p, tz) = (project_id.to_owned(), timezone.to_owned());
        self.on_writer(move |conn| flows::write(conn, &p, &tz, &op))
            .await
    }
}

// Funnel writes rebuild the rollup on the writer connection, so no ingest batch
// interleaves with them (and none waits on SQLITE_BUSY behind them).
#[async_trait]
impl FunnelStore for SqliteStore {
    async fn create_funnel(&self, project_id: &str, f: &funnel::Funnel) -> StoreResult<()> {
        let (project_id, f) = (project_id.to_owned(), f.clone());
        self.on_writer(move |conn| funnels::create(conn, &project_id, &f))
            .await
    }
    async fn update_funnel(&self, project_id: &str, f: &funnel::Funnel) -> StoreResult<()> {
        let (project_id, f) = (project_id.to_owned(), f.clone());
        self.on_writer(move |conn| funnels::update(conn, &project_id, &f))
            .await
    }
    async fn delete_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        let (project_id, funnel_id) = (project_id.to_owned(), funnel_id.to_owned());
        self.on_writer(move |conn| funnels::delete(conn, &project_id, &funnel_id))
            .await
    }
    async fn rebuild_funnels(
        &self,
        project_id: Option<&str>,
        only_unbuilt: bool,
    ) -> StoreResult<usize> {
        let project_id = project_id.map(str::to_owned);
        self.on_writer(move |conn| funnels::rebuild_all(conn, project_id.as_deref(), only_unbuilt))
            .await
    }
    async fn build_funnel_chunk(
        &self,
        project_id: &str,
        funnel_id: &str,
        chunk: usize,
    ) -> StoreResult<vibe_store::funnel_build::ChunkDone> {
        let (project_id, funnel_id) = (project_id.to_owned(), funnel_id.to_owned());
        self.on_writer(move |conn| funnel_build::chunk(conn, &project_id, &funnel_id, chunk))
            .await
    }
}
