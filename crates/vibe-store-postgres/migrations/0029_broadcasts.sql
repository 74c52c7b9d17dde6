-- Template broadcasts (issue 12): one outbound WhatsApp template message per
-- person of a segment, each riding the outbox like any reply. `recipients`
-- is how many messages were queued, `skipped` how many people had no phone.
CREATE TABLE broadcasts (
    project_id            TEXT NOT NULL,
    id                    TEXT NOT NULL,
    channel               TEXT NOT NULL,
    segment_id            TEXT NOT NULL,
    template_name         TEXT NOT NULL,
    template_language     TEXT NOT NULL,
    body                  TEXT NOT NULL,
    created_by_account_id TEXT,
    created_at            BIGINT NOT NULL,
    recipients            BIGINT NOT NULL DEFAULT 0,
    skipped               BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX broadcasts_recent ON broadcasts(project_id, created_at);
-- A broadcast's message: its broadcast and the template it is sent as
-- (JSON text {"name","language"}); one per broadcast and conversation.
ALTER TABLE messages ADD COLUMN broadcast_id TEXT;
ALTER TABLE messages ADD COLUMN template TEXT;
CREATE UNIQUE INDEX messages_broadcast ON messages(project_id, broadcast_id, conversation_id);
