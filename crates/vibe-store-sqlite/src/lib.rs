//! SQLite backend: the embedded default. One file (`vibe.db`) in WAL mode.

mod accounts;
mod funnel_build;
mod funnel_rollup;
mod funnels;
mod ingest;
mod members;
mod projects;
mod rollups;
mod tracking;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use vibe_store::rollup::DailyStats;
use vibe_store::*;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_rollups.sql")),
    (3, include_str!("../migrations/0003_funnels.sql")),
    (4, include_str!("../migrations/0004_funnel_rollup.sql")),
    (5, include_str!("../migrations/0005_churn.sql")),
    (6, include_str!("../migrations/0006_open_sessions.sql")),
    (7, include_str!("../migrations/0007_funnel_hours.sql")),
    (8, include_str!("../migrations/0008_funnel_builds.sql")),
];

pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection ingestion writes through, used from a blocking thread.
    /// SQLite has a single writer anyway, and a connection that always writes
    /// keeps its page cache warm.
    writer: Arc<Mutex<rusqlite::Connection>>,
}

pub(crate) fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        _ => StoreError::other(e),
    }
}

fn open_writer(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(ingest::err)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(ingest::err)?;
    conn.set_prepared_statement_cache_capacity(64);
    // The writer touches index pages all over the event, people and session
    // tables; a 256 MiB page cache (allocated as used) keeps the hot ones.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;
         PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(ingest::err)?;
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
        Self::migrate(&pool).await?;
        let path_for_checkpoints = path.clone();
        let writer = tokio::task::spawn_blocking(move || open_writer(&path))
            .await
            .map_err(StoreError::other)??;
        let writer = Arc::new(Mutex::new(writer));
        spawn_checkpointer(path_for_checkpoints, Arc::downgrade(&writer));
        Ok(Self { pool, writer })
    }

    async fn migrate(pool: &SqlitePool) -> StoreResult<()> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS _vibe_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .execute(pool)
        .await
        .map_err(err)?;
        for (version, sql) in MIGRATIONS {
            let mut tx = pool.begin().await.map_err(err)?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM _vibe_migrations WHERE version = ?")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
            if done.is_some() {
                continue;
            }
            tracing::info!(version, "applying sqlite migration");
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(err)?;
            sqlx::query("INSERT INTO _vibe_migrations (version, applied_at) VALUES (?, ?)")
                .bind(version)
                .bind(vibe_core::time::system_now_ms())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn create_account(&self, a: &NewAccount) -> StoreResult<Account> {
        accounts::create_account(&self.pool, a).await
    }
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountWithHash>> {
        accounts::account_by_email(&self.pool, email).await
    }
    async fn count_owners(&self) -> StoreResult<i64> {
        accounts::count_owners(&self.pool).await
    }
    async fn create_auth_session(&self, s: &NewAuthSession) -> StoreResult<()> {
        accounts::create_auth_session(&self.pool, s).await
    }
    async fn account_for_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>> {
        accounts::account_for_session(&self.pool, token_hash, now_ms).await
    }
    async fn delete_auth_session(&self, token_hash: &str) -> StoreResult<()> {
        accounts::delete_auth_session(&self.pool, token_hash).await
    }
    async fn create_api_token(&self, t: &NewApiToken) -> StoreResult<ApiToken> {
        accounts::create_api_token(&self.pool, t).await
    }
    async fn list_api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>> {
        accounts::list_api_tokens(&self.pool, account_id).await
    }
    async fn revoke_api_token(
        &self,
        account_id: &str,
        token_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        accounts::revoke_api_token(&self.pool, account_id, token_id, now_ms).await
    }
    async fn account_for_api_token(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>> {
        accounts::account_for_api_token(&self.pool, token_hash, now_ms).await
    }

    async fn create_project(&self, p: &NewProject, owner: Option<&str>) -> StoreResult<Project> {
        projects::create_project(&self.pool, p, owner).await
    }
    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        projects::list_projects(&self.pool).await
    }
    async fn projects_for_account(&self, account_id: &str) -> StoreResult<Vec<Project>> {
        projects::projects_for_account(&self.pool, account_id).await
    }
    async fn project_for_member(
        &self,
        project_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<(Project, Role)>> {
        projects::project_for_member(&self.pool, project_id, account_id).await
    }
    async fn update_project(
        &self,
        project_id: &str,
        changes: &ProjectChanges,
    ) -> StoreResult<Project> {
        projects::update_project(&self.pool, project_id, changes).await
    }
    async fn add_member(
        &self,
        project_id: &str,
        account_id: &str,
        role: Role,
        now_ms: i64,
    ) -> StoreResult<()> {
        projects::add_member(&self.pool, project_id, account_id, role, now_ms).await
    }
    async fn list_members(&self, project_id: &str) -> StoreResult<Vec<Member>> {
        members::list_members(&self.pool, project_id).await
    }
    async fn remove_member(&self, project_id: &str, account_id: &str) -> StoreResult<bool> {
        members::remove_member(&self.pool, project_id, account_id).await
    }
    async fn claim_unowned_projects(
        &self,
        account_id: &str,
        role: Role,
        now_ms: i64,
    ) -> StoreResult<()> {
        projects::claim_unowned_projects(&self.pool, account_id, role, now_ms).await
    }
    async fn project_by_write_key(&self, write_key: &str) -> StoreResult<Option<Project>> {
        projects::project_by_write_key(&self.pool, write_key).await
    }
    async fn create_project_key(&self, k: &NewProjectKey) -> StoreResult<ProjectKey> {
        projects::create_project_key(&self.pool, k).await
    }
    async fn list_project_keys(&self, project_id: &str) -> StoreResult<Vec<ProjectKey>> {
        projects::list_project_keys(&self.pool, project_id).await
    }
    async fn revoke_project_key(
        &self,
        project_id: &str,
        key_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        projects::revoke_project_key(&self.pool, project_id, key_id, now_ms).await
    }
    async fn project_by_secret_key(&self, key_hash: &str) -> StoreResult<Option<Project>> {
        projects::project_by_secret_key(&self.pool, key_hash).await
    }

    async fn ingest(&self, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>> {
        let jobs = jobs.to_vec();
        self.on_writer(move |conn| ingest::ingest(conn, &jobs))
            .await
    }
    async fn online_visitors(
        &self,
        project_id: &str,
        since_ms: i64,
    ) -> StoreResult<Vec<OnlineVisitor>> {
        tracking::online_visitors(&self.pool, project_id, since_ms).await
    }
    async fn online_visitors_in(
        &self,
        project_id: &str,
        since_ms: i64,
        session_ids: &[String],
    ) -> StoreResult<Vec<OnlineVisitor>> {
        tracking::online_visitors_in(&self.pool, project_id, since_ms, session_ids).await
    }
    async fn sessions_last_seen_between(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<String>> {
        tracking::sessions_last_seen_between(&self.pool, project_id, from_ms, to_ms).await
    }
    async fn expire_sessions(&self, idle_before_ms: i64) -> StoreResult<u64> {
        tracking::expire_sessions(&self.pool, idle_before_ms).await
    }
    async fn site_user(&self, project_id: &str, id: &str) -> StoreResult<Option<SiteUser>> {
        tracking::site_user(&self.pool, project_id, id).await
    }
    async fn site_user_for_anonymous_id(
        &self,
        project_id: &str,
        anon: &str,
    ) -> StoreResult<Option<SiteUser>> {
        tracking::site_user_for_anonymous_id(&self.pool, project_id, anon).await
    }
    async fn session(
        &self,
        project_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SiteSession>> {
        tracking::session(&self.pool, project_id, session_id).await
    }
    async fn count_events(&self, project_id: &str) -> StoreResult<i64> {
        tracking::count_events(&self.pool, project_id).await
    }
    async fn daily_stats(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<DailyStats>> {
        rollups::daily_stats(&self.pool, project_id, from_day, to_day).await
    }
    async fn online_at(&self, project_id: &str, at_ms: i64, window_ms: i64) -> StoreResult<i64> {
        rollups::online_at(&self.pool, project_id, at_ms, window_ms).await
    }
    async fn count_online(&self, project_id: &str, since_ms: i64) -> StoreResult<i64> {
        rollups::count_online(&self.pool, project_id, since_ms).await
    }
    async fn churn_counts(
        &self,
        project_id: &str,
        prev: (&str, &str),
        cur: (&str, &str),
    ) -> StoreResult<(i64, i64)> {
        rollups::churn_counts(&self.pool, project_id, prev, cur).await
    }
    async fn rollup_inputs(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<vibe_store::rollup::RollupInputs> {
        rollups::rollup_inputs(&self.pool, project_id, from_ms, to_ms).await
    }
    async fn replace_rollups(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        stats: &[DailyStats],
        user_days: &[(String, String)],
    ) -> StoreResult<()> {
        rollups::replace_rollups(&self.pool, project_id, from_day, to_day, stats, user_days).await
    }
    async fn replace_churn(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        rows: &[(String, i64, i64)],
    ) -> StoreResult<()> {
        rollups::replace_churn(&self.pool, project_id, from_day, to_day, rows).await
    }
    async fn pending_rollup_rebuilds(&self) -> StoreResult<Vec<String>> {
        rollups::pending_rebuilds(&self.pool).await
    }
    async fn rollup_rebuild_done(&self, project_id: &str) -> StoreResult<()> {
        rollups::rebuild_done(&self.pool, project_id).await
    }
    async fn event_time_bounds(&self, project_id: &str) -> StoreResult<Option<(i64, i64)>> {
        rollups::event_time_bounds(&self.pool, project_id).await
    }
    async fn user_days(&self, project_id: &str) -> StoreResult<Vec<(String, String)>> {
        rollups::user_days(&self.pool, project_id).await
    }
    async fn create_funnel(
        &self,
        project_id: &str,
        f: &vibe_store::funnel::Funnel,
    ) -> StoreResult<()> {
        let (project_id, f) = (project_id.to_owned(), f.clone());
        self.on_writer(move |conn| funnels::create(conn, &project_id, &f))
            .await
    }
    async fn list_funnels(&self, project_id: &str) -> StoreResult<Vec<vibe_store::funnel::Funnel>> {
        funnels::list(&self.pool, project_id).await
    }
    async fn get_funnel(
        &self,
        project_id: &str,
        funnel_id: &str,
    ) -> StoreResult<Option<vibe_store::funnel::Funnel>> {
        funnels::get(&self.pool, project_id, funnel_id).await
    }
    async fn update_funnel(
        &self,
        project_id: &str,
        f: &vibe_store::funnel::Funnel,
    ) -> StoreResult<()> {
        let (project_id, f) = (project_id.to_owned(), f.clone());
        self.on_writer(move |conn| funnels::update(conn, &project_id, &f))
            .await
    }
    async fn delete_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        let (project_id, funnel_id) = (project_id.to_owned(), funnel_id.to_owned());
        self.on_writer(move |conn| funnels::delete(conn, &project_id, &funnel_id))
            .await
    }
    async fn funnel_reach_counts(
        &self,
        project_id: &str,
        funnel_id: &str,
        from_ms: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        funnels::reach_counts(&self.pool, project_id, funnel_id, from_ms).await
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
    async fn funnel_build_states(
        &self,
        project_id: &str,
    ) -> StoreResult<Vec<(String, vibe_store::funnel_build::BuildState)>> {
        funnel_build::states(&self.pool, project_id).await
    }
    async fn funnels_to_build(&self) -> StoreResult<Vec<(String, String)>> {
        funnel_build::pending(&self.pool).await
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
    async fn funnel_events(
        &self,
        project_id: &str,
        steps: &[vibe_store::funnel::FunnelStep],
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<vibe_store::funnel::FunnelEvent>> {
        funnels::events(&self.pool, project_id, steps, from_ms, to_ms).await
    }
    async fn list_users(&self, query: &vibe_store::users::UserQuery) -> StoreResult<Vec<SiteUser>> {
        users::list_users(&self.pool, query).await
    }
    async fn find_user(&self, project_id: &str, any_id: &str) -> StoreResult<Option<SiteUser>> {
        users::find_user(&self.pool, project_id, any_id).await
    }
    async fn count_user_sessions(&self, project_id: &str, site_user_id: &str) -> StoreResult<i64> {
        users::count_user_sessions(&self.pool, project_id, site_user_id).await
    }
    async fn user_sessions(
        &self,
        project_id: &str,
        site_user_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<vibe_store::users::SessionWithPages>> {
        users::user_sessions(&self.pool, project_id, site_user_id, limit).await
    }
    async fn recent_events(&self, project_id: &str, limit: i64) -> StoreResult<Vec<StoredEvent>> {
        tracking::recent_events(&self.pool, project_id, limit).await
    }
    async fn events_for_session(
        &self,
        project_id: &str,
        session_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        tracking::events_for_session(&self.pool, project_id, session_id).await
    }
}
