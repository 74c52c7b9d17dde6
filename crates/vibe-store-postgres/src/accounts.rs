use sqlx::PgPool;
use vibe_store::*;

use crate::err;

const ACCOUNT_COLS: &str = "a.id, a.email, a.role, a.created_at";

pub async fn create_account(pool: &PgPool, a: &NewAccount) -> StoreResult<Account> {
    sqlx::query("INSERT INTO accounts (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&a.id)
        .bind(&a.email)
        .bind(&a.password_hash)
        .bind(a.role.as_str())
        .bind(a.created_at)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(Account {
        id: a.id.clone(),
        email: a.email.clone(),
        role: a.role,
        created_at: a.created_at,
    })
}

pub async fn account_by_email(pool: &PgPool, email: &str) -> StoreResult<Option<AccountWithHash>> {
    sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLS}, a.password_hash FROM accounts a WHERE a.email = $1"
    ))
    .bind(email)
    .fetch_optional(pool)
    .await
    .map_err(err)
}

pub async fn count_owners(pool: &PgPool) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE role = 'owner'")
        .fetch_one(pool)
        .await
        .map_err(err)
}

pub async fn create_auth_session(pool: &PgPool, s: &NewAuthSession) -> StoreResult<()> {
    sqlx::query("INSERT INTO auth_sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&s.token_hash)
        .bind(&s.account_id)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(())
}

pub async fn account_for_session(
    pool: &PgPool,
    token_hash: &str,
    now_ms: i64,
) -> StoreResult<Option<Account>> {
    sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLS} FROM auth_sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now_ms)
    .fetch_optional(pool)
    .await
    .map_err(err)
}

pub async fn delete_auth_session(pool: &PgPool, token_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM auth_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(())
}

pub async fn create_api_token(pool: &PgPool, t: &NewApiToken) -> StoreResult<ApiToken> {
    sqlx::query(
        "INSERT INTO api_tokens (id, account_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.id)
    .bind(&t.account_id)
    .bind(&t.name)
    .bind(&t.token_hash)
    .bind(&t.prefix)
    .bind(t.created_at)
    .execute(pool)
    .await
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

pub async fn list_api_tokens(pool: &PgPool, account_id: &str) -> StoreResult<Vec<ApiToken>> {
    sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens
         WHERE account_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await
    .map_err(err)
}

pub async fn revoke_api_token(
    pool: &PgPool,
    account_id: &str,
    token_id: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id = $3",
    )
    .bind(now_ms)
    .bind(token_id)
    .bind(account_id)
    .execute(pool)
    .await
    .map_err(err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn account_for_api_token(
    pool: &PgPool,
    token_hash: &str,
    now_ms: i64,
) -> StoreResult<Option<Account>> {
    let account: Option<Account> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    if account.is_some() {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now_ms)
            .bind(token_hash)
            .execute(pool)
            .await
            .map_err(err)?;
    }
    Ok(account)
}
