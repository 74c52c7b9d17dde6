//! The storage contract. One object-safe [`Store`] trait, implemented by
//! `vibe-store-sqlite` and `vibe-store-postgres`; the server only ever holds an
//! `Arc<dyn Store>`. Each method is one use case in one transaction.
//! The `testkit` feature exposes the conformance suite both backends must pass.

pub mod funnel;
pub mod funnel_build;
pub mod funnel_rollup;
pub mod ingest;
pub mod model;
pub mod rollup;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod users;

use async_trait::async_trait;

pub use ingest::{IngestJob, IngestOutcome};
pub use model::*;

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

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Backend name for logs and `/readyz` ("sqlite" or "postgres").
    fn backend(&self) -> &'static str;
    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;

    // --- accounts and authentication -------------------------------------------------
    async fn create_account(&self, account: &NewAccount) -> StoreResult<Account>;
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountWithHash>>;
    async fn count_owners(&self) -> StoreResult<i64>;
    async fn create_auth_session(&self, session: &NewAuthSession) -> StoreResult<()>;
    /// The account behind an unexpired session token hash.
    async fn account_for_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>>;
    async fn delete_auth_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn create_api_token(&self, token: &NewApiToken) -> StoreResult<ApiToken>;
    async fn list_api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>>;
    async fn revoke_api_token(
        &self,
        account_id: &str,
        token_id: &str,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// The account behind an unrevoked API token hash; records its use.
    async fn account_for_api_token(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>>;

    // --- projects ---------------------------------------------------------------------
    /// Creates a project and makes `owner_account_id` (if any) its owner.
    async fn create_project(
        &self,
        project: &NewProject,
        owner_account_id: Option<&str>,
    ) -> StoreResult<Project>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    async fn projects_for_account(&self, account_id: &str) -> StoreResult<Vec<Project>>;
    /// The project and the caller's role in it; `None` for non-members.
    async fn project_for_member(
        &self,
        project_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<(Project, Role)>>;
    /// Applies the given changes; `NotFound` if the project does not exist.
    async fn update_project(
        &self,
        project_id: &str,
        changes: &ProjectChanges,
    ) -> StoreResult<Project>;
    async fn add_member(
        &self,
        project_id: &str,
        account_id: &str,
        role: Role,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// The project's members with their emails, owners first, then by email.
    async fn list_members(&self, project_id: &str) -> StoreResult<Vec<Member>>;
    /// Removes a membership; `false` when there was none.
    async fn remove_member(&self, project_id: &str, account_id: &str) -> StoreResult<bool>;
    /// Makes the account a member of every project that has no members yet (the
    /// default and demo projects before anyone signed up).
    async fn claim_unowned_projects(
        &self,
        account_id: &str,
        role: Role,
        now_ms: i64,
    ) -> StoreResult<()>;
    async fn project_by_write_key(&self, write_key: &str) -> StoreResult<Option<Project>>;
    async fn create_project_key(&self, key: &NewProjectKey) -> StoreResult<ProjectKey>;
    async fn list_project_keys(&self, project_id: &str) -> StoreResult<Vec<ProjectKey>>;
    async fn revoke_project_key(
        &self,
        project_id: &str,
        key_id: &str,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// The project a secret key (by hash) belongs to, if the key is not revoked.
    async fn project_by_secret_key(&self, key_hash: &str) -> StoreResult<Option<Project>>;

    // --- tracking ---------------------------------------------------------------------
    /// Writes every job of a batch in one transaction and reports, per job, how many
    /// messages were new and how many were retries of already-stored ids.
    async fn ingest(&self, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>>;
    /// Sessions seen at or after `since_ms` that have not left, newest first.
    async fn online_visitors(
        &self,
        project_id: &str,
        since_ms: i64,
    ) -> StoreResult<Vec<OnlineVisitor>>;
    /// Like [`Store::online_visitors`], restricted to the given sessions (the live
    /// feed looks up only what a batch touched).
    async fn online_visitors_in(
        &self,
        project_id: &str,
        since_ms: i64,
        session_ids: &[String],
    ) -> StoreResult<Vec<OnlineVisitor>>;
    /// Sessions whose last activity is in `[from_ms, to_ms)`: those that dropped out
    /// of the online window between two sweeps of the live feed.
    async fn sessions_last_seen_between(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<String>>;
    /// Closes sessions idle since before `idle_before_ms` (their `ended_at` becomes
    /// their `last_seen_at`); returns how many were closed.
    async fn expire_sessions(&self, idle_before_ms: i64) -> StoreResult<u64>;
    async fn site_user(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<Option<SiteUser>>;
    /// The person an anonymous id currently belongs to.
    async fn site_user_for_anonymous_id(
        &self,
        project_id: &str,
        anonymous_id: &str,
    ) -> StoreResult<Option<SiteUser>>;
    async fn session(&self, project_id: &str, session_id: &str)
        -> StoreResult<Option<SiteSession>>;
    async fn count_events(&self, project_id: &str) -> StoreResult<i64>;
    // --- rollups ----------------------------------------------------------------------
    /// Stored `daily_stats` rows with `from_day <= day <= to_day` (days without
    /// activity have no row).
    async fn daily_stats(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<rollup::DailyStats>>;
    /// Sessions open at `at_ms`: started by then, seen within `window_ms` before it,
    /// and not ended before it. Only sessions started in the 24 h before are
    /// considered, which keeps this an index range scan.
    async fn online_at(&self, project_id: &str, at_ms: i64, window_ms: i64) -> StoreResult<i64>;
    /// Sessions seen at or after `since_ms` that have not left (the size of `/online`).
    async fn count_online(&self, project_id: &str, since_ms: i64) -> StoreResult<i64>;
    /// People active in `[prev_from, prev_to]` (local days), and how many of them
    /// were not active in `[cur_from, cur_to]`.
    async fn churn_counts(
        &self,
        project_id: &str,
        prev: (&str, &str),
        cur: (&str, &str),
    ) -> StoreResult<(i64, i64)>;
    /// Raw inputs for rebuilding rollups of `[from_ms, to_ms)`: stored events with
    /// their person, sessions that started, and first-seen times of people.
    async fn rollup_inputs(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<rollup::RollupInputs>;
    /// Replaces `daily_stats` and `user_days` for `from_day..=to_day` in one transaction.
    async fn replace_rollups(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        stats: &[rollup::DailyStats],
        user_days: &[(String, String)],
    ) -> StoreResult<()>;
    /// Sets the churn counters of days `from_day..=to_day` to `rows` (day, base,
    /// churned), zero for days not listed.
    async fn replace_churn(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        rows: &[(String, i64, i64)],
    ) -> StoreResult<()>;
    /// Projects whose rollups a migration asked to rebuild from events.
    async fn pending_rollup_rebuilds(&self) -> StoreResult<Vec<String>>;
    async fn rollup_rebuild_done(&self, project_id: &str) -> StoreResult<()>;
    /// Earliest and latest stored event time of a project.
    async fn event_time_bounds(&self, project_id: &str) -> StoreResult<Option<(i64, i64)>>;
    /// Rollup rows exactly as stored, for tests comparing rebuild with ingest.
    async fn user_days(&self, project_id: &str) -> StoreResult<Vec<(String, String)>>;

    // --- funnels ------------------------------------------------------------------------
    /// Stores the funnel and marks its rollup building (`funnel_build`); the
    /// builder task fills it in with `build_funnel_chunk`.
    async fn create_funnel(&self, project_id: &str, funnel: &funnel::Funnel) -> StoreResult<()>;
    async fn list_funnels(&self, project_id: &str) -> StoreResult<Vec<funnel::Funnel>>;
    async fn get_funnel(
        &self,
        project_id: &str,
        funnel_id: &str,
    ) -> StoreResult<Option<funnel::Funnel>>;
    /// Replaces name, steps and window and marks the rollup for rebuilding (old rows
    /// are cleared by the builder); `NotFound` when it
    /// is not this project's.
    async fn update_funnel(&self, project_id: &str, funnel: &funnel::Funnel) -> StoreResult<()>;
    async fn delete_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<()>;
    /// From the rollup: `(k, people)` for each step count k reached by people whose
    /// attempt started at or after `from_ms` (periods end now; see `funnel_rollup`).
    async fn funnel_reach_counts(
        &self,
        project_id: &str,
        funnel_id: &str,
        from_ms: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
    /// Rebuilds the rollup of a project's funnels (all projects with `None`) from
    /// events; with `only_unbuilt`, just funnels whose rollup was never built.
    /// Returns how many funnels were rebuilt.
    async fn rebuild_funnels(
        &self,
        project_id: Option<&str>,
        only_unbuilt: bool,
    ) -> StoreResult<usize>;
    // --- funnel builds (vibe_store::funnel_build) ------------------------------------
    /// Build state of each of a project's funnels, by funnel id.
    async fn funnel_build_states(
        &self,
        project_id: &str,
    ) -> StoreResult<Vec<(String, funnel_build::BuildState)>>;
    /// `(project_id, funnel_id)` of every funnel not ready, oldest first.
    async fn funnels_to_build(&self) -> StoreResult<Vec<(String, String)>>;
    /// One short transaction of a funnel's build: `chunk` events scanned, rows
    /// cleared per table, or `chunk / 50` people recomputed.
    async fn build_funnel_chunk(
        &self,
        project_id: &str,
        funnel_id: &str,
        chunk: usize,
    ) -> StoreResult<funnel_build::ChunkDone>;
    /// Stored page views and events in `[from_ms, to_ms]` that match any of `steps`,
    /// with the person each belongs to.
    async fn funnel_events(
        &self,
        project_id: &str,
        steps: &[funnel::FunnelStep],
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<funnel::FunnelEvent>>;

    // --- people -------------------------------------------------------------------------
    /// One page of the people list (`query.limit` rows).
    async fn list_users(&self, query: &users::UserQuery) -> StoreResult<Vec<SiteUser>>;
    /// A person by person id, user id or any of their anonymous ids.
    async fn find_user(&self, project_id: &str, any_id: &str) -> StoreResult<Option<SiteUser>>;
    async fn count_user_sessions(&self, project_id: &str, site_user_id: &str) -> StoreResult<i64>;
    /// A person's sessions, newest first, each with its page views in order.
    async fn user_sessions(
        &self,
        project_id: &str,
        site_user_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<users::SessionWithPages>>;

    /// The newest stored events of a project.
    async fn recent_events(&self, project_id: &str, limit: i64) -> StoreResult<Vec<StoredEvent>>;
    async fn events_for_session(
        &self,
        project_id: &str,
        session_id: &str,
    ) -> StoreResult<Vec<StoredEvent>>;
}
