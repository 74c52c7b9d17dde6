-- Web Push (issue 14): the browsers' push subscriptions on contacts and each
-- project's VAPID key pair. A subscription's endpoint is unique per project
-- (the same browser subscribing again renews its row); a person's rows are
-- found by site_user_id (the campaign sender), and move with a merge.
CREATE TABLE push_subscriptions (
    project_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    site_user_id    TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    p256dh          TEXT NOT NULL,
    auth            TEXT NOT NULL,
    user_agent      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_success_at INTEGER,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX push_subscriptions_endpoint ON push_subscriptions(project_id, endpoint);
CREATE INDEX push_subscriptions_person ON push_subscriptions(project_id, site_user_id);
-- The private key is sealed by the server's vault (base64 text), never in the clear.
CREATE TABLE push_vapid_keys (
    project_id         TEXT NOT NULL PRIMARY KEY,
    public_key         TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);
