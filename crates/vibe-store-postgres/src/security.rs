//! Setup tokens, session clean-up and identity verification settings.

use sqlx::PgPool;
use vibe_store::*;

use crate::err;

pub async fn create_setup_token(pool: &PgPool, token_hash: &str, now_ms: i64) -> StoreResult<()> {
    sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)")
        .bind(token_hash)
        .bind(now_ms)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(())
}

pub async fn claim_setup_token(
    pool: &PgPool,
    token_hash: &str,
    now_ms: i64,
) -> StoreResult<SetupClaim> {
    // One statement, so the owner check, the token check and the claim are one
    // atomic step; every outstanding token is claimed so no second owner can
    // be made with another node's token.
    let claimed = sqlx::query(
        "UPDATE setup_tokens SET claimed_at = $2
         WHERE claimed_at IS NULL
           AND EXISTS (SELECT 1 FROM setup_tokens t WHERE t.token_hash = $1 AND t.claimed_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'owner')",
    )
    .bind(token_hash)
    .bind(now_ms)
    .execute(pool)
    .await
    .map_err(err)?
    .rows_affected();
    if claimed > 0 {
        return Ok(SetupClaim::Claimed);
    }
    let open: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE claimed_at IS NULL)
            AND NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'owner')",
    )
    .fetch_one(pool)
    .await
    .map_err(err)?;
    Ok(if open {
        SetupClaim::WrongToken
    } else {
        SetupClaim::Done
    })
}

pub async fn release_setup_token(pool: &PgPool, token_hash: &str) -> StoreResult<()> {
    sqlx::query("UPDATE setup_tokens SET claimed_at = NULL WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .map_err(err)?;
    Ok(())
}

pub async fn purge_expired_auth_sessions(pool: &PgPool, now_ms: i64) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM auth_sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(pool)
            .await
            .map_err(err)?
            .rows_affected(),
    )
}

pub async fn delete_auth_sessions_of(pool: &PgPool, account_id: &str) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM auth_sessions WHERE account_id = $1")
            .bind(account_id)
            .execute(pool)
            .await
            .map_err(err)?
            .rows_affected(),
    )
}

pub async fn identity_verification(
    pool: &PgPool,
    project_id: &str,
) -> StoreResult<Option<IdentityVerification>> {
    let row: Option<(bool, Option<String>)> =
        sqlx::query_as("SELECT identity_required, identity_secret FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(pool)
            .await
            .map_err(err)?;
    Ok(row.map(|(required, secret)| IdentityVerification { required, secret }))
}

pub async fn set_identity_verification(
    pool: &PgPool,
    project_id: &str,
    required: Option<bool>,
    secret: Option<&str>,
) -> StoreResult<IdentityVerification> {
    let row: Option<(bool, Option<String>)> = sqlx::query_as(
        "UPDATE projects SET identity_required = COALESCE($1, identity_required),
            identity_secret = COALESCE($2, identity_secret)
         WHERE id = $3 RETURNING identity_required, identity_secret",
    )
    .bind(required)
    .bind(secret)
    .bind(project_id)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    row.map(|(required, secret)| IdentityVerification { required, secret })
        .ok_or(StoreError::NotFound)
}
