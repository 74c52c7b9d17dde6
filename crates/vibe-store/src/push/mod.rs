//! Push domain (issue 14, web push): the browsers' push subscriptions on
//! contacts (`push_subscriptions`) and each project's VAPID key pair
//! (`push_vapid_keys`), migration 0039. Shared SQL only; every statement
//! filters by project. The server validates subscriptions, seals the private
//! key and does the cryptography (`vibe-server`'s `push/`); merges of people
//! move subscriptions with the rest of a person (`ingest::io::MOVE_PERSON`).

mod model;

use async_trait::async_trait;

pub use model::*;

use crate::db::HasDb;
use crate::StoreResult;

const COLS: &str =
    "id, site_user_id, endpoint, p256dh, auth, user_agent, created_at, updated_at, last_success_at";
/// A new endpoint is a new row; a known one (the browser subscribed again,
/// perhaps with new keys, perhaps signed in as someone else) keeps its id and
/// creation time and takes the rest.
const UPSERT: &str = "INSERT INTO push_subscriptions
     (project_id, id, site_user_id, endpoint, p256dh, auth, user_agent, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
     ON CONFLICT (project_id, endpoint) DO UPDATE SET
       site_user_id = excluded.site_user_id, p256dh = excluded.p256dh, auth = excluded.auth,
       user_agent = excluded.user_agent, updated_at = excluded.updated_at";
/// First writer wins: two nodes generating a project's key at once both
/// read back the one stored.
const INSERT_KEYS: &str = "INSERT INTO push_vapid_keys
     (project_id, public_key, private_key_sealed, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id) DO NOTHING";
const KEYS: &str = "SELECT public_key, private_key_sealed, created_at
     FROM push_vapid_keys WHERE project_id = $1";

/// What the page sent, as the server validated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushSubscription {
    pub site_user_id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub user_agent: Option<String>,
}

#[async_trait]
pub trait PushStore: HasDb {
    /// Stores the subscription, or renews the project's one of that
    /// endpoint; the row as stored (`id` is used only for a new endpoint).
    async fn upsert_push_subscription(
        &self,
        project_id: &str,
        id: &str,
        sub: &NewPushSubscription,
        now: i64,
    ) -> StoreResult<PushSubscription> {
        let params = (
            project_id,
            id,
            &sub.site_user_id,
            &sub.endpoint,
            &sub.p256dh,
            &sub.auth,
            &sub.user_agent,
            now,
        );
        self.db().execute(UPSERT, params).await?;
        let q = format!(
            "SELECT {COLS} FROM push_subscriptions WHERE project_id = $1 AND endpoint = $2"
        );
        self.db().one(&q, (project_id, &sub.endpoint)).await
    }

    async fn push_subscription(
        &self,
        project_id: &str,
        id: &str,
    ) -> StoreResult<Option<PushSubscription>> {
        let q = format!("SELECT {COLS} FROM push_subscriptions WHERE project_id = $1 AND id = $2");
        self.db().optional(&q, (project_id, id)).await
    }

    /// A person's subscriptions (one per browser), oldest first.
    async fn push_subscriptions_of(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<Vec<PushSubscription>> {
        let q = format!(
            "SELECT {COLS} FROM push_subscriptions WHERE project_id = $1 AND site_user_id = $2
             ORDER BY created_at, id"
        );
        self.db().all(&q, (project_id, site_user_id)).await
    }

    /// Removes the project's subscription of `endpoint`; whether there was one.
    async fn delete_push_subscription(
        &self,
        project_id: &str,
        endpoint: &str,
    ) -> StoreResult<bool> {
        let n = self
            .db()
            .execute(
                "DELETE FROM push_subscriptions WHERE project_id = $1 AND endpoint = $2",
                (project_id, endpoint),
            )
            .await?;
        Ok(n > 0)
    }

    /// Removes one of a person's subscriptions by id (the dashboard's
    /// contact page); whether it was theirs and there.
    async fn delete_person_push_subscription(
        &self,
        project_id: &str,
        site_user_id: &str,
        id: &str,
    ) -> StoreResult<bool> {
        let n = self
            .db()
            .execute(
                "DELETE FROM push_subscriptions WHERE project_id = $1 AND site_user_id = $2 AND id = $3",
                (project_id, site_user_id, id),
            )
            .await?;
        Ok(n > 0)
    }

    /// Records that a push service accepted a message for the subscription.
    async fn push_delivered(&self, project_id: &str, id: &str, at: i64) -> StoreResult<()> {
        self.db()
            .execute(
                "UPDATE push_subscriptions SET last_success_at = $3 WHERE project_id = $1 AND id = $2",
                (project_id, id, at),
            )
            .await
            .map(drop)
    }

    async fn vapid_keys(&self, project_id: &str) -> StoreResult<Option<VapidKeys>> {
        self.db().optional(KEYS, (project_id,)).await
    }

    /// Stores `keys` as the project's unless it has a pair already; the pair
    /// the project has afterwards (maybe another node's, generated at once).
    async fn put_vapid_keys_if_absent(
        &self,
        project_id: &str,
        keys: &VapidKeys,
    ) -> StoreResult<VapidKeys> {
        let params = (
            project_id,
            &keys.public_key,
            &keys.private_key_sealed,
            keys.created_at,
        );
        self.db().execute(INSERT_KEYS, params).await?;
        self.db().one(KEYS, (project_id,)).await
    }
}
