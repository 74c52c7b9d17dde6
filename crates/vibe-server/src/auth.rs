//! Who is calling: a dashboard session cookie or an API token, and — for
//! `/api/v1/projects/{id}/…` — whether they are a member of that project.
//! Non-members get 404 so project ids cannot be probed.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use vibe_store::{Account, Project, Role};

use crate::error::{ApiError, OrNotFound};
use crate::secrets::sha256_hex;
use crate::state::AppState;

pub const API_TOKEN_PREFIX: &str = "vbt_";
pub const SECRET_KEY_PREFIX: &str = "sk_";

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn bearer_from(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// What the caller presented: an API token or a dashboard session cookie, kept
/// hashed so a long-lived connection (the live feed) can re-check it later.
#[derive(Clone)]
pub enum Credential {
    ApiToken { hash: String },
    Session { hash: String },
}

impl Credential {
    /// A `Bearer vbt_…` header wins over the session cookie, which is read
    /// under `cookie_name` only (`Config::session_cookie`).
    pub fn from_headers(headers: &HeaderMap, cookie_name: &str) -> Option<Self> {
        if let Some(token) = bearer_from(headers).filter(|t| t.starts_with(API_TOKEN_PREFIX)) {
            return Some(Self::api_token(token));
        }
        cookie_value(headers, cookie_name).map(|c| Self::Session {
            hash: sha256_hex(c),
        })
    }

    pub fn api_token(token: &str) -> Self {
        Self::ApiToken {
            hash: sha256_hex(token),
        }
    }

    /// The account, or `None` once the token is revoked or the session expired.
    pub async fn account(&self, state: &AppState) -> Result<Option<Account>, ApiError> {
        let now = state.clock.now_ms();
        Ok(match self {
            Self::ApiToken { hash } => state.store.account_for_api_token(hash, now).await?,
            Self::Session { hash } => state.store.account_for_session(hash, now).await?,
        })
    }

    /// Like [`Credential::account`], with the API's 401 answers.
    pub async fn require_account(&self, state: &AppState) -> Result<Account, ApiError> {
        match (self.account(state).await?, self) {
            (Some(a), _) => Ok(a),
            (None, Self::ApiToken { .. }) => Err(ApiError::unauthorized(
                "the API token is invalid or revoked",
            )),
            (None, Self::Session { .. }) => Err(ApiError::client(
                axum::http::StatusCode::UNAUTHORIZED,
                "session_expired",
                "your session has expired; sign in again",
            )),
        }
    }
}

pub fn no_credential() -> ApiError {
    ApiError::unauthorized("sign in or send `Authorization: Bearer vbt_…`")
}

/// A signed-in dashboard user or an API-token holder.
pub struct CurrentAccount(pub Account);

impl FromRequestParts<AppState> for CurrentAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = Credential::from_headers(&parts.headers, state.config.session_cookie())
            .ok_or_else(no_credential)?;
        credential.require_account(state).await.map(Self)
    }
}

/// The least role a project route needs. The access table
/// (`router/project_routes.rs`) attaches it to every method it registers and
/// [`ProjectAccess`] enforces it, so no handler can forget its check or read a
/// body before it.
#[derive(Clone, Copy, Debug)]
pub struct MinRole(pub Role);

/// The project named by the `{id}` path segment, with the caller's role in it
/// (at least the route's [`MinRole`]).
#[derive(Clone)]
pub struct ProjectAccess {
    pub account: Account,
    pub project: Project,
    pub role: Role,
}

impl ProjectAccess {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role in this project",
                role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for ProjectAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentAccount(account) = CurrentAccount::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("project"))?;
        let id = params.get("id").or_not_found("project")?;
        let (project, role) = state
            .store
            .project_for_member(id, &account.id)
            .await?
            .or_not_found("project")?;
        let access = Self {
            account,
            project,
            role,
        };
        // Only the access table registers project routes (a unit test holds
        // router.rs to that), so a missing role is a programming error.
        let Some(&MinRole(min)) = parts.extensions.get::<MinRole>() else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "project route registered without a least role"
            )));
        };
        access.require(min)?;
        Ok(access)
    }
}
