-- One conversation's facts: the conversations export's SLA facts of a page
-- (`support_analytics::export::sla_facts`), the next-response misses of an
-- open period judged at each resolution (`inbox::reporting`, `at >= opened_at`)
-- and `support_events_of` (ordered by `at`). Without it each lookup walked
-- the project's `support_events_at` range, i.e. all of its facts.
CREATE INDEX support_events_conversation ON support_events(project_id, conversation_id, at);
-- `reopened.flag` now means "reopened within 24 h of a bot-only resolution"
-- (docs/metrics.md, "Automation impact"); facts written before flagged every
-- reopen of a bot-only resolution. Their `value_s` holds the seconds since
-- that resolution, so the rule applies to them as well. (Snapshots already
-- taken keep the old counts until `vibe support rebuild`.)
UPDATE support_events SET flag = 0 WHERE name = 'reopened' AND flag = 1 AND value_s > 86400;
