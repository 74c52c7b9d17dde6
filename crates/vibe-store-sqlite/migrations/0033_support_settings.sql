-- Support analytics settings (issue 13), one row per project; a project
-- without a row has the defaults (capacity 5, no agent cost, USD).
-- `hourly_agent_cost` is in minor units of `currency` per agent hour.
CREATE TABLE support_settings (
    project_id            TEXT NOT NULL PRIMARY KEY,
    agent_capacity        INTEGER NOT NULL,
    hourly_agent_cost     INTEGER NOT NULL,
    currency              TEXT NOT NULL,
    updated_by_account_id TEXT,
    updated_at            INTEGER NOT NULL
);
-- The conversations export walks a range of creation times page by page
-- (keyset `created_at, id`); without this index each page would visit all
-- of the project's conversations.
CREATE INDEX conversations_created ON conversations(project_id, created_at, id);
