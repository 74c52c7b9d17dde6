use sqlx::SqlitePool;
use vibe_store::*;

use crate::err;

const PROJECT_COLS: &str =
    "p.id, p.name, p.write_key, p.allowed_origins, p.timezone, p.online_window_s, p.created_at";

pub async fn create_project(
    pool: &SqlitePool,
    p: &NewProject,
    owner: Option<&str>,
) -> StoreResult<Project> {
    let origins = serde_json::to_string(&p.allowed_origins).unwrap_or_else(|_| "[]".into());
    let mut tx = pool.begin().await.map_err(err)?;
    sqlx::query(
        "INSERT INTO projects (id, name, write_key, allowed_origins, timezone, online_window_s, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.write_key)
    .bind(&origins)
    .bind(&p.timezone)
    .bind(p.online_window_s)
    .bind(p.created_at)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    if let Some(account_id) = owner {
        sqlx::query("INSERT INTO members (project_id, account_id, role, created_at) VALUES (?, ?, 'owner', ?)")
            .bind(&p.id)
            .bind(account_id)
            .bind(p.created_at)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    Ok(Project {
        id: p.id.clone(),
        name: p.name.clone(),
        write_key: p.write_key.clone(),
        allowed_origins: p.allowed_origins.clone(),
        timezone: p.timezone.clone(),
        online_window_s: p.online_window_s,
        created_at: p.created_at,
    })
}

pub async fn list_projects(pool: &SqlitePool) -> StoreResult<Vec<Project>> {
    let rows: Vec<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLS} FROM projects p ORDER BY p.created_at, p.id"
    ))
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(rows.into_iter().map(Project::from).collect())
}

pub async fn projects_for_account(
    pool: &SqlitePool,
    account_id: &str,
) -> StoreResult<Vec<Project>> {
    let rows: Vec<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLS} FROM projects p JOIN members m ON m.project_id = p.id
         WHERE m.account_id = ? ORDER BY p.created_at, p.id"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    Ok(rows.into_iter().map(Project::from).collect())
}

#[derive(sqlx::FromRow)]
struct MemberProjectRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    role: Role,
}

pub async fn project_for_member(
    pool: &SqlitePool,
    project_id: &str,
    account_id: &str,
) -> StoreResult<Option<(Project, Role)>> {
    let row: Option<MemberProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLS}, m.role FROM projects p JOIN members m ON m.project_id = p.id
         WHERE p.id = ? AND m.account_id = ?"
    ))
    .bind(project_id)
    .bind(account_id)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    Ok(row.map(|r| (r.project.into(), r.role)))
}

pub async fn add_member(
    pool: &SqlitePool,
    project_id: &str,
    account_id: &str,
    role: Role,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO members (project_id, account_id, role, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (project_id, account_id) DO UPDATE SET role = excluded.role",
    )
    .bind(project_id)
    .bind(account_id)
    .bind(role.as_str())
    .bind(now_ms)
    .execute(pool)
    .await
    .map_err(err)?;
    Ok(())
}

pub async fn project_by_write_key(
    pool: &SqlitePool,
    write_key: &str,
) -> StoreResult<Option<Project>> {
    let row: Option<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLS} FROM projects p WHERE p.write_key = ?"
    ))
    .bind(write_key)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    Ok(row.map(Project::from))
}

pub async fn create_project_key(pool: &SqlitePool, k: &NewProjectKey) -> StoreResult<ProjectKey> {
    sqlx::query("INSERT INTO api_keys (id, project_id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(&k.id)
        .bind(&k.project_id)
        .bind(&k.name)
        .bind(&k.key_hash)
        .bind(&k.prefix)
        .bind(k.created_at)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(ProjectKey {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        created_at: k.created_at,
        revoked_at: None,
    })
}

pub async fn list_project_keys(
    pool: &SqlitePool,
    project_id: &str,
) -> StoreResult<Vec<ProjectKey>> {
    sqlx::query_as(
        "SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE project_id = ? ORDER BY created_at DESC, id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn revoke_project_key(
    pool: &SqlitePool,
    project_id: &str,
    key_id: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND project_id = ?",
    )
    .bind(now_ms)
    .bind(key_id)
    .bind(project_id)
    .execute(pool)
    .await
    .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn project_by_secret_key(
    pool: &SqlitePool,
    key_hash: &str,
) -> StoreResult<Option<Project>> {
    let row: Option<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLS} FROM api_keys k JOIN projects p ON p.id = k.project_id
         WHERE k.key_hash = ? AND k.revoked_at IS NULL"
    ))
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    Ok(row.map(Project::from))
}

pub async fn update_project(
    pool: &SqlitePool,
    project_id: &str,
    c: &ProjectChanges,
) -> StoreResult<Project> {
    let origins = c
        .allowed_origins
        .as_ref()
        .map(|o| serde_json::to_string(o).unwrap_or_else(|_| "[]".into()));
    let done = sqlx::query(
        "UPDATE projects SET name = COALESCE(?, name), allowed_origins = COALESCE(?, allowed_origins),
            timezone = COALESCE(?, timezone), online_window_s = COALESCE(?, online_window_s) WHERE id = ?",
    )
    .bind(&c.name)
    .bind(origins)
    .bind(&c.timezone)
    .bind(c.online_window_s)
    .bind(project_id)
    .execute(pool)
    .await
    .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let row: ProjectRow = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLS} FROM projects p WHERE p.id = ?"
    ))
    .bind(project_id)
    .fetch_one(pool)
    .await
    .map_err(err)?;
    Ok(row.into())
}

pub async fn claim_unowned_projects(
    pool: &SqlitePool,
    account_id: &str,
    role: Role,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO members (project_id, account_id, role, created_at)
         SELECT p.id, ?1, ?2, ?3 FROM projects p
         WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.project_id = p.id)",
    )
    .bind(account_id)
    .bind(role.as_str())
    .bind(now_ms)
    .execute(pool)
    .await
    .map_err(err)?;
    Ok(())
}
