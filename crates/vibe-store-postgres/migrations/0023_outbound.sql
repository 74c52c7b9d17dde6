-- Outbound messages (issue 12, "Outbound is durable"): one row per message
-- a provider must deliver (email, WhatsApp, SMS; not private, stored
-- `queued`), written in the same transaction as the message. The sender
-- claims due `pending` rows (state `sending`, `claim_id` its own, lease until
-- `claimed_until`) and commits that before any network call; `started_at` is
-- set right before the request goes out. A row still `sending` after its
-- lease belongs to a sender that died: not started, it goes back to
-- `pending`; started, it is failed, never retried (the provider may have
-- accepted it). See docs/architecture.md, "Outbound".
CREATE TABLE outbound_queue (
    project_id      TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    claim_id        TEXT,
    started_at      BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (project_id, message_id)
);
-- The claim: due pending rows, oldest due first.
CREATE INDEX outbound_queue_due ON outbound_queue(state, next_attempt_at);
-- Queue figures per project (recent sent and failed rows).
CREATE INDEX outbound_queue_project ON outbound_queue(project_id, state, updated_at);
