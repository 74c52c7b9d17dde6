-- Agent presence (issue 12): the last time one of the agent's dashboard
-- sockets was known to be open, on their open status row. An online or away
-- agent whose sockets have all been gone for the project's online window is
-- set offline by maintenance, from that moment (docs/metrics.md).
ALTER TABLE agent_activity_logs ADD COLUMN seen_at INTEGER;
