//! Flows domain: an attempt opens at a `start` step and ends at the first
//! `complete` (or `fail`) step within `window_hours` (docs/metrics.md,
//! "Flows"). The attempt logic is [`attempt`], used by ingest ([`ingest`])
//! and the rebuild ([`write`]); the rollups are `flow_attempts` (each
//! person's latest attempt), `flow_days` and `flow_duration_days` (by the
//! local day attempts started), so stats cost days × buckets, never events.
//! Writes rebuild the flow from events and must not interleave with
//! ingestion, which the backends ensure differently, so they are required
//! methods over the shared [`write`] functions.

pub mod attempt;
pub mod ingest;
pub mod model;
pub mod write;

use async_trait::async_trait;

use crate::db::HasDb;
use crate::StoreResult;
use model::{AttemptRow, Flow, FlowDay, FlowDays, FlowRollups, FlowRow};

/// At most this many flows per project (the API refuses more).
pub const MAX_FLOWS: usize = 50;
/// `window_hours` is 1 … 720 (30 days).
pub const MAX_WINDOW_HOURS: i64 = 720;

const COLS: &str =
    "id, name, start_step, complete_step, fail_step, window_hours, created_at, updated_at";
const DAYS: &str = "SELECT day, started, completed, failed, completion_ms_sum FROM flow_days
     WHERE project_id = $1 AND flow_id = $2 AND day >= $3 AND day <= $4 ORDER BY day";
const DURATIONS: &str = "SELECT bucket, CAST(SUM(n) AS BIGINT) FROM flow_duration_days
     WHERE project_id = $1 AND flow_id = $2 AND day >= $3 AND day <= $4 GROUP BY bucket ORDER BY bucket";

#[async_trait]
pub trait FlowStore: HasDb {
    // Writes rebuild the flow's rollup in a transaction serialised with
    // ingestion, which the backends ensure differently (SQLite: the writer
    // connection; PostgreSQL: a table lock), hence a required method; what
    // it does is `write::apply`.
    /// Runs a flow write (`timezone`: the project's, for local days); how
    /// many flows were (re)built.
    async fn write_flow(
        &self,
        project_id: &str,
        timezone: &str,
        op: write::FlowWrite,
    ) -> StoreResult<usize>;

    /// Stores the flow and builds its rollup from stored events.
    async fn create_flow(&self, project_id: &str, timezone: &str, flow: &Flow) -> StoreResult<()> {
        let op = write::FlowWrite::Create(flow.clone());
        self.write_flow(project_id, timezone, op).await.map(drop)
    }

    /// Replaces the definition and rebuilds the rollup; `NotFound` unless the
    /// flow is this project's.
    async fn update_flow(&self, project_id: &str, timezone: &str, flow: &Flow) -> StoreResult<()> {
        let op = write::FlowWrite::Update(flow.clone());
        self.write_flow(project_id, timezone, op).await.map(drop)
    }

    /// Deletes the flow and its rollup; `NotFound` unless it is this project's.
    async fn delete_flow(&self, project_id: &str, flow_id: &str) -> StoreResult<()> {
        let op = write::FlowWrite::Delete(flow_id.to_owned());
        self.write_flow(project_id, "UTC", op).await.map(drop)
    }

    /// Rebuilds every flow of the project from stored events (part of
    /// `rollup::rebuild`); how many.
    async fn rebuild_flows(&self, project_id: &str, timezone: &str) -> StoreResult<usize> {
        let op = write::FlowWrite::RebuildAll;
        self.write_flow(project_id, timezone, op).await
    }

    /// The project's flows, oldest first.
    async fn list_flows(&self, project_id: &str) -> StoreResult<Vec<Flow>> {
        let sql = format!("SELECT {COLS} FROM flows WHERE project_id = $1 ORDER BY created_at, id");
        let rows: Vec<FlowRow> = self.db().all(&sql, (project_id,)).await?;
        Ok(rows.into_iter().map(Flow::from).collect())
    }

    async fn get_flow(&self, project_id: &str, flow_id: &str) -> StoreResult<Option<Flow>> {
        let sql = format!("SELECT {COLS} FROM flows WHERE project_id = $1 AND id = $2");
        let row: Option<FlowRow> = self.db().optional(&sql, (project_id, flow_id)).await?;
        Ok(row.map(Flow::from))
    }

    /// The flow's day rows and duration histogram over `from_day..=to_day`
    /// (local days of the attempts' starts).
    async fn flow_days(
        &self,
        project_id: &str,
        flow_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<FlowDays> {
        let p = (project_id, flow_id, from_day, to_day);
        Ok(FlowDays {
            days: self.db().all(DAYS, p).await?,
            durations: self.db().all(DURATIONS, p).await?,
        })
    }

    /// Every rollup row of a flow, for tests comparing rebuild with ingest.
    async fn flow_rollups(&self, project_id: &str, flow_id: &str) -> StoreResult<FlowRollups> {
        let p = (project_id, flow_id);
        let attempts: Vec<AttemptRow> = self
            .db()
            .all(
                "SELECT site_user_id, flow_id, started_at, outcome, ended_at FROM flow_attempts
                 WHERE project_id = $1 AND flow_id = $2 ORDER BY site_user_id",
                p,
            )
            .await?;
        let days: Vec<FlowDay> = self
            .db()
            .all(
                "SELECT day, started, completed, failed, completion_ms_sum FROM flow_days
                 WHERE project_id = $1 AND flow_id = $2 ORDER BY day",
                p,
            )
            .await?;
        let durations: Vec<(String, i64, i64)> = self
            .db()
            .all(
                "SELECT day, bucket, n FROM flow_duration_days
                 WHERE project_id = $1 AND flow_id = $2 ORDER BY day, bucket",
                p,
            )
            .await?;
        Ok(FlowRollups {
            attempts,
            days,
            durations,
        })
    }
}
