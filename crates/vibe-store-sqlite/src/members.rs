//! Project members for the settings screen (adding one is `projects::add_member`).

use sqlx::SqlitePool;
use vibe_store::*;

use crate::err;

pub async fn list_members(pool: &SqlitePool, project_id: &str) -> StoreResult<Vec<Member>> {
    sqlx::query_as(
        "SELECT m.account_id, a.email, m.role, m.created_at
         FROM members m JOIN accounts a ON a.id = m.account_id
         WHERE m.project_id = ?
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, a.email",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn remove_member(
    pool: &SqlitePool,
    project_id: &str,
    account_id: &str,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM members WHERE project_id = ? AND account_id = ?")
        .bind(project_id)
        .bind(account_id)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(done.rows_affected() > 0)
}
