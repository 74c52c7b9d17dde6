-- Support snapshots keep, beside the rows per (agent, team, channel), the
-- same counters summed over some of those dimensions ("projections"): a
-- read that filters or groups by at most one dimension takes one row per
-- period instead of one per combination (docs/metrics.md, "Support
-- snapshots"). `kept` names the dimensions a row keeps: 'atc' (all: agent,
-- team, channel), 'a', 't', 'c' or '' (the period's total); a dimension not
-- kept is ''. The rows of 0031 have no projections, so they are dropped and
-- the marks cleared: the snapshot job refolds the history on its next run.

DROP TABLE analytics_snapshots;
DELETE FROM analytics_snapshot_marks;

CREATE TABLE analytics_snapshots (
    project_id    TEXT NOT NULL,
    snapshot_type TEXT NOT NULL CHECK (snapshot_type IN ('hourly', 'daily', 'weekly')),
    kept          TEXT NOT NULL CHECK (kept IN ('atc', 'a', 't', 'c', '')),
    period_start  INTEGER NOT NULL,
    account_id    TEXT NOT NULL DEFAULT '',
    team_id       TEXT NOT NULL DEFAULT '',
    channel       TEXT NOT NULL,
    metrics       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, snapshot_type, kept, period_start, account_id, team_id, channel)
);

-- The agent-time fold looks up a window's `handled` stretches; the
-- WhatsApp section the latest `failed` facts. Both walked every fact of
-- the range on support_events_at.
CREATE INDEX support_events_name_at ON support_events(project_id, name, at);
-- The agent-time fold of the open tail looks up the status rows still open
-- or ended inside it; it walked every row the agents ever had.
CREATE INDEX agent_activity_ended ON agent_activity_logs(project_id, ended_at);
