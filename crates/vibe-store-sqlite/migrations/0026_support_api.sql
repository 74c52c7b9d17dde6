-- Support API, business hours, bots (issue 12; docs/metrics.md "Support
-- timers"). Business-hours variants of the two timers, stored when the timer
-- stops (vibe_store::inbox::business_hours); how a conversation ended
-- (`bot_only`, `dropped`; `escalated_to_human` is 0020's); when a keyword
-- rule resolves it unless the contact writes again (`auto_resolve_at`).
ALTER TABLE conversations ADD COLUMN first_response_bh_s INTEGER;
ALTER TABLE conversations ADD COLUMN resolution_bh_s INTEGER;
ALTER TABLE conversations ADD COLUMN bot_only INTEGER NOT NULL DEFAULT 0 CHECK (bot_only IN (0, 1));
ALTER TABLE conversations ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0 CHECK (dropped IN (0, 1));
ALTER TABLE conversations ADD COLUMN auto_resolve_at INTEGER;
CREATE INDEX conversations_auto_resolve ON conversations(auto_resolve_at);

-- Per inbox: the out-of-hours auto-reply and keyword rules, as JSON text
-- (vibe_store::inbox::automation).
CREATE TABLE inbox_automation (
    project_id TEXT NOT NULL,
    inbox_id   TEXT NOT NULL,
    settings   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, inbox_id)
);
