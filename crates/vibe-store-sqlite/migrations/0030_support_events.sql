-- Support reporting facts (issue 13): one row per inbox change, written in
-- the same transaction as the change, with the attribution (agent, team,
-- inbox, channel) of that moment, so a later reassignment never moves
-- history. Definitions: docs/metrics.md, "Support reporting events".
-- History before this migration is not backfilled (see the doc).
CREATE TABLE support_events (
    project_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id      TEXT,
    account_id      TEXT,
    team_id         TEXT,
    inbox_id        TEXT,
    channel         TEXT NOT NULL,
    value_s         INTEGER,
    value_bh_s      INTEGER,
    flag            INTEGER NOT NULL DEFAULT 0,
    label           TEXT,
    at              INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX support_events_at ON support_events(project_id, at);
-- A message's event of one name is recorded once (delivery statuses arrive
-- out of order and repeated; the insert skips a second one).
CREATE UNIQUE INDEX support_events_message ON support_events(project_id, message_id, name)
    WHERE message_id IS NOT NULL;
-- Since when the contact waits for an answer (the earliest unanswered
-- inbound message); NULL when nobody waits.
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
-- Since when the current assignee holds the conversation while it is open.
ALTER TABLE conversations ADD COLUMN assigned_at INTEGER;
-- The next-response target (a reply to a waiting contact after the first
-- response); NULL = none.
ALTER TABLE sla_policies ADD COLUMN next_response_target_s INTEGER;
