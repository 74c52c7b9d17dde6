//! The storage contract, split by domain. Each domain (`accounts`, `projects`,
//! `tracking`, `people`, `crm`, `analytics`, `funnels`, `flows`, `retention`, `revenue`, `segments`, `inbox`, `uniques`, `channels`, `support_analytics`, `audit`, `templates`, `campaigns`, `push`) is one module tree holding its
//! records, its SQL and an object-safe trait; [`Store`] is all of them together,
//! and the server only ever holds an `Arc<dyn Store>`. SQL that is the same on
//! SQLite and PostgreSQL is written once, as the traits' default methods running
//! on the backend's [`db::Db`]; the required methods are where the backends
//! genuinely differ (ingestion, funnel rebuilds, a few presence statements).
//! Each method is one use case in one transaction.
//! The `testkit` feature exposes the conformance suite both backends must pass.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod campaigns;
pub mod channels;
pub mod crm;
pub mod db;
pub mod features;
pub mod flows;
pub mod funnels;
pub mod inbox;
pub mod people;
pub mod projects;
pub mod push;
pub mod retention;
pub mod revenue;
pub mod segments;
pub mod support_analytics;
pub mod templates;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tracking;
pub mod uniques;

use async_trait::async_trait;

pub use accounts::*;
pub use analytics::{rollup, AnalyticsStore};
pub use audit::AuditStore;
pub use campaigns::CampaignStore;
pub use channels::ChannelStore;
pub use crm::CrmStore;
pub use features::{ai_usage::AiUsageStore, FeatureStore};
pub use flows::FlowStore;
pub use funnels::{build as funnel_build, funnel, rollup as funnel_rollup, FunnelStore};
pub use inbox::InboxStore;
pub use ingest::{IngestJob, IngestOutcome};
pub use people::{query as users, *};
pub use projects::*;
pub use push::PushStore;
pub use retention::RetentionStore;
pub use revenue::RevenueStore;
pub use segments::SegmentStore;
pub use support_analytics::SupportAnalyticsStore;
pub use templates::TemplateStore;
pub use tracking::{ingest, TrackingStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused the data itself (a data exception or a constraint):
    /// sending the same data again fails again. The ingest writer uses this to
    /// isolate the one request of a batch that causes it.
    #[error("rejected by the database: {0}")]
    Rejected(String),
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn other(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Other(Box::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything a backend provides: every domain's store, plus health checks.
/// Adding a domain adds its trait here and an `impl` (often empty) per backend.
#[async_trait]
pub trait Store:
    AccountStore
    + ProjectStore
    + TrackingStore
    + PeopleStore
    + CrmStore
    + AnalyticsStore
    + FunnelStore
    + FeatureStore
    + FlowStore
    + AiUsageStore
    + RetentionStore
    + RevenueStore
    + SegmentStore
    + InboxStore
    + ChannelStore
    + SupportAnalyticsStore
    + AuditStore
    + TemplateStore
    + PushStore
    + CampaignStore
{
    /// Backend name for logs and `/readyz` ("sqlite" or "postgres").
    fn backend(&self) -> &'static str {
        self.db().backend()
    }

    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()> {
        self.db().ping().await
    }
}
