-- One conversation's facts: the conversations export's SLA facts of a page
-- (`support_analytics::export::sla_facts`), the next-response misses of an
-- open period judged at each resolution (`inbox::reporting`, `at >= opened_at`)
-- and `support_events_of` (ordered by `at`). Without it each lookup walked
-- the project's `support_events_at` range, i.e. all of its facts.
CREATE INDEX support_events_conversation ON support_events(project_id, conversation_id, at);
