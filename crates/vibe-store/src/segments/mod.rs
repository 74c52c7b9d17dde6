//! Segments domain: custom segments of a project's people, defined by
//! criteria (`criteria.rs`: the grammar, its parser and its compilation into
//! one parameterised `WHERE` fragment over `site_users su`) and kept with the
//! count of people they match (`user_count`, refreshed on demand and by the
//! scheduler). The people list and its CSV export filter by a segment through
//! `users::UserQuery::criteria`. Shared SQL only; every statement filters by
//! project except the scheduler's list of stale segments, which spans them.

pub mod criteria;
mod model;

use async_trait::async_trait;

pub use criteria::{CriteriaError, Dialect, Node};
pub use model::*;

use crate::db::{err, found, on_db, HasDb};
use crate::users::{numbered_placeholders, SqlValue};
use crate::{StoreError, StoreResult};

const COLS: &str =
    "id, name, description, criteria, user_count, counted_at, created_at, updated_at";
const INSERT: &str = "INSERT INTO segments
     (project_id, id, name, description, criteria, user_count, counted_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const UPDATE: &str = "UPDATE segments SET name = $3, description = $4, criteria = $5,
     user_count = $6, counted_at = $7, updated_at = $8
     WHERE project_id = $1 AND id = $2";
const DELETE: &str = "DELETE FROM segments WHERE project_id = $1 AND id = $2";
const SET_COUNT: &str =
    "UPDATE segments SET user_count = $3, counted_at = $4 WHERE project_id = $1 AND id = $2";
const TOUCH: &str = "UPDATE segments SET counted_at = $3 WHERE project_id = $1 AND id = $2";
/// Never counted first, then the oldest count (`segments_counted`).
const STALE: &str = "SELECT project_id, id, criteria FROM segments
     WHERE counted_at IS NULL OR counted_at < $1
     ORDER BY COALESCE(counted_at, 0), project_id, id LIMIT $2";

/// Parses stored criteria (they were validated when saved).
pub fn stored_criteria(text: &str) -> StoreResult<Node> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| StoreError::Rejected(format!("stored criteria are not JSON: {e}")))?;
    Node::parse(&value, "criteria").map_err(|e| StoreError::Rejected(e.to_string()))
}

#[async_trait]
pub trait SegmentStore: HasDb {
    async fn create_segment(&self, project_id: &str, s: &Segment) -> StoreResult<()> {
        let params = (
            project_id,
            &s.id,
            &s.name,
            &s.description,
            &s.criteria,
            s.user_count,
            s.counted_at,
            s.created_at,
            s.updated_at,
        );
        self.db().execute(INSERT, params).await.map(drop)
    }

    /// The project's segments by name.
    async fn list_segments(&self, project_id: &str) -> StoreResult<Vec<Segment>> {
        let sql = format!("SELECT {COLS} FROM segments WHERE project_id = $1");
        let mut all: Vec<Segment> = self.db().all(&sql, (project_id,)).await?;
        // In Rust: the databases' collations differ (see `crm::TAGS`).
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(all)
    }

    async fn get_segment(&self, project_id: &str, id: &str) -> StoreResult<Option<Segment>> {
        let sql = format!("SELECT {COLS} FROM segments WHERE project_id = $1 AND id = $2");
        self.db().optional(&sql, (project_id, id)).await
    }

    /// `NotFound` unless the segment is this project's.
    async fn update_segment(&self, project_id: &str, s: &Segment) -> StoreResult<()> {
        let params = (
            project_id,
            &s.id,
            &s.name,
            &s.description,
            &s.criteria,
            s.user_count,
            s.counted_at,
            s.updated_at,
        );
        found(self.db().execute(UPDATE, params).await?)
    }

    async fn delete_segment(&self, project_id: &str, id: &str) -> StoreResult<()> {
        found(self.db().execute(DELETE, (project_id, id)).await?)
    }

    /// How many of the project's people match `criteria` now: one query.
    async fn count_matching(
        &self,
        project_id: &str,
        criteria: &Node,
        now_ms: i64,
    ) -> StoreResult<i64> {
        let mut sql =
            String::from("SELECT COUNT(*) FROM site_users su WHERE su.project_id = ? AND ");
        let mut args = vec![SqlValue::Text(project_id.to_owned())];
        criteria.push_sql(
            Dialect::of(self.db()),
            project_id,
            now_ms,
            &mut sql,
            &mut args,
        );
        let sql = numbered_placeholders(&sql);
        on_db!(self.db(), pool => SqlValue::bind_all(sqlx::query_as::<_, (i64,)>(&sql), args)
            .fetch_one(pool)
            .await)
        .map(|(n,)| n)
        .map_err(err)
    }

    /// The people matching `criteria` now, as `(id, traits)` (traits JSON
    /// text), by id: the same condition as [`Self::count_matching`].
    async fn matching_people(
        &self,
        project_id: &str,
        criteria: &Node,
        now_ms: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let mut sql =
            String::from("SELECT su.id, su.traits FROM site_users su WHERE su.project_id = ? AND ");
        let mut args = vec![SqlValue::Text(project_id.to_owned())];
        criteria.push_sql(
            Dialect::of(self.db()),
            project_id,
            now_ms,
            &mut sql,
            &mut args,
        );
        sql.push_str(" ORDER BY su.id");
        let sql = numbered_placeholders(&sql);
        on_db!(self.db(), pool => SqlValue::bind_all(sqlx::query_as::<_, (String, String)>(&sql), args)
            .fetch_all(pool)
            .await)
        .map_err(err)
    }

    /// Recounts one segment; `None` if it is not this project's.
    async fn refresh_segment(
        &self,
        project_id: &str,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Segment>> {
        let Some(mut s) = self.get_segment(project_id, id).await? else {
            return Ok(None);
        };
        let criteria = stored_criteria(&s.criteria)?;
        s.user_count = self.count_matching(project_id, &criteria, now_ms).await?;
        s.counted_at = Some(now_ms);
        self.db()
            .execute(SET_COUNT, (project_id, id, s.user_count, now_ms))
            .await?;
        Ok(Some(s))
    }

    /// Recounts up to `limit` segments (of any project) counted before
    /// `older_than_ms`, oldest first; returns how many were recounted. A
    /// segment whose count fails (e.g. its criteria need a table a migration
    /// has not created yet) is marked counted anyway, so it cannot keep the
    /// others from their turn; the error is logged.
    async fn refresh_stale_segments(
        &self,
        older_than_ms: i64,
        now_ms: i64,
        limit: i64,
    ) -> StoreResult<usize> {
        let stale: Vec<StaleSegment> = self.db().all(STALE, (older_than_ms, limit)).await?;
        let mut done = 0;
        for s in stale {
            let counted = match stored_criteria(&s.criteria) {
                Ok(c) => self.count_matching(&s.project_id, &c, now_ms).await,
                Err(e) => Err(e),
            };
            match counted {
                Ok(n) => {
                    self.db()
                        .execute(SET_COUNT, (&s.project_id, &s.id, n, now_ms))
                        .await?;
                    done += 1;
                }
                Err(e) => {
                    tracing::warn!(project = %s.project_id, segment = %s.id, error = %e, "segment count failed");
                    self.db()
                        .execute(TOUCH, (&s.project_id, &s.id, now_ms))
                        .await?;
                }
            }
        }
        Ok(done)
    }
}
