//! Accounts domain: people who sign in to the dashboard, their sessions and
//! API tokens. All of it is shared SQL (see `crate::db`).

mod model;

use async_trait::async_trait;

pub use model::*;

use crate::db::{err, on_db, HasDb};
use crate::StoreResult;

const ACCOUNT_COLS: &str = "a.id, a.email, a.role, a.created_at";

const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_AUTH_SESSION: &str =
    "INSERT INTO auth_sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const INSERT_API_TOKEN: &str =
    "INSERT INTO api_tokens (id, account_id, name, token_hash, prefix, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)";
const LIST_API_TOKENS: &str =
    "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens
     WHERE account_id = $1 ORDER BY created_at DESC, id";
const REVOKE_API_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id = $3";

#[async_trait]
pub trait AccountStore: HasDb {
    async fn create_account(&self, a: &NewAccount) -> StoreResult<Account> {
        on_db!(self.db(), pool => sqlx::query(INSERT_ACCOUNT)
            .bind(&a.id)
            .bind(&a.email)
            .bind(&a.password_hash)
            .bind(a.role.as_str())
            .bind(a.created_at)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(err)?;
        Ok(Account {
            id: a.id.clone(),
            email: a.email.clone(),
            role: a.role,
            created_at: a.created_at,
        })
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountWithHash>> {
        let sql =
            format!("SELECT {ACCOUNT_COLS}, a.password_hash FROM accounts a WHERE a.email = $1");
        on_db!(self.db(), pool => sqlx::query_as(&sql).bind(email).fetch_optional(pool).await)
            .map_err(err)
    }

    async fn count_owners(&self) -> StoreResult<i64> {
        on_db!(self.db(), pool => sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE role = 'owner'")
            .fetch_one(pool)
            .await)
        .map_err(err)
    }

    async fn create_auth_session(&self, s: &NewAuthSession) -> StoreResult<()> {
        on_db!(self.db(), pool => sqlx::query(INSERT_AUTH_SESSION)
            .bind(&s.token_hash)
            .bind(&s.account_id)
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(err)
    }

    /// The account behind an unexpired session token hash.
    async fn account_for_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM auth_sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        on_db!(self.db(), pool => sqlx::query_as(&sql)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(pool)
            .await)
        .map_err(err)
    }

    async fn delete_auth_session(&self, token_hash: &str) -> StoreResult<()> {
        on_db!(self.db(), pool => sqlx::query("DELETE FROM auth_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(err)
    }

    async fn create_api_token(&self, t: &NewApiToken) -> StoreResult<ApiToken> {
        on_db!(self.db(), pool => sqlx::query(INSERT_API_TOKEN)
            .bind(&t.id)
            .bind(&t.account_id)
            .bind(&t.name)
            .bind(&t.token_hash)
            .bind(&t.prefix)
            .bind(t.created_at)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(err)?;
        Ok(ApiToken {
            id: t.id.clone(),
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at,
            last_used_at: None,
            revoked_at: None,
        })
    }

    async fn list_api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>> {
        on_db!(self.db(), pool => sqlx::query_as(LIST_API_TOKENS)
            .bind(account_id)
            .fetch_all(pool)
            .await)
        .map_err(err)
    }

    async fn revoke_api_token(
        &self,
        account_id: &str,
        token_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let revoked = on_db!(self.db(), pool => sqlx::query(REVOKE_API_TOKEN)
            .bind(now_ms)
            .bind(token_id)
            .bind(account_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(err)?;
        crate::db::found(revoked)
    }

    /// The account behind an unrevoked API token hash; records its use.
    async fn account_for_api_token(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        );
        let account: Option<Account> = on_db!(self.db(), pool => sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)
        .map_err(err)?;
        if account.is_some() {
            on_db!(self.db(), pool => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now_ms)
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|_| ()))
            .map_err(err)?;
        }
        Ok(account)
    }
}
