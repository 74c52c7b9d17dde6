//! Tracking domain: ingestion (backend-specific, the hot path) and the presence
//! reads of the live feed. Shared SQL has default bodies; the required methods
//! are where the backends genuinely differ.

pub mod ingest;

use async_trait::async_trait;

use crate::db::{err, Db, HasDb};
use crate::{IngestJob, IngestOutcome, OnlineVisitor, StoreResult};

/// Columns of [`OnlineVisitor`], from `site_sessions s JOIN site_users u`.
pub const ONLINE_COLS: &str = "s.id AS session_id, s.site_user_id, u.anonymous_id, u.user_id, u.email, u.name, u.traits,
     s.started_at, s.last_seen_at, s.current_url, s.current_path, s.current_title, s.page_entered_at,
     s.page_count, s.referrer, s.device, s.browser, s.os";

/// `FROM` of the presence reads; `$1` is the project, `$2` the window start.
pub const ONLINE_FROM: &str = "FROM site_sessions s JOIN site_users u ON u.project_id = s.project_id AND u.id = s.site_user_id
     WHERE s.project_id = $1 AND s.last_seen_at >= $2 AND s.ended_at IS NULL";

/// A presence read: [`ONLINE_COLS`] [`ONLINE_FROM`] and `tail`.
fn online_sql(tail: &str) -> String {
    format!("SELECT {ONLINE_COLS} {ONLINE_FROM} {tail}")
}

#[async_trait]
pub trait TrackingStore: HasDb {
    /// Writes every job of a batch in one transaction and reports, per job, how many
    /// messages were new and how many were retries of already-stored ids.
    async fn ingest(&self, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>>;

    /// Like [`TrackingStore::online_visitors`], restricted to the given sessions
    /// (the live feed looks up only what a batch touched).
    async fn online_visitors_in(
        &self,
        project_id: &str,
        since_ms: i64,
        session_ids: &[String],
    ) -> StoreResult<Vec<OnlineVisitor>> {
        match self.db() {
            // PostgreSQL binds one array: one statement shape whatever the number
            // of sessions.
            Db::Postgres(pool) => {
                let sql = online_sql("AND s.id = ANY($3)");
                let q = sqlx::query_as(&sql).bind(project_id).bind(since_ms);
                q.bind(session_ids).fetch_all(pool).await.map_err(err)
            }
            // SQLite has no arrays: bounded IN lists keep under its
            // bound-parameter limit.
            Db::Sqlite(pool) => {
                let mut out = Vec::new();
                for chunk in session_ids.chunks(500) {
                    let marks = (3..3 + chunk.len())
                        .map(|n| format!("${n}"))
                        .collect::<Vec<_>>()
                        .join(",");
                    let sql = online_sql(&format!("AND s.id IN ({marks})"));
                    let mut q = sqlx::query_as(&sql).bind(project_id).bind(since_ms);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    out.extend(q.fetch_all(pool).await.map_err(err)?);
                }
                Ok(out)
            }
        }
    }

    /// Closes sessions idle since before `idle_before_ms` (their `ended_at` becomes
    /// their `last_seen_at`); returns how many were closed.
    async fn expire_sessions(&self, idle_before_ms: i64) -> StoreResult<u64> {
        let Db::Sqlite(_) = self.db() else {
            // One statement on PostgreSQL, per project so the
            // (project_id, last_seen_at) index serves the range.
            let sql = "UPDATE site_sessions SET ended_at = last_seen_at
                 WHERE project_id IN (SELECT id FROM projects) AND last_seen_at < $1 AND ended_at IS NULL";
            return self.db().execute(sql, (idle_before_ms,)).await;
        };
        // In chunks on SQLite, each its own transaction: after a bulk import
        // millions of sessions can be due at once, and one statement would hold
        // SQLite's only write lock (and keep the collector waiting) for seconds.
        const CHUNK: i64 = 5_000;
        let sql = "UPDATE site_sessions SET ended_at = last_seen_at WHERE rowid IN (
                SELECT rowid FROM site_sessions
                WHERE project_id IN (SELECT id FROM projects) AND last_seen_at < $1 AND ended_at IS NULL
                LIMIT $2)";
        let mut total = 0;
        loop {
            let done = self.db().execute(sql, (idle_before_ms, CHUNK)).await?;
            total += done;
            if done < CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// Sessions seen at or after `since_ms` that have not left, newest first.
    async fn online_visitors(
        &self,
        project_id: &str,
        since_ms: i64,
    ) -> StoreResult<Vec<OnlineVisitor>> {
        let newest_first = online_sql("ORDER BY s.last_seen_at DESC, s.id LIMIT 10000");
        self.db().all(&newest_first, (project_id, since_ms)).await
    }

    /// Sessions whose last activity is in `[from_ms, to_ms)`: those that dropped out
    /// of the online window between two sweeps of the live feed.
    async fn sessions_last_seen_between(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<String>> {
        let sql = "SELECT id FROM site_sessions WHERE project_id = $1 AND last_seen_at >= $2 AND last_seen_at < $3";
        self.db().scalars(sql, (project_id, from_ms, to_ms)).await
    }

    async fn count_events(&self, project_id: &str) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM user_events WHERE project_id = $1";
        self.db().scalar(sql, (project_id,)).await
    }
}
