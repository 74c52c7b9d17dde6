//! Funnels domain: definitions (`funnel`), the incremental rollup maths
//! (`rollup`), and the store. Reads are shared SQL; writes rebuild the funnel's
//! rollup from events and must not interleave with ingestion, which the backends
//! ensure differently (SQLite: the writer connection; PostgreSQL: table locks),
//! so they are required methods whose statements come from [`sql`].

pub mod build;
pub mod funnel;
pub mod rollup;

use async_trait::async_trait;

use crate::db::{err, on_db, HasDb};
use crate::StoreResult;
use funnel::{events_sql, Funnel, FunnelEvent, FunnelRow, FunnelStep, MAX_STEPS};
use rollup::{hour_of, sum_counts, HOUR_MS};

/// Statements both backends run for funnel writes, on their own connections.
pub mod sql {
    pub const INSERT: &str =
        "INSERT INTO funnels (id, project_id, name, steps, window_days, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    pub const UPDATE: &str =
        "UPDATE funnels SET name = $1, steps = $2, window_days = $3, updated_at = $4
         WHERE project_id = $5 AND id = $6";
    pub const DELETE: &str = "DELETE FROM funnels WHERE project_id = $1 AND id = $2";
    /// Run after [`DELETE`], with the same `$1` (project) and `$2` (funnel).
    pub const DELETE_ROLLUP: [&str; 3] = [
        "DELETE FROM funnel_hits WHERE project_id = $1 AND funnel_id = $2",
        "DELETE FROM funnel_reach WHERE project_id = $1 AND funnel_id = $2",
        "DELETE FROM funnel_reach_hours WHERE project_id = $1 AND funnel_id = $2",
    ];
    /// Columns of `FunnelRow`.
    pub const COLS: &str = "id, name, steps, window_days, created_at, updated_at";

    /// The steps column (JSON as text).
    pub fn steps_json(f: &super::Funnel) -> String {
        serde_json::to_string(&f.steps).unwrap_or_else(|_| "[]".into())
    }
}

#[async_trait]
pub trait FunnelStore: HasDb {
    /// Stores the funnel and marks its rollup building (`funnels::build`); the
    /// builder task fills it in with [`FunnelStore::build_funnel_chunk`].
    async fn create_funnel(&self, project_id: &str, funnel: &Funnel) -> StoreResult<()>;

    /// Replaces name, steps and window and marks the rollup for rebuilding (old
    /// rows are cleared by the builder); `NotFound` when it is not this project's.
    async fn update_funnel(&self, project_id: &str, funnel: &Funnel) -> StoreResult<()>;

    async fn delete_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<()>;

    /// Rebuilds the rollup of a project's funnels (all projects with `None`) from
    /// events; with `only_unbuilt`, just funnels whose rollup was never built.
    /// Returns how many funnels were rebuilt.
    async fn rebuild_funnels(
        &self,
        project_id: Option<&str>,
        only_unbuilt: bool,
    ) -> StoreResult<usize>;

    /// Build state of each of a project's funnels, by funnel id.
    async fn funnel_build_states(
        &self,
        project_id: &str,
    ) -> StoreResult<Vec<(String, build::BuildState)>> {
        build::io::states(self.db(), project_id).await
    }
    /// `(project_id, funnel_id)` of every funnel not ready, oldest first.
    async fn funnels_to_build(&self) -> StoreResult<Vec<(String, String)>> {
        build::io::pending(self.db()).await
    }
    // A build chunk runs in a short transaction serialised with ingestion,
    // which the backends ensure differently (SQLite: the writer connection;
    // PostgreSQL: table locks with a lock timeout), hence a required method.
    /// One short transaction of a funnel's build: `chunk` events scanned, rows
    /// cleared per table, or `chunk / 50` people recomputed.
    async fn build_funnel_chunk(
        &self,
        project_id: &str,
        funnel_id: &str,
        chunk: usize,
    ) -> StoreResult<build::ChunkDone>;

    async fn list_funnels(&self, project_id: &str) -> StoreResult<Vec<Funnel>> {
        let sql = format!(
            "SELECT {} FROM funnels WHERE project_id = $1 ORDER BY created_at, id",
            sql::COLS
        );
        let rows: Vec<FunnelRow> = self.db().all(&sql, (project_id,)).await?;
        Ok(rows.into_iter().map(Funnel::from).collect())
    }

    async fn get_funnel(&self, project_id: &str, funnel_id: &str) -> StoreResult<Option<Funnel>> {
        let sql = format!(
            "SELECT {} FROM funnels WHERE project_id = $1 AND id = $2",
            sql::COLS
        );
        let row: Option<FunnelRow> = self.db().optional(&sql, (project_id, funnel_id)).await?;
        Ok(row.map(Funnel::from))
    }

    /// From the rollup: `(k, people)` for each step count k reached by people whose
    /// attempt started at or after `from_ms` (periods end now; see `funnel_rollup`):
    /// whole hours from the hour buckets, the first hour from the rows.
    async fn funnel_reach_counts(
        &self,
        project_id: &str,
        funnel_id: &str,
        from_ms: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let hour = hour_of(from_ms);
        // Naming every step lets the (…, step, last_start) index seek each step's range
        // instead of reading the funnel's whole key prefix.
        let steps = (1..=MAX_STEPS)
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let first_hour = format!(
            "SELECT step, COUNT(*) FROM funnel_reach
             WHERE project_id = $1 AND funnel_id = $2 AND step IN ({steps}) AND last_start >= $3 AND last_start < $4
             GROUP BY step"
        );
        // PostgreSQL sums BIGINT into NUMERIC; the cast keeps it an i64 on both.
        let whole_hours = "SELECT step, CAST(SUM(people) AS BIGINT) FROM funnel_reach_hours
             WHERE project_id = $1 AND funnel_id = $2 AND hour > $3 GROUP BY step";
        let whole: Vec<(i64, i64)> = self
            .db()
            .all(whole_hours, (project_id, funnel_id, hour))
            .await?;
        let first_end = (hour + 1).saturating_mul(HOUR_MS);
        let params = (project_id, funnel_id, from_ms, first_end);
        let first: Vec<(i64, i64)> = self.db().all(&first_hour, params).await?;
        Ok(sum_counts(&whole, &first))
    }

    /// Stored page views and events in `[from_ms, to_ms]` that match any of `steps`,
    /// with the person each belongs to.
    async fn funnel_events(
        &self,
        project_id: &str,
        steps: &[FunnelStep],
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<FunnelEvent>> {
        let (sql, args) = events_sql(project_id, steps, from_ms, to_ms);
        let sql = crate::users::numbered_placeholders(&sql);
        on_db!(self.db(), pool => crate::users::SqlValue::bind_all(sqlx::query_as(&sql), args)
            .fetch_all(pool)
            .await)
        .map_err(err)
    }
}
