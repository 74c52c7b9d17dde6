//! People domain: tracked people, their sessions and stored events as the
//! dashboard reads them (list, profile, history). Ingestion writes them; see
//! `crate::tracking`. All of it is shared SQL (see `crate::db`).

mod model;
pub mod query;

use async_trait::async_trait;

pub use model::*;

use crate::db::{err, on_db, Db, HasDb};
use crate::StoreResult;
use query::{
    numbered_placeholders, PageVisit, SessionWithPages, SqlValue, UserQuery, USER_COLUMNS,
};

const USER_COLS: &str = "u.id, u.anonymous_id, u.user_id, u.email, u.name, u.plan, u.traits, u.first_seen, u.last_seen, u.device, u.browser, u.os, u.event_count";
const SESSION_COLS: &str = "s.id, s.site_user_id, s.started_at, s.last_seen_at, s.ended_at, s.entry_url, s.current_url, s.current_path, s.page_entered_at, s.referrer, s.page_count, s.device, s.browser, s.os";
pub(crate) const SESSION_COLUMNS: &str = SESSION_COLS;
const EVENT_COLS: &str = "id, kind, name, anonymous_id, user_id, session_id, url, path, props, ts";
pub(crate) const EVENT_COLUMNS: &str = EVENT_COLS;

/// Each session with its page views in order.
pub(crate) async fn with_pages(
    db: &Db,
    project_id: &str,
    sessions: Vec<SiteSession>,
) -> StoreResult<Vec<SessionWithPages>> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    // By session first: ordering by time alone made SQLite walk the project's
    // whole (project_id, ts) index instead of seeking each session.
    let pages: Vec<PageVisit> = db
        .all_in(
            "SELECT session_id, path, url, title, ts FROM user_events WHERE project_id = ",
            project_id,
            " AND kind = 'pageview' AND session_id",
            &ids,
            " ORDER BY session_id, ts, id",
        )
        .await?;
    Ok(sessions
        .into_iter()
        .map(|session| {
            let pages = pages
                .iter()
                .filter(|p| p.session_id == session.id)
                .cloned()
                .collect();
            SessionWithPages { session, pages }
        })
        .collect())
}

#[async_trait]
pub trait PeopleStore: HasDb {
    async fn site_user(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<Option<SiteUser>> {
        let sql =
            format!("SELECT {USER_COLS} FROM site_users u WHERE u.project_id = $1 AND u.id = $2");
        on_db!(self.db(), pool => sqlx::query_as(&sql)
            .bind(project_id)
            .bind(site_user_id)
            .fetch_optional(pool)
            .await)
        .map_err(err)
    }

    /// The person an anonymous id currently belongs to.
    async fn site_user_for_anonymous_id(
        &self,
        project_id: &str,
        anonymous_id: &str,
    ) -> StoreResult<Option<SiteUser>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM site_user_aliases a
             JOIN site_users u ON u.project_id = a.project_id AND u.id = a.site_user_id
             WHERE a.project_id = $1 AND a.anonymous_id = $2"
        );
        self.db().optional(&sql, (project_id, anonymous_id)).await
    }

    async fn session(
        &self,
        project_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SiteSession>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM site_sessions s WHERE s.project_id = $1 AND s.id = $2"
        );
        self.db().optional(&sql, (project_id, session_id)).await
    }

    /// One page of the people list (`query.limit` rows).
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<SiteUser>> {
        let (sql, args) = query.to_sql(crate::segments::Dialect::of(self.db()));
        let sql = numbered_placeholders(&sql);
        on_db!(self.db(), pool => SqlValue::bind_all(sqlx::query_as(&sql), args)
            .fetch_all(pool)
            .await)
        .map_err(err)
    }

    /// A person by person id, user id or any of their anonymous ids.
    async fn find_user(&self, project_id: &str, any_id: &str) -> StoreResult<Option<SiteUser>> {
        // Three indexed lookups: with the conditions OR-ed in one WHERE, SQLite read
        // every person of the project (2 s at a million people).
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM (
                SELECT {USER_COLUMNS}, 0 AS rank FROM site_users WHERE project_id = $1 AND id = $2
                UNION ALL
                SELECT {USER_COLUMNS}, 1 FROM site_users WHERE project_id = $1 AND user_id = $2
                UNION ALL
                SELECT {USER_COLUMNS}, 2 FROM site_users WHERE project_id = $1
                  AND id = (SELECT site_user_id FROM site_user_aliases WHERE project_id = $1 AND anonymous_id = $2)
             ) AS found
             ORDER BY rank LIMIT 1"
        );
        self.db().optional(&sql, (project_id, any_id)).await
    }

    /// How many sessions a person had and how long they lasted on average.
    async fn user_session_totals(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<SessionTotals> {
        let sql = "SELECT COUNT(*) AS sessions,
                CAST(COALESCE(SUM(last_seen_at - started_at), 0) AS BIGINT) AS duration_ms
             FROM site_sessions WHERE project_id = $1 AND site_user_id = $2";
        let (sessions, duration_ms): (i64, i64) =
            self.db().one(sql, (project_id, site_user_id)).await?;
        Ok(SessionTotals {
            total_sessions: sessions,
            avg_session_s: if sessions == 0 {
                0
            } else {
                duration_ms.max(0) / sessions / 1000
            },
        })
    }

    /// How many sessions each person of a page of the people list had: one
    /// grouped count over `site_sessions_person` for the page's people.
    /// People without sessions are left out.
    async fn listed_session_counts(
        &self,
        project_id: &str,
        site_user_ids: &[String],
    ) -> StoreResult<std::collections::HashMap<String, i64>> {
        let ids: Vec<&str> = site_user_ids.iter().map(String::as_str).collect();
        let rows: Vec<(String, i64)> = self
            .db()
            .all_in(
                "SELECT site_user_id, COUNT(*) FROM site_sessions WHERE project_id = ",
                project_id,
                " AND site_user_id",
                &ids,
                " GROUP BY site_user_id",
            )
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// A person's sessions, newest first, each with its page views in order.
    async fn user_sessions(
        &self,
        project_id: &str,
        site_user_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<SessionWithPages>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM site_sessions s WHERE s.project_id = $1 AND s.site_user_id = $2
             ORDER BY s.started_at DESC, s.id LIMIT $3"
        );
        let sessions: Vec<SiteSession> = self
            .db()
            .all(&sql, (project_id, site_user_id, limit))
            .await?;
        with_pages(self.db(), project_id, sessions).await
    }

    /// The newest stored events of a project.
    async fn recent_events(&self, project_id: &str, limit: i64) -> StoreResult<Vec<StoredEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM user_events WHERE project_id = $1 ORDER BY ts DESC, id DESC LIMIT $2"
        );
        self.db().all(&sql, (project_id, limit)).await
    }

    async fn events_for_session(
        &self,
        project_id: &str,
        session_id: &str,
    ) -> StoreResult<Vec<StoredEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM user_events WHERE project_id = $1 AND session_id = $2 ORDER BY ts, id"
        );
        self.db().all(&sql, (project_id, session_id)).await
    }
}
