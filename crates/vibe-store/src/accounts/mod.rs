//! Accounts domain: people who sign in to the dashboard, their sessions and
//! API tokens. All of it is shared SQL (see `crate::db`).

mod model;

use async_trait::async_trait;

pub use model::*;

use crate::db::{found, HasDb};
use crate::StoreResult;

/// `SELECT` of [`Account`]'s columns (from `accounts a`) followed by the rest
/// of the statement, so every account read is one `const`.
macro_rules! select_account {
    ($rest:literal) => {
        concat!("SELECT a.id, a.email, a.role, a.created_at", $rest)
    };
}

const ACCOUNT_BY_EMAIL: &str =
    select_account!(", a.password_hash FROM accounts a WHERE a.email = $1");
const SESSION_ACCOUNT: &str = select_account!(
    " FROM auth_sessions s JOIN accounts a ON a.id = s.account_id
     WHERE s.token_hash = $1 AND s.expires_at > $2"
);
const TOKEN_ACCOUNT: &str = select_account!(
    " FROM api_tokens t JOIN accounts a ON a.id = t.account_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
);

const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_AUTH_SESSION: &str =
    "INSERT INTO auth_sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const INSERT_API_TOKEN: &str =
    "INSERT INTO api_tokens (id, account_id, name, token_hash, prefix, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING id, name, prefix, created_at, last_used_at, revoked_at";
const LIST_API_TOKENS: &str =
    "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens
     WHERE account_id = $1 ORDER BY created_at DESC, id";
const REVOKE_API_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id = $3";

#[async_trait]
pub trait AccountStore: HasDb {
    async fn create_account(&self, a: &NewAccount) -> StoreResult<Account> {
        let params = (
            &a.id,
            &a.email,
            &a.password_hash,
            a.role.as_str(),
            a.created_at,
        );
        self.db().execute(INSERT_ACCOUNT, params).await?;
        Ok(Account {
            id: a.id.clone(),
            email: a.email.clone(),
            role: a.role,
            created_at: a.created_at,
        })
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountWithHash>> {
        self.db().optional(ACCOUNT_BY_EMAIL, (email,)).await
    }

    async fn count_owners(&self) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM accounts WHERE role = 'owner'";
        self.db().scalar(sql, ()).await
    }

    async fn create_auth_session(&self, s: &NewAuthSession) -> StoreResult<()> {
        let params = (&s.token_hash, &s.account_id, s.created_at, s.expires_at);
        self.db().execute(INSERT_AUTH_SESSION, params).await?;
        Ok(())
    }

    /// The account behind an unexpired session token hash.
    async fn account_for_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>> {
        self.db()
            .optional(SESSION_ACCOUNT, (token_hash, now_ms))
            .await
    }

    async fn delete_auth_session(&self, token_hash: &str) -> StoreResult<()> {
        let sql = "DELETE FROM auth_sessions WHERE token_hash = $1";
        self.db().execute(sql, (token_hash,)).await?;
        Ok(())
    }

    async fn create_api_token(&self, t: &NewApiToken) -> StoreResult<ApiToken> {
        let params = (
            &t.id,
            &t.account_id,
            &t.name,
            &t.token_hash,
            &t.prefix,
            t.created_at,
        );
        self.db().one(INSERT_API_TOKEN, params).await
    }

    async fn list_api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>> {
        self.db().all(LIST_API_TOKENS, (account_id,)).await
    }

    async fn revoke_api_token(
        &self,
        account_id: &str,
        token_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let params = (now_ms, token_id, account_id);
        found(self.db().execute(REVOKE_API_TOKEN, params).await?)
    }

    /// The account behind an unrevoked API token hash; records its use.
    async fn account_for_api_token(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Account>> {
        let account: Option<Account> = self.db().optional(TOKEN_ACCOUNT, (token_hash,)).await?;
        if account.is_some() {
            let sql = "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2";
            self.db().execute(sql, (now_ms, token_hash)).await?;
        }
        Ok(account)
    }

    // --- the one-time setup and sign-in clean-up ---------------------------------------

    /// Stores the hash of a one-time setup token (each node without an owner
    /// prints its own; claiming one ends them all).
    async fn create_setup_token(&self, token_hash: &str, now_ms: i64) -> StoreResult<()> {
        let sql = "INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)";
        self.db().execute(sql, (token_hash, now_ms)).await?;
        Ok(())
    }

    /// In one statement: if no owner exists and `token_hash` is an unclaimed
    /// token, marks every unclaimed token claimed. Single use across nodes.
    async fn claim_setup_token(&self, token_hash: &str, now_ms: i64) -> StoreResult<SetupClaim> {
        // One statement, so the owner check, the token check and the claim are one
        // atomic step; every outstanding token is claimed so no second owner can
        // be made with another node's token.
        let claim = "UPDATE setup_tokens SET claimed_at = $2
             WHERE claimed_at IS NULL
               AND EXISTS (SELECT 1 FROM setup_tokens t WHERE t.token_hash = $1 AND t.claimed_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'owner')";
        if self.db().execute(claim, (token_hash, now_ms)).await? > 0 {
            return Ok(SetupClaim::Claimed);
        }
        let open = "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE claimed_at IS NULL)
                AND NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'owner')";
        Ok(if self.db().scalar::<bool>(open, ()).await? {
            SetupClaim::WrongToken
        } else {
            SetupClaim::Done
        })
    }

    /// Makes a claimed token usable again (creating the owner failed).
    async fn release_setup_token(&self, token_hash: &str) -> StoreResult<()> {
        let sql = "UPDATE setup_tokens SET claimed_at = NULL WHERE token_hash = $1";
        self.db().execute(sql, (token_hash,)).await?;
        Ok(())
    }

    /// Deletes dashboard sessions that expired at or before `now_ms`; returns how many.
    async fn purge_expired_auth_sessions(&self, now_ms: i64) -> StoreResult<u64> {
        let sql = "DELETE FROM auth_sessions WHERE expires_at <= $1";
        self.db().execute(sql, (now_ms,)).await
    }

    /// "Sign out everywhere": deletes every session of the account; returns how many.
    async fn delete_auth_sessions_of(&self, account_id: &str) -> StoreResult<u64> {
        let sql = "DELETE FROM auth_sessions WHERE account_id = $1";
        self.db().execute(sql, (account_id,)).await
    }
}
