-- Campaign tracking (issue 14, items 4-6): each recipient's first open,
-- first click, unsubscribe and bounce, with counters, kept on the recipient
-- row so the stats read one campaign's recipients (the primary key's
-- (project_id, campaign_id) prefix) and never scan campaign_events, which
-- keeps every open and click with its time. `first_open_machine` (0/1):
-- the first open looked automated (a mail privacy proxy's prefetch, or
-- within seconds of the send). `bounce_kind`: hard | soft.
ALTER TABLE campaign_recipients ADD COLUMN opened_at INTEGER;
ALTER TABLE campaign_recipients ADD COLUMN opens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_recipients ADD COLUMN machine_opens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_recipients ADD COLUMN first_open_machine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_recipients ADD COLUMN clicked_at INTEGER;
ALTER TABLE campaign_recipients ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_recipients ADD COLUMN unsubscribed_at INTEGER;
ALTER TABLE campaign_recipients ADD COLUMN bounced_at INTEGER;
ALTER TABLE campaign_recipients ADD COLUMN bounce_kind TEXT;
-- The bounce webhook: a project's recent recipients at an address.
CREATE INDEX campaign_recipients_by_address
    ON campaign_recipients(project_id, address, sent_at);
