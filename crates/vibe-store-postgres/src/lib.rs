//! PostgreSQL backend: for several nodes and large data sets (`DATABASE_URL=postgres://…`).

mod accounts;
mod funnel_build;
mod funnel_rollup;
mod funnels;
mod ingest;
mod members;
mod planner_stats;
mod projects;
mod rollups;
mod tracking;
pub mod unreachable;
mod users;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
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

pub struct PgStore {
    pool: PgPool,
    /// Fed by ingestion when the store must keep planner statistics itself.
    written: Option<std::sync::Arc<planner_stats::WrittenSinceAnalyze>>,
}

pub(crate) fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        // Class 22 (data exception, e.g. NUL in text) and 23 (integrity
        // constraint): the data, not the database, is at fault.
        sqlx::Error::Database(d)
            if d.code()
                .is_some_and(|c| c.starts_with("22") || c.starts_with("23")) =>
        {
            StoreError::Rejected(d.message().to_owned())
        }
        _ => StoreError::other(e),
    }
}

impl PgStore {
    /// Connects and applies pending migrations. `schema`, when given, is created if
    /// missing and used as the search path (tests use one schema each).
    pub async fn connect(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        let mut opts: PgConnectOptions = url.parse().map_err(err)?;
        if let Some(schema) = schema {
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
            .map_err(err)?;
        if let Some(schema) = schema {
            sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&pool)
                .await
                .map_err(err)?;
        }
        let mut store = Self {
            pool,
            written: None,
        };
        store.migrate().await?;
        store.written = planner_stats::start_if_needed(&store.pool, &opts).await;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(err)?;
        // Several nodes may start at once: one migrates, the others wait here.
        sqlx::query("SELECT pg_advisory_xact_lock(7469626501)")
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS _vibe_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        for (version, sql) in MIGRATIONS {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM _vibe_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
            if done.is_some() {
                continue;
            }
            tracing::info!(version, "applying postgres migration");
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(err)?;
            sqlx::query("INSERT INTO _vibe_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(vibe_core::time::system_now_ms())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(())
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        let outcomes = ingest::ingest(&self.pool, jobs).await?;
        if let Some(written) = &self.written {
            written.add(outcomes.iter().map(|o| u64::from(o.accepted)).sum());
        }
        Ok(outcomes)
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
        funnels::create(&self.pool, project_id, f).await
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
        funnels::update(&self.pool, project_id, f).await
    }
    async fn delete_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        funnels::delete(&self.pool, project_id, funnel_id).await
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
        funnels::rebuild_all(&self.pool, project_id, only_unbuilt).await
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
        funnel_build::chunk(&self.pool, project_id, funnel_id, chunk).await
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
