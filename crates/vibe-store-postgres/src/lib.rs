//! PostgreSQL backend: for several nodes and large data sets (`DATABASE_URL=postgres://…`).

mod flows;
mod funnel_build;
mod funnel_rollup;
mod funnels;
mod ingest;
mod planner_stats;
pub mod unreachable;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use vibe_store::db::{err, Db, HasDb};
use vibe_store::*;

const MIGRATIONS: &[(i64, &str)] = vibe_store::migrations!();

pub struct PgStore {
    /// The pool, as the handle the domain traits' shared SQL runs on.
    db: Db,
    pool: PgPool,
    /// Analyzes and vacuums the schema's tables when the server does not.
    _maintainer: Option<planner_stats::Maintainer>,
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
            let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            match sqlx::raw_sql(&create).execute(&pool).await {
                Ok(_) => {}
                // Two nodes (or tests) creating it at once: IF NOT EXISTS does not
                // keep the slower one off the catalog's unique index, but the
                // schema exists either way.
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {}
                Err(e) => return Err(err(e)),
            }
        }
        let mut store = Self {
            db: Db::Postgres(pool.clone()),
            pool,
            _maintainer: None,
        };
        store.db.migrate(MIGRATIONS).await?;
        store._maintainer = planner_stats::start_if_needed(&store.pool, &opts).await;
        Ok(store)
    }
}

impl HasDb for PgStore {
    fn db(&self) -> &Db {
        &self.db
    }
}

// Domains whose SQL is all shared: nothing to add.
impl Store for PgStore {}
impl AccountStore for PgStore {}
impl ProjectStore for PgStore {}
impl PeopleStore for PgStore {}
impl CrmStore for PgStore {}
impl vibe_store::FeatureStore for PgStore {}
impl vibe_store::AiUsageStore for PgStore {}
impl vibe_store::SegmentStore for PgStore {}
impl vibe_store::InboxStore for PgStore {}
impl vibe_store::ChannelStore for PgStore {}
impl vibe_store::AuditStore for PgStore {}
impl vibe_store::TemplateStore for PgStore {}
impl vibe_store::PushStore for PgStore {}
impl vibe_store::CampaignStore for PgStore {}
impl AnalyticsStore for PgStore {}
impl vibe_store::RetentionStore for PgStore {}
impl RevenueStore for PgStore {}
impl vibe_store::SupportAnalyticsStore for PgStore {}

#[async_trait]
impl TrackingStore for PgStore {
    async fn ingest(&self, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>> {
        ingest::ingest(&self.pool, jobs).await
    }
}

// Flow writes rebuild the flow's rollup after locking `user_events` (SHARE), so
// no ingest batch of any node interleaves with them.
#[async_trait]
impl vibe_store::FlowStore for PgStore {
    async fn write_flow(
        &self,
        project_id: &str,
        timezone: &str,
        op: vibe_store::flows::write::FlowWrite,
    ) -> StoreResult<usize> {
        flows::write(&self.pool, project_id, timezone, &op).await
    }
}

// Funnel writes rebuild the rollup after locking its tables, so no ingest batch
// of another node interleaves with them.
#[async_trait]
impl FunnelStore for PgStore {
    async fn create_funnel(&self, project_id: &str, f: &funnel::Funnel) -> StoreResult<()> {
        funnels::create(&self.pool, project_id, f).await
    }
    async fn update_funnel(&self, project_id: &str, f: &funnel::Funnel) -> StoreResult<()> {
        funnels::update(&self.pool, project_id, f).await
    }
    async fn delete_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        funnels::delete(&self.pool, project_id, funnel_id).await
    }
    async fn rebuild_funnels(
        &self,
        project_id: Option<&str>,
        only_unbuilt: bool,
    ) -> StoreResult<usize> {
        funnels::rebuild_all(&self.pool, project_id, only_unbuilt).await
    }
    async fn build_funnel_chunk(
        &self,
        project_id: &str,
        funnel_id: &str,
        chunk: usize,
    ) -> StoreResult<vibe_store::funnel_build::ChunkDone> {
        funnel_build::chunk(&self.pool, project_id, funnel_id, chunk).await
    }
}
