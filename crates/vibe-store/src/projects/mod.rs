//! Projects domain: projects and their settings, members and secret keys. All
//! of it is shared SQL (see `crate::db`).

mod model;

use crate::db::BeginWrite;
use async_trait::async_trait;

pub use model::*;

use crate::db::{err, found, on_db, HasDb};
use crate::{Role, StoreError, StoreResult};

const PROJECT_COLS: &str =
    "p.id, p.name, p.write_key, p.allowed_origins, p.timezone, p.online_window_s, p.created_at";

const INSERT_PROJECT: &str = "INSERT INTO projects (id, name, write_key, allowed_origins, timezone, online_window_s, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const INSERT_OWNER: &str =
    "INSERT INTO members (project_id, account_id, role, created_at) VALUES ($1, $2, 'owner', $3)";
const UPSERT_MEMBER: &str =
    "INSERT INTO members (project_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id, account_id) DO UPDATE SET role = excluded.role";
const LIST_MEMBERS: &str = "SELECT m.account_id, a.email, m.role, m.created_at
     FROM members m JOIN accounts a ON a.id = m.account_id
     WHERE m.project_id = $1
     ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, a.email";
const CLAIM_UNOWNED: &str = "INSERT INTO members (project_id, account_id, role, created_at)
     SELECT p.id, $1, $2, $3 FROM projects p
     WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.project_id = p.id AND m.role IN ('owner', 'admin'))
     ON CONFLICT DO NOTHING";
const UPDATE_PROJECT: &str = "UPDATE projects SET name = COALESCE($1, name), allowed_origins = COALESCE($2, allowed_origins),
     timezone = COALESCE($3, timezone), online_window_s = COALESCE($4, online_window_s) WHERE id = $5";
const INSERT_KEY: &str = "INSERT INTO api_keys (id, project_id, name, key_hash, prefix, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, prefix, created_at, revoked_at";
const LIST_KEYS: &str = "SELECT id, name, prefix, created_at, revoked_at FROM api_keys
     WHERE project_id = $1 ORDER BY created_at DESC, id";
const REVOKE_KEY: &str =
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND project_id = $3";

fn origins_json(origins: &[String]) -> String {
    serde_json::to_string(origins).unwrap_or_else(|_| "[]".into())
}

#[derive(sqlx::FromRow)]
struct MemberProjectRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    role: Role,
}

#[async_trait]
pub trait ProjectStore: HasDb {
    /// Creates a project and makes `owner_account_id` (if any) its owner.
    async fn create_project(
        &self,
        p: &NewProject,
        owner_account_id: Option<&str>,
    ) -> StoreResult<Project> {
        let origins = origins_json(&p.allowed_origins);
        on_db!(self.db(), pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(INSERT_PROJECT)
                .bind(&p.id)
                .bind(&p.name)
                .bind(&p.write_key)
                .bind(&origins)
                .bind(&p.timezone)
                .bind(p.online_window_s)
                .bind(p.created_at)
                .execute(&mut *tx)
                .await?;
            if let Some(account_id) = owner_account_id {
                sqlx::query(INSERT_OWNER)
                    .bind(&p.id)
                    .bind(account_id)
                    .bind(p.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }.await)
        .map_err(err)?;
        Ok(p.clone())
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects p ORDER BY p.created_at, p.id");
        let rows: Vec<ProjectRow> = self.db().all(&sql, ()).await?;
        Ok(rows.into_iter().map(Project::from).collect())
    }

    async fn projects_for_account(&self, account_id: &str) -> StoreResult<Vec<Project>> {
        let sql = format!(
            "SELECT {PROJECT_COLS} FROM projects p JOIN members m ON m.project_id = p.id
             WHERE m.account_id = $1 ORDER BY p.created_at, p.id"
        );
        let rows: Vec<ProjectRow> = self.db().all(&sql, (account_id,)).await?;
        Ok(rows.into_iter().map(Project::from).collect())
    }

    /// The project and the caller's role in it; `None` for non-members.
    async fn project_for_member(
        &self,
        project_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<(Project, Role)>> {
        let sql = format!(
            "SELECT {PROJECT_COLS}, m.role FROM projects p JOIN members m ON m.project_id = p.id
             WHERE p.id = $1 AND m.account_id = $2"
        );
        let row: Option<MemberProjectRow> =
            self.db().optional(&sql, (project_id, account_id)).await?;
        Ok(row.map(|r| (r.project.into(), r.role)))
    }

    /// Applies the given changes; `NotFound` if the project does not exist.
    async fn update_project(&self, project_id: &str, c: &ProjectChanges) -> StoreResult<Project> {
        let origins = c.allowed_origins.as_deref().map(origins_json);
        let params = (&c.name, origins, &c.timezone, c.online_window_s, project_id);
        found(self.db().execute(UPDATE_PROJECT, params).await?)?;
        let sql = format!("SELECT {PROJECT_COLS} FROM projects p WHERE p.id = $1");
        let row: ProjectRow = self.db().one(&sql, (project_id,)).await?;
        Ok(row.into())
    }

    async fn add_member(
        &self,
        project_id: &str,
        account_id: &str,
        role: Role,
        now_ms: i64,
    ) -> StoreResult<()> {
        let params = (project_id, account_id, role.as_str(), now_ms);
        self.db().execute(UPSERT_MEMBER, params).await?;
        Ok(())
    }

    /// The project's members with their emails, owners first, then by email.
    async fn list_members(&self, project_id: &str) -> StoreResult<Vec<Member>> {
        self.db().all(LIST_MEMBERS, (project_id,)).await
    }

    /// Removes a membership; `false` when there was none.
    async fn remove_member(&self, project_id: &str, account_id: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM members WHERE project_id = $1 AND account_id = $2";
        Ok(self.db().execute(sql, (project_id, account_id)).await? > 0)
    }

    /// Makes the account a member of every project that has no owner or admin
    /// yet (the default and demo projects before anyone signed up; the demo's
    /// agents and supervisors do not count).
    async fn claim_unowned_projects(
        &self,
        account_id: &str,
        role: Role,
        now_ms: i64,
    ) -> StoreResult<()> {
        let params = (account_id, role.as_str(), now_ms);
        self.db().execute(CLAIM_UNOWNED, params).await?;
        Ok(())
    }

    async fn project_by_write_key(&self, write_key: &str) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects p WHERE p.write_key = $1");
        let row: Option<ProjectRow> = self.db().optional(&sql, (write_key,)).await?;
        Ok(row.map(Project::from))
    }

    async fn create_project_key(&self, k: &NewProjectKey) -> StoreResult<ProjectKey> {
        let params = (
            &k.id,
            &k.project_id,
            &k.name,
            &k.key_hash,
            &k.prefix,
            k.created_at,
        );
        self.db().one(INSERT_KEY, params).await
    }

    async fn list_project_keys(&self, project_id: &str) -> StoreResult<Vec<ProjectKey>> {
        self.db().all(LIST_KEYS, (project_id,)).await
    }

    async fn revoke_project_key(
        &self,
        project_id: &str,
        key_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        found(
            self.db()
                .execute(REVOKE_KEY, (now_ms, key_id, project_id))
                .await?,
        )
    }

    /// The project a secret key (by hash) belongs to, if the key is not revoked.
    async fn project_by_secret_key(&self, key_hash: &str) -> StoreResult<Option<Project>> {
        let sql = format!(
            "SELECT {PROJECT_COLS} FROM api_keys k JOIN projects p ON p.id = k.project_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
        );
        let row: Option<ProjectRow> = self.db().optional(&sql, (key_hash,)).await?;
        Ok(row.map(Project::from))
    }

    // --- identity verification ---------------------------------------------------------

    /// `None` when the project does not exist.
    async fn identity_verification(
        &self,
        project_id: &str,
    ) -> StoreResult<Option<IdentityVerification>> {
        let sql = "SELECT identity_required, identity_secret FROM projects WHERE id = $1";
        let row: Option<(bool, Option<String>)> = self.db().optional(sql, (project_id,)).await?;
        Ok(row.map(|(required, secret)| IdentityVerification { required, secret }))
    }

    /// Changes what is given (`None` keeps it); `NotFound` for an unknown project.
    async fn set_identity_verification(
        &self,
        project_id: &str,
        required: Option<bool>,
        secret: Option<&str>,
    ) -> StoreResult<IdentityVerification> {
        // `required` is bound as a bool: INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL,
        // matching each backend's column type.
        let sql = "UPDATE projects SET identity_required = COALESCE($1, identity_required),
                identity_secret = COALESCE($2, identity_secret)
             WHERE id = $3 RETURNING identity_required, identity_secret";
        let row: Option<(bool, Option<String>)> = self
            .db()
            .optional(sql, (required, secret, project_id))
            .await?;
        row.map(|(required, secret)| IdentityVerification { required, secret })
            .ok_or(StoreError::NotFound)
    }
}
