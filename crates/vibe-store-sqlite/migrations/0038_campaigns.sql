-- Campaigns (issue 14, items 2 and 3): a message sent to a segment of a
-- project's people (or, `kind` 'direct', to chosen people), over a channel,
-- from a saved template (`template_id`) or inline content (`content`, JSON
-- text {subject, body_html, body_text}); `data` (JSON text) is the
-- template's `data` variable for every recipient. `segment` is a built-in
-- segment's name or a custom segment's id (NULL for direct sends). `status`: draft | scheduled | sending |
-- paused | sent | cancelled. `error` says why the sender paused it.
-- Times are Unix ms.
CREATE TABLE campaigns (
    project_id            TEXT NOT NULL,
    id                    TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    channel               TEXT NOT NULL,
    template_id           TEXT,
    content               TEXT,
    data                  TEXT,
    segment               TEXT,
    send_at               INTEGER,
    rate_per_minute       INTEGER,
    status                TEXT NOT NULL,
    recipients            INTEGER NOT NULL DEFAULT 0,
    skipped               INTEGER NOT NULL DEFAULT 0,
    error                 TEXT,
    created_by_account_id TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    started_at            INTEGER,
    finished_at           INTEGER,
    PRIMARY KEY (project_id, id)
);
-- The sender's scan: scheduled ones coming due, the ones sending.
CREATE INDEX campaigns_by_status ON campaigns(status, send_at);
CREATE INDEX campaigns_recent ON campaigns(project_id, created_at);

-- One row per person a campaign is for, written when sending starts (so a
-- later change of the segment does not move it). `status`: queued | claimed
-- | sent | failed | unknown | skipped | cancelled; `skip_reason` for
-- skipped: no_address | unsubscribed | bounced. `address` is the channel's
-- address (email: lower-cased). `token` (unguessable, set when claimed) is
-- the recipient's key in its unsubscribe link and, later, open and click
-- tracking. `claimed_at` is set in the transaction that claims the row,
-- before the send; a row still `claimed` after a crash becomes `unknown`.
CREATE TABLE campaign_recipients (
    project_id      TEXT NOT NULL,
    campaign_id     TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    address         TEXT,
    status          TEXT NOT NULL,
    skip_reason     TEXT,
    token           TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    claimed_at      INTEGER,
    sent_at         INTEGER,
    error           TEXT,
    message_id      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (project_id, campaign_id, person_id)
);
CREATE UNIQUE INDEX campaign_recipients_token ON campaign_recipients(token);
-- The claim (queued and due, per campaign) and the progress counts.
CREATE INDEX campaign_recipients_by_status
    ON campaign_recipients(project_id, campaign_id, status, next_attempt_at);
-- Crash recovery: rows left claimed, of any campaign.
CREATE INDEX campaign_recipients_claimed ON campaign_recipients(status, claimed_at);

-- Each recipient's transitions with their time: sent, failed, bounced,
-- soft_bounced, unknown (and, later, delivered, opened, clicked, …).
CREATE TABLE campaign_events (
    project_id  TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    detail      TEXT
);
CREATE INDEX campaign_events_by_recipient
    ON campaign_events(project_id, campaign_id, person_id, at);

-- Addresses that asked for no more campaigns, per project and channel
-- (email: the lower-cased address). Every later campaign skips them.
CREATE TABLE unsubscribes (
    project_id  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL,
    person_id   TEXT,
    campaign_id TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (project_id, channel, address)
);

-- Addresses a server refused for good (SMTP 5xx): later campaigns skip
-- them. The first bounce is kept.
CREATE TABLE bounced_addresses (
    project_id  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL,
    campaign_id TEXT,
    detail      TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (project_id, channel, address)
);
