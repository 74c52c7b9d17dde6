//! Web Push records as the store keeps them.

/// One browser's push subscription (the `PushSubscription` the page got from
/// `pushManager.subscribe`), on a contact (`site_user_id`, a person id).
/// `endpoint` is unique per project: the same browser subscribing again
/// replaces its keys and may move to another person.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushSubscription {
    pub id: String,
    pub site_user_id: String,
    /// The push service URL the message is POSTed to.
    pub endpoint: String,
    /// The browser's P-256 public key (base64url, uncompressed point).
    pub p256dh: String,
    /// The browser's 16-byte auth secret (base64url).
    pub auth: String,
    pub user_agent: Option<String>,
    pub created_at: i64,
    /// When the browser last (re)subscribed with this endpoint.
    pub updated_at: i64,
    /// When a push service last accepted a message for it.
    pub last_success_at: Option<i64>,
}

/// A project's VAPID key pair: the public key in the clear (base64url
/// uncompressed point, what pages subscribe with), the private key sealed
/// by the server's vault (base64 text; the store never sees it open).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VapidKeys {
    pub public_key: String,
    pub private_key_sealed: String,
    pub created_at: i64,
}
