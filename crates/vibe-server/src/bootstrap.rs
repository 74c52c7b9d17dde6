//! Opening storage and first-run set-up: the default project, the first owner
//! (from `VIBE_ADMIN_*`, or a one-time setup link).

use std::sync::Arc;

use anyhow::Context;
use vibe_store::{Account, NewAccount, NewProject, Role, Store};
use vibe_store_postgres::PgStore;
use vibe_store_sqlite::SqliteStore;

use crate::api::projects::new_write_key;
use crate::config::Config;
use crate::domain::{Email, Password};
use crate::error::ApiError;
use crate::secrets::{hash_password_async, random_token, sha256_hex};
use crate::state::AppState;

pub const DEFAULT_PROJECT_NAME: &str = "My website";

pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match config.database_url.as_ref().map(|u| u.expose()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PgStore::connect(url, None)
                .await
                .context("connecting to PostgreSQL (DATABASE_URL)")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(
            SqliteStore::open_url(url)
                .await
                .context("opening SQLite (DATABASE_URL)")?,
        )),
        Some(_) => {
            anyhow::bail!("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")
        }
        None => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating data directory {}", config.data_dir.display())
            })?;
            let path = config.data_dir.join("vibe.db");
            let store = SqliteStore::open(&path)
                .await
                .with_context(|| format!("opening {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The key sealing channel credentials: `VIBE_SECRET_KEY`, else the data
/// directory's `secret.key` (created on first start). On PostgreSQL every
/// instance must hold the same key, which only the variable guarantees.
pub fn open_vault(config: &Config, backend: &str) -> anyhow::Result<crate::vault::Vault> {
    use crate::vault::{KeySource, Vault, KEY_FILE};
    let env = config.secret_key.as_ref().map(|k| k.expose());
    let (vault, source) = Vault::load(env, &config.data_dir).context(
        "loading the key that seals channel secrets (set VIBE_SECRET_KEY, or let vibe write secret.key in data_dir)",
    )?;
    let file = config.data_dir.join(KEY_FILE);
    match source {
        KeySource::Env => tracing::debug!("channel secrets sealed with VIBE_SECRET_KEY"),
        KeySource::File => {
            tracing::debug!(file = %file.display(), "channel secrets sealed with the key file")
        }
        KeySource::Generated => {
            tracing::info!(file = %file.display(), "generated the key that seals channel secrets; back it up with the database")
        }
    }
    if source != KeySource::Env && backend == "postgres" {
        tracing::warn!(file = %file.display(), "VIBE_SECRET_KEY is unset: channel secrets are sealed with this instance's key file; set VIBE_SECRET_KEY (the same on every instance) when several share the database");
    }
    Ok(vault)
}

/// Makes sure a project exists; returns the default (oldest) one.
pub async fn ensure_default_project(
    store: &dyn Store,
    config: &Config,
    now: i64,
) -> anyhow::Result<vibe_store::Project> {
    if let Some(p) = store.list_projects().await?.into_iter().next() {
        return Ok(p);
    }
    let project = NewProject {
        id: uuid::Uuid::new_v4().to_string(),
        name: DEFAULT_PROJECT_NAME.into(),
        write_key: new_write_key(),
        allowed_origins: vec![],
        timezone: "UTC".into(),
        online_window_s: config.online_window_s,
        created_at: now,
    };
    tracing::info!(project = %project.id, "created default project {DEFAULT_PROJECT_NAME:?}");
    Ok(store.create_project(&project, None).await?)
}

/// Creates an account and makes it a member, with `role`, of the default project
/// and of any project nobody belongs to yet (such as the demo project).
pub async fn create_account(
    state: &AppState,
    email: &str,
    password: String,
    role: Role,
) -> Result<Account, ApiError> {
    create_account_in(
        state.store.as_ref(),
        &state.config,
        email,
        password,
        role,
        state.clock.now_ms(),
    )
    .await
}

pub async fn create_account_in(
    store: &dyn Store,
    config: &Config,
    email: &str,
    password: String,
    role: Role,
    now: i64,
) -> Result<Account, ApiError> {
    let hash = hash_password_async(password).await?;
    let account = store
        .create_account(&NewAccount {
            id: uuid::Uuid::new_v4().to_string(),
            email: email.to_owned(),
            password_hash: hash,
            role,
            created_at: now,
        })
        .await
        .map_err(|e| match e {
            vibe_store::StoreError::Conflict(_) => ApiError::field(
                "conflict",
                "email",
                "an account with this email already exists",
            )
            .with_status(axum::http::StatusCode::CONFLICT),
            e => e.into(),
        })?;
    let project = ensure_default_project(store, config, now).await?;
    store
        .add_member(&project.id, &account.id, role, now)
        .await?;
    store.claim_unowned_projects(&account.id, role, now).await?;
    Ok(account)
}

/// First start: the default project, then the owner from the environment or a
/// setup token to print. Returns the token when one is needed.
pub async fn first_run(
    store: &dyn Store,
    config: &Config,
    now: i64,
) -> anyhow::Result<Option<String>> {
    ensure_default_project(store, config, now).await?;
    if store.count_owners().await? > 0 {
        return Ok(None);
    }
    match (&config.admin_email, &config.admin_password) {
        (Some(email), Some(password)) => {
            let email = Email::parse("VIBE_ADMIN_EMAIL", email)
                .map_err(|e| anyhow::anyhow!("VIBE_ADMIN_EMAIL: {e}"))?;
            let password = Password::parse("VIBE_ADMIN_PASSWORD", password.expose())
                .map_err(|e| anyhow::anyhow!("VIBE_ADMIN_PASSWORD: {e}"))?;
            let email = email.into_inner();
            create_account_in(
                store,
                config,
                &email,
                password.into_inner(),
                Role::Owner,
                now,
            )
            .await
            .map_err(|e| anyhow::anyhow!("creating the admin account: {e}"))?;
            tracing::info!(%email, "created owner account from VIBE_ADMIN_EMAIL");
            Ok(None)
        }
        _ => {
            // 128 random bits; only the hash is stored, and the database
            // decides which token is claimed (several nodes may print one).
            let token: String = random_token("").chars().take(32).collect();
            store.create_setup_token(&sha256_hex(&token), now).await?;
            Ok(Some(token))
        }
    }
}
