//! Analytics domain: the rollup tables (`daily_stats`, `user_days`) and the
//! reads behind the metric cards. Ingestion keeps the rollups current inside its
//! own transaction (backend code); everything here is shared SQL (see
//! `crate::db`). Their cost depends on days and active people in the range,
//! never on the number of raw events.

pub mod rollup;

use crate::db::BeginWrite;
use async_trait::async_trait;

use crate::db::{err, on_db, HasDb};
use crate::ingest::shaped_chunks;
use crate::StoreResult;
use rollup::{DailyStats, RollupInputs, SessionState};

const DAILY_STATS: &str = "SELECT day, active_users, new_users, sessions, pageviews, events, session_ms, bounces, churn_base, churned, signups
     FROM daily_stats
     WHERE project_id = $1 AND day >= $2 AND day <= $3
       AND (active_users <> 0 OR new_users <> 0 OR sessions <> 0 OR pageviews <> 0 OR events <> 0 OR churn_base <> 0 OR signups <> 0)
     ORDER BY day";
const ONLINE_AT: &str = "SELECT COUNT(*) FROM site_sessions
     WHERE project_id = $1 AND started_at > $2 - 86400000 AND started_at <= $2
       AND last_seen_at >= $2 - $3 AND (ended_at IS NULL OR ended_at >= $2)";
// Two range scans of the primary key and a set difference: linear in the
// activity of the two weeks, whatever the plan of a correlated subquery.
const CHURN_COUNTS: &str = "SELECT
        (SELECT COUNT(DISTINCT site_user_id) FROM user_days WHERE project_id = $1 AND day >= $2 AND day <= $3),
        (SELECT COUNT(*) FROM (
            SELECT site_user_id FROM user_days WHERE project_id = $1 AND day >= $2 AND day <= $3
            EXCEPT
            SELECT site_user_id FROM user_days WHERE project_id = $1 AND day >= $4 AND day <= $5) gone)";
// Events belong to the person their anonymous id maps to now (merges re-point
// aliases), or — without one — to the person of their user id.
const ROLLUP_EVENTS: &str = "SELECT e.ts, e.kind, COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id)
     FROM user_events e
     LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
     LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
     WHERE e.project_id = $1 AND e.ts >= $2 AND e.ts < $3";
/// When each user id was first sent in a stored message (a signup).
const SIGNUP_TIMES: &str = "SELECT MIN(ts) FROM user_events
     WHERE project_id = $1 AND user_id IS NOT NULL GROUP BY user_id";
const ROLLUP_SESSIONS: &str = "SELECT started_at, last_seen_at, page_count FROM site_sessions
     WHERE project_id = $1 AND started_at >= $2 AND started_at < $3";
const ROLLUP_FIRST_SEEN: &str =
    "SELECT first_seen FROM site_users WHERE project_id = $1 AND first_seen >= $2 AND first_seen < $3";
const RESET_CHURN: &str = "UPDATE daily_stats SET churn_base = 0, churned = 0 WHERE project_id = $1 AND day >= $2 AND day <= $3";
const UPSERT_CHURN: &str = "INSERT INTO daily_stats (project_id, day, churn_base, churned) VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id, day) DO UPDATE SET churn_base = excluded.churn_base, churned = excluded.churned";

#[async_trait]
pub trait AnalyticsStore: HasDb {
    /// Stored `daily_stats` rows with `from_day <= day <= to_day` (days without
    /// activity have no row).
    async fn daily_stats(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<DailyStats>> {
        self.db()
            .all(DAILY_STATS, (project_id, from_day, to_day))
            .await
    }

    /// Sessions open at `at_ms`: started by then, seen within `window_ms` before it,
    /// and not ended before it. Only sessions started in the 24 h before are
    /// considered, which keeps this an index range scan.
    async fn online_at(&self, project_id: &str, at_ms: i64, window_ms: i64) -> StoreResult<i64> {
        self.db()
            .scalar(ONLINE_AT, (project_id, at_ms, window_ms))
            .await
    }

    /// Sessions seen at or after `since_ms` that have not left (the size of `/online`).
    async fn count_online(&self, project_id: &str, since_ms: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM site_sessions WHERE project_id = $1 AND last_seen_at >= $2 AND ended_at IS NULL";
        self.db().scalar(sql, (project_id, since_ms)).await
    }

    /// People active in `[prev_from, prev_to]` (local days), and how many of them
    /// were not active in `[cur_from, cur_to]`.
    async fn churn_counts(
        &self,
        project_id: &str,
        prev: (&str, &str),
        cur: (&str, &str),
    ) -> StoreResult<(i64, i64)> {
        let params = (project_id, prev.0, prev.1, cur.0, cur.1);
        self.db().one(CHURN_COUNTS, params).await
    }

    /// Raw inputs for rebuilding rollups of `[from_ms, to_ms)`: stored events with
    /// their person, sessions that started, and first-seen times of people.
    async fn rollup_inputs(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<RollupInputs> {
        let range = (project_id, from_ms, to_ms);
        let events: Vec<(i64, String, String)> = self.db().all(ROLLUP_EVENTS, range).await?;
        let sessions: Vec<(i64, i64, i64)> = self.db().all(ROLLUP_SESSIONS, range).await?;
        let first_seen: Vec<i64> = self.db().scalars(ROLLUP_FIRST_SEEN, range).await?;
        Ok(RollupInputs {
            events,
            sessions: sessions
                .into_iter()
                .map(|(started_at, last_seen_at, page_count)| SessionState {
                    started_at,
                    last_seen_at,
                    page_count,
                })
                .collect(),
            first_seen,
        })
    }

    /// The first time each user id of a project was sent (rebuild input).
    async fn signup_times(&self, project_id: &str) -> StoreResult<Vec<i64>> {
        self.db().scalars(SIGNUP_TIMES, (project_id,)).await
    }

    /// Replaces `daily_stats` and `user_days` for `from_day..=to_day` in one transaction.
    async fn replace_rollups(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        stats: &[DailyStats],
        user_days: &[(String, String)],
    ) -> StoreResult<()> {
        on_db!(self.db(), pool, DB => async {
            let mut tx = pool.begin_write().await?;
            for table in ["daily_stats", "user_days"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE project_id = $1 AND day >= $2 AND day <= $3"
                ))
                .bind(project_id)
                .bind(from_day)
                .bind(to_day)
                .execute(&mut *tx)
                .await?;
            }
            for chunk in shaped_chunks(stats) {
                let mut q = sqlx::QueryBuilder::<DB>::new(crate::ingest::io::INSERT_DAILY_STATS);
                q.push_values(chunk, |mut b, s| {
                    b.push_bind(project_id).push_bind(&s.day);
                    for count in s.counts.columns() {
                        b.push_bind(*count);
                    }
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in shaped_chunks(user_days) {
                let mut q = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO user_days (project_id, day, site_user_id) ",
                );
                q.push_values(chunk, |mut b, (day, person)| {
                    b.push_bind(project_id).push_bind(day).push_bind(person);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)
        .map_err(err)
    }

    /// Sets the churn counters of days `from_day..=to_day` to `rows` (day, base,
    /// churned), zero for days not listed.
    async fn replace_churn(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        rows: &[(String, i64, i64)],
    ) -> StoreResult<()> {
        on_db!(self.db(), pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(RESET_CHURN)
                .bind(project_id)
                .bind(from_day)
                .bind(to_day)
                .execute(&mut *tx)
                .await?;
            for (day, base, churned) in rows {
                sqlx::query(UPSERT_CHURN)
                    .bind(project_id)
                    .bind(day)
                    .bind(base)
                    .bind(churned)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }.await)
        .map_err(err)
    }

    /// Projects whose rollups a migration asked to rebuild from events.
    async fn pending_rollup_rebuilds(&self) -> StoreResult<Vec<String>> {
        let sql = "SELECT project_id FROM rollup_rebuilds ORDER BY project_id";
        self.db().scalars(sql, ()).await
    }

    async fn rollup_rebuild_done(&self, project_id: &str) -> StoreResult<()> {
        let sql = "DELETE FROM rollup_rebuilds WHERE project_id = $1";
        self.db().execute(sql, (project_id,)).await?;
        Ok(())
    }

    /// Earliest and latest stored event time of a project.
    async fn event_time_bounds(&self, project_id: &str) -> StoreResult<Option<(i64, i64)>> {
        let sql = "SELECT MIN(ts), MAX(ts) FROM user_events WHERE project_id = $1";
        let row: (Option<i64>, Option<i64>) = self.db().one(sql, (project_id,)).await?;
        Ok(row.0.zip(row.1))
    }

    /// Rollup rows exactly as stored, for tests comparing rebuild with ingest.
    async fn user_days(&self, project_id: &str) -> StoreResult<Vec<(String, String)>> {
        let sql = "SELECT day, site_user_id FROM user_days WHERE project_id = $1 ORDER BY day, site_user_id";
        self.db().all(sql, (project_id,)).await
    }
}
