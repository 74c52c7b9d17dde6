-- Channel settings of the Inbox (issue 12): one row per project and channel
-- kind. `config` is the public settings as JSON text (shown back to admins);
-- `secrets` is the write-only credentials as one JSON object sealed with
-- AES-256-GCM by the server (vibe-server/src/vault.rs, base64 text), never
-- plaintext. The store neither parses nor opens either; `kind` is one of
-- in_app | email | whatsapp | twilio (checked by the server).
CREATE TABLE channel_settings (
    project_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    config     TEXT NOT NULL,
    secrets    TEXT,
    enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind)
);
