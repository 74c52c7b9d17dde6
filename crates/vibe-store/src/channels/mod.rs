//! Channels domain: the per-project settings of the Inbox's channels (in-app,
//! email, WhatsApp Cloud API, Twilio), one row per `(project_id, kind)`
//! (`channel_settings`, migration 0021). Shared SQL only; every statement
//! filters by project. Conversations and messages are another domain.

mod model;

use async_trait::async_trait;

pub use model::*;

use crate::db::HasDb;
use crate::StoreResult;

const COLS: &str = "kind, config, secrets, enabled, updated_at";
/// Insert or replace: a PUT states the whole channel (the server has merged
/// kept secrets in before).
const UPSERT: &str = "INSERT INTO channel_settings
     (project_id, kind, config, secrets, enabled, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (project_id, kind) DO UPDATE SET
       config = excluded.config, secrets = excluded.secrets,
       enabled = excluded.enabled, updated_at = excluded.updated_at";

#[async_trait]
pub trait ChannelStore: HasDb {
    /// Stores `settings` as the project's channel of its kind.
    async fn put_channel(&self, project_id: &str, settings: &ChannelSettings) -> StoreResult<()> {
        let params = (
            project_id,
            &settings.kind,
            &settings.config,
            &settings.secrets,
            settings.enabled,
            settings.updated_at,
        );
        self.db().execute(UPSERT, params).await.map(drop)
    }

    async fn get_channel(
        &self,
        project_id: &str,
        kind: &str,
    ) -> StoreResult<Option<ChannelSettings>> {
        let sql =
            format!("SELECT {COLS} FROM channel_settings WHERE project_id = $1 AND kind = $2");
        self.db().optional(&sql, (project_id, kind)).await
    }

    /// The project's configured channels, by kind.
    async fn list_channels(&self, project_id: &str) -> StoreResult<Vec<ChannelSettings>> {
        let sql = format!("SELECT {COLS} FROM channel_settings WHERE project_id = $1");
        let mut all: Vec<ChannelSettings> = self.db().all(&sql, (project_id,)).await?;
        // In Rust: the databases' collations differ (see `crm::TAGS`).
        all.sort_by(|a, b| a.kind.cmp(&b.kind));
        Ok(all)
    }
}
