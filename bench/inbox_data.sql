-- The inbox bench's history (bench/inbox.sh): :CONV conversations over
-- CONV/2 phone contacts and :MSG messages (every conversation gets MSG/CONV
-- of them, alternating in/out), on one project. Plain SQL both backends run;
-- the bench substitutes :PROJECT, :CONV, :MSG, :T0 (ms), :TEAM, :AGENT.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :CONV / 2)
INSERT INTO site_users (project_id, id, name, first_seen, last_seen, traits)
SELECT ':PROJECT', 'tel:+1555' || (1000000 + i), 'Contact ' || i, :T0, :T0, '{}' FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :CONV)
INSERT INTO conversations (project_id, id, site_user_id, channel, status, priority,
    assignee_account_id, team_id, opened_at, last_message_at, created_at, updated_at, unread_count)
SELECT ':PROJECT', 'c' || i, 'tel:+1555' || (1000000 + i % (:CONV / 2)),
    CASE i % 3 WHEN 0 THEN 'whatsapp' WHEN 1 THEN 'in_app' ELSE 'email' END,
    CASE i % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'pending' WHEN 2 THEN 'resolved' ELSE 'closed' END,
    CASE i % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' WHEN 2 THEN 'high' ELSE 'urgent' END,
    CASE WHEN i % 10 = 0 THEN ':AGENT' WHEN i % 10 < 5 THEN NULL ELSE 'acct-' || (i % 10) END,
    CASE WHEN i % 2 = 0 THEN ':TEAM' ELSE NULL END,
    :T0 + i * 1000, :T0 + i * 1000 + (:MSG / :CONV) * 60000, :T0 + i * 1000, :T0 + i * 1000, i % 3
FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :MSG)
INSERT INTO messages (project_id, id, conversation_id, channel, direction, sender, body,
    delivery_status, channel_message_id, created_at)
SELECT ':PROJECT', 'm' || i, 'c' || (i % :CONV),
    CASE (i % :CONV) % 3 WHEN 0 THEN 'whatsapp' WHEN 1 THEN 'in_app' ELSE 'email' END,
    CASE WHEN (i / :CONV) % 2 = 0 THEN 'in' ELSE 'out' END,
    CASE WHEN (i / :CONV) % 2 = 0 THEN 'contact' ELSE 'agent' END,
    'Message ' || i || ' about order ' || (i % 9973),
    CASE WHEN (i / :CONV) % 2 = 0 THEN 'read' ELSE 'sent' END,
    CASE WHEN (i % :CONV) % 3 = 0 THEN 'wamid.' || i ELSE NULL END,
    :T0 + (i % :CONV) * 1000 + (i / :CONV) * 60000
FROM n;
