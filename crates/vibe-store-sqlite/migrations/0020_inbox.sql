-- Inbox (issue 12, first slice): teams of project members, inboxes,
-- conversations with a tracked person (`site_users`), their messages, agent
-- status logs and SLA policies. Flags are INTEGER 0/1 on both backends (not
-- BOOLEAN on PostgreSQL), so the shared statements bind and compare them as
-- i64 (see vibe_store::db). Timestamps are Unix ms; `*_s` are seconds.

CREATE TABLE teams (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX teams_name ON teams(project_id, name);

-- Project members in a team (any role; scoping reads it for agents and supervisors).
CREATE TABLE team_members (
    project_id TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    account_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, team_id, account_id)
);
CREATE INDEX team_members_account ON team_members(project_id, account_id);

CREATE TABLE inboxes (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('in_app', 'email', 'whatsapp', 'sms', 'api')),
    team_id    TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- `opened_at` starts the running resolution timer (creation or the latest
-- reopen); `resolved_at`/`resolution_s` are of the latest resolution and
-- survive a reopen until the next one. `unread_count` counts inbound
-- messages no agent has read (kept on insert, recounted on read).
CREATE TABLE conversations (
    project_id          TEXT NOT NULL,
    id                  TEXT NOT NULL,
    site_user_id        TEXT NOT NULL,
    channel             TEXT NOT NULL CHECK (channel IN ('in_app', 'email', 'whatsapp', 'sms', 'api')),
    status              TEXT NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
    priority            TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    assignee_account_id TEXT,
    team_id             TEXT,
    inbox_id            TEXT,
    handled_by_bot      INTEGER NOT NULL DEFAULT 0 CHECK (handled_by_bot IN (0, 1)),
    escalated_to_human  INTEGER NOT NULL DEFAULT 0 CHECK (escalated_to_human IN (0, 1)),
    intent              TEXT,
    csat                INTEGER CHECK (csat BETWEEN 1 AND 5),
    is_lead             INTEGER NOT NULL DEFAULT 0 CHECK (is_lead IN (0, 1)),
    converted           INTEGER NOT NULL DEFAULT 0 CHECK (converted IN (0, 1)),
    external_id         TEXT,
    first_inbound_at    INTEGER,
    first_response_at   INTEGER,
    first_response_s    INTEGER,
    opened_at           INTEGER NOT NULL,
    resolved_at         INTEGER,
    resolution_s        INTEGER,
    last_message_at     INTEGER NOT NULL,
    unread_count        INTEGER NOT NULL DEFAULT 0,
    created_by_account_id TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
-- NULLs are distinct on both databases: many conversations without one.
CREATE UNIQUE INDEX conversations_external ON conversations(project_id, external_id);
CREATE INDEX conversations_inbox ON conversations(project_id, status, last_message_at);
CREATE INDEX conversations_recent ON conversations(project_id, last_message_at);
CREATE INDEX conversations_assignee ON conversations(project_id, assignee_account_id, last_message_at);
CREATE INDEX conversations_team ON conversations(project_id, team_id, last_message_at);
CREATE INDEX conversations_contact ON conversations(project_id, site_user_id, last_message_at);

-- `channel` is the conversation's, copied so a provider's message id is
-- unique per channel (NULL for messages no provider numbered).
CREATE TABLE messages (
    project_id         TEXT NOT NULL,
    id                 TEXT NOT NULL,
    conversation_id    TEXT NOT NULL,
    channel            TEXT NOT NULL,
    direction          TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender             TEXT NOT NULL CHECK (sender IN ('contact', 'agent', 'bot', 'system')),
    sender_account_id  TEXT,
    body               TEXT NOT NULL,
    private            INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    attachments        TEXT NOT NULL DEFAULT '[]',
    delivery_status    TEXT NOT NULL CHECK (delivery_status IN ('queued', 'sent', 'delivered', 'read', 'failed')),
    sent_at            INTEGER,
    delivered_at       INTEGER,
    read_at            INTEGER,
    failed_reason      TEXT,
    channel_message_id TEXT,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX messages_channel_id ON messages(project_id, channel, channel_message_id);
CREATE INDEX messages_thread ON messages(project_id, conversation_id, created_at, id);

CREATE TABLE agent_activity_logs (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('online', 'away', 'offline')),
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    duration_s INTEGER,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX agent_activity_agent ON agent_activity_logs(project_id, account_id, started_at);

-- One policy per priority; `business_hours` is JSON text (see docs/metrics.md).
CREATE TABLE sla_policies (
    project_id              TEXT NOT NULL,
    priority                TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    first_response_target_s INTEGER NOT NULL,
    resolution_target_s     INTEGER NOT NULL,
    business_hours          TEXT,
    updated_at              INTEGER NOT NULL,
    PRIMARY KEY (project_id, priority)
);
