//! The people list, profiles and session histories.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use vibe_store::users::{PageVisit, SessionWithPages, SqlValue, UserQuery, USER_COLUMNS};
use vibe_store::*;

use crate::err;

pub async fn list_users(pool: &SqlitePool, query: &UserQuery) -> StoreResult<Vec<SiteUser>> {
    let (sql, args) = query.to_sql();
    let mut q = sqlx::query_as::<_, SiteUser>(&sql);
    for a in args {
        q = match a {
            SqlValue::Text(s) => q.bind(s),
            SqlValue::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(pool).await.map_err(err)
}

pub async fn find_user(
    pool: &SqlitePool,
    project_id: &str,
    any_id: &str,
) -> StoreResult<Option<SiteUser>> {
    // Three indexed lookups: with the conditions OR-ed in one WHERE, SQLite read
    // every person of the project (2 s at a million people).
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM (
            SELECT {USER_COLUMNS}, 0 AS rank FROM site_users WHERE project_id = ?1 AND id = ?2
            UNION ALL
            SELECT {USER_COLUMNS}, 1 FROM site_users WHERE project_id = ?1 AND user_id = ?2
            UNION ALL
            SELECT {USER_COLUMNS}, 2 FROM site_users WHERE project_id = ?1
              AND id = (SELECT site_user_id FROM site_user_aliases WHERE project_id = ?1 AND anonymous_id = ?2))
         ORDER BY rank LIMIT 1"
    ))
    .bind(project_id)
    .bind(any_id)
    .fetch_optional(pool)
    .await
    .map_err(err)
}

pub async fn count_user_sessions(
    pool: &SqlitePool,
    project_id: &str,
    site_user_id: &str,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM site_sessions WHERE project_id = ?1 AND site_user_id = ?2",
    )
    .bind(project_id)
    .bind(site_user_id)
    .fetch_one(pool)
    .await
    .map_err(err)
}

pub async fn user_sessions(
    pool: &SqlitePool,
    project_id: &str,
    site_user_id: &str,
    limit: i64,
) -> StoreResult<Vec<SessionWithPages>> {
    let sessions: Vec<SiteSession> = sqlx::query_as(
        "SELECT s.id, s.site_user_id, s.started_at, s.last_seen_at, s.ended_at, s.entry_url, s.current_url, s.current_path,
                s.page_entered_at, s.referrer, s.page_count, s.device, s.browser, s.os
         FROM site_sessions s WHERE s.project_id = ?1 AND s.site_user_id = ?2
         ORDER BY s.started_at DESC, s.id LIMIT ?3",
    )
    .bind(project_id)
    .bind(site_user_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT session_id, path, url, title, ts FROM user_events WHERE project_id = ",
    );
    q.push_bind(project_id)
        .push(" AND kind = 'pageview' AND session_id IN (");
    let mut sep = q.separated(", ");
    for s in &sessions {
        sep.push_bind(&s.id);
    }
    // By session first: ordering by time alone made SQLite walk the project's
    // whole (project_id, ts) index instead of seeking each session.
    q.push(") ORDER BY session_id, ts, id");
    let pages: Vec<PageVisit> = q.build_query_as().fetch_all(pool).await.map_err(err)?;
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
