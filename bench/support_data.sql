-- The support analytics bench's history (bench/support.sh, issue 13): :CONV
-- conversations and about :MSG messages over the :DAYS local (UTC) days
-- ending today, on one project, and the `support_events` facts the Inbox
-- would have written with them (docs/metrics.md; the design's table), plus
-- the outbox rows of the outbound WhatsApp/email messages and, on the first
-- copy only, the agents' online/away/offline rows. Plain SQL both backends
-- run. The bench substitutes :PROJECT, :CONV, :MSG, :DAYS, :AGENTS, :NOW and
-- :D0 (ms; D0 = midnight of the first day), :OFF and :MOFF (id offsets of
-- this copy: 0/0 first, CONV/MSG for the doubled history), :INBOX_WA,
-- :INBOX_APP, :INBOX_EMAIL; the prelude written by `support.py setup` makes
-- `bench_agents (k, account_id, team_id)` of the AGENTS accounts in 5 teams.
--
-- Conversation j (0 ≤ j < CONV): day j % DAYS (two thirds of the Saturday
-- and Sunday ones moved to the weekdays before: quieter weekends), hour 8–20 peaking at 14 (8 % at any
-- hour), ids c{OFF+j}, contact one of 0.6 × CONV phones (so some return).
-- Kinds: j % 10 ∈ {1,2} bot only, 3 bot then escalated to an agent, 9 (half
-- of them) dropped by the contact after the bot answered, else an agent's
-- from the start (a quarter of them go to the first fifth of the agents: an
-- uneven workload). Messages alternate contact / answer; the answer is the
-- bot's until an agent holds the conversation. Resolution follows the last
-- message; whatever would resolve after now is still open or pending.
-- Fact attribution is the holder at that moment (a bot conversation's
-- early facts have no agent).

-- ---- conversations, computed once ----
CREATE TABLE bench_conv AS
WITH RECURSIVE n(j) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT j + 1 FROM n WHERE j + 1 < :CONV),
a AS (
  SELECT j, j % :DAYS AS d0, (:D0 / 86400000 + j % :DAYS + 4) % 7 AS dow,
         (j * 7919 + 13) % 1000 AS r1, (j * 104729 + 7) % 997 AS r2, (j * 15485863 + 3) % 1009 AS r3
  FROM n
),
b AS (
  SELECT j, r1, r2, r3,
    CASE WHEN dow = 6 AND j % 3 <> 0 AND d0 >= 5 THEN d0 - 1 - (j / 3) % 5
         WHEN dow = 0 AND j % 3 <> 0 AND d0 >= 6 THEN d0 - 2 - (j / 3) % 5 ELSE d0 END AS d,
    CASE WHEN r1 < 80 THEN r2 % 24 ELSE 8 + r2 % 7 + r3 % 7 END AS hour,
    CASE WHEN j % 10 IN (1, 2) THEN 'bot' WHEN j % 10 = 3 THEN 'escalated'
         WHEN j % 20 = 9 THEN 'dropped' ELSE 'human' END AS kind,
    CASE WHEN (j / 10) % 4 = 0 THEN (j / 40) % ((:AGENTS + 4) / 5)
         ELSE (7 * (j / 10) + j % 10) % :AGENTS END AS k,
    :MSG / :CONV + CASE WHEN j < :MSG % :CONV THEN 1 ELSE 0 END AS rounds
  FROM a
),
c AS (
  SELECT b.*,
    :D0 + d * 86400000 + hour * 3600000 + (j * 7919) % 3600000 AS created0,
    CASE WHEN kind = 'human' THEN 30 + (r1 * r2) % 1800 ELSE 2 + r1 % 8 END AS frs,
    45 + (j * 13) % 300 AS gap,
    CASE WHEN kind = 'human' OR kind = 'escalated' THEN 120 + (r3 * 37) % 7200 ELSE 30 + r3 % 300 END AS tail
  FROM b
),
e AS (
  SELECT c.*,
    CASE WHEN created0 > :NOW - 1800000 THEN created0 - 86400000 ELSE created0 END AS created
  FROM c
),
f AS (
  SELECT e.*,
    created + frs * 1000 + (CASE WHEN rounds >= 2 THEN rounds - 2 ELSE 0 END) * gap * 1000 AS last_t,
    CASE WHEN kind = 'escalated' THEN created + frs * 1000 + gap * 1000
         WHEN kind = 'human' THEN created END AS assigned_at
  FROM e
),
g AS (
  SELECT f.*, last_t + tail * 1000 AS res_at,
    CASE WHEN last_t + tail * 1000 <= :NOW AND j % 200 <> 5 THEN 1 ELSE 0 END AS done
  FROM f
)
SELECT j, 'c' || (:OFF + j) AS id, 'tel:+1555' || (2000000 + :OFF + j % (:CONV * 6 / 10)) AS contact,
  CASE WHEN j % 6 < 3 THEN 'whatsapp' WHEN j % 6 < 5 THEN 'in_app' ELSE 'email' END AS channel,
  CASE WHEN j % 6 < 3 THEN ':INBOX_WA' WHEN j % 6 < 5 THEN ':INBOX_APP' ELSE ':INBOX_EMAIL' END AS inbox,
  CASE WHEN r2 % 10 = 0 THEN 'urgent' WHEN r2 % 10 < 3 THEN 'high' WHEN r2 % 10 < 7 THEN 'medium' ELSE 'low' END AS priority,
  kind, ag.account_id AS agent, ag.team_id AS team,
  created, frs, gap, rounds, last_t, res_at, assigned_at, done,
  CASE WHEN done = 1 AND kind = 'dropped' THEN 'closed' WHEN done = 1 AND j % 5 = 0 THEN 'closed'
       WHEN done = 1 THEN 'resolved' WHEN j % 3 = 0 THEN 'pending' ELSE 'open' END AS status,
  CASE WHEN done = 1 AND kind <> 'dropped' THEN 1 ELSE 0 END AS resolved,
  CASE WHEN done = 1 AND kind <> 'dropped' AND j % 50 = 11 THEN 1 ELSE 0 END AS reopened,
  CASE WHEN done = 1 AND kind <> 'dropped' AND j % 3 = 0 THEN
    CASE r3 % 10 WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 3 WHEN 3 THEN 4 WHEN 4 THEN 4 WHEN 5 THEN 4 ELSE 5 END END AS csat,
  CASE WHEN kind <> 'human' OR j % 4 = 0 THEN
    CASE r2 % 6 WHEN 0 THEN 'order_status' WHEN 1 THEN 'refund' WHEN 2 THEN 'shipping'
                WHEN 3 THEN 'product_question' WHEN 4 THEN 'billing' ELSE 'account' END END AS intent,
  CASE WHEN j % 10 = 6 OR r1 < 50 THEN 1 ELSE 0 END AS lead,
  CASE WHEN (j % 10 = 6 OR r1 < 50) AND j % 3 = 0 AND done = 1 AND kind <> 'dropped' THEN 1 ELSE 0 END AS converted,
  CASE r2 % 10 WHEN 0 THEN 300 WHEN 1 THEN 900 WHEN 2 THEN 900 WHEN 3 THEN 1800 WHEN 4 THEN 1800
       WHEN 5 THEN 1800 WHEN 6 THEN 1800 ELSE 3600 END AS fr_target,
  CASE r2 % 10 WHEN 0 THEN 14400 WHEN 1 THEN 28800 WHEN 2 THEN 28800 WHEN 3 THEN 86400 WHEN 4 THEN 86400
       WHEN 5 THEN 86400 WHEN 6 THEN 86400 ELSE 172800 END AS res_target
FROM g LEFT JOIN bench_agents ag ON ag.k = g.k AND g.kind IN ('human', 'escalated');
CREATE INDEX bench_conv_j ON bench_conv(j);

WITH RECURSIVE n(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :CONV * 6 / 10)
INSERT INTO site_users (project_id, id, name, first_seen, last_seen, traits)
SELECT ':PROJECT', 'tel:+1555' || (2000000 + :OFF + i), 'Contact ' || (:OFF + i), :D0, :D0,
  '{"phone":"+1555' || (2000000 + :OFF + i) || '"}' FROM n;

INSERT INTO conversations (project_id, id, site_user_id, channel, status, priority,
    assignee_account_id, team_id, inbox_id, handled_by_bot, escalated_to_human, intent, csat,
    is_lead, converted, first_inbound_at, first_response_at, first_response_s, opened_at,
    resolved_at, resolution_s, last_message_at, unread_count, created_at, updated_at,
    bot_only, dropped, subject, assigned_at)
SELECT ':PROJECT', id, contact, channel, status, priority, agent, team, inbox,
  CASE WHEN kind = 'human' THEN 0 ELSE 1 END, CASE WHEN kind = 'escalated' THEN 1 ELSE 0 END,
  intent, csat, lead, converted, created, created + frs * 1000, frs,
  CASE WHEN reopened = 1 THEN created + 2 * (res_at - created) / 3 ELSE created END,
  CASE WHEN resolved = 1 THEN res_at END, CASE WHEN resolved = 1 THEN (res_at - created) / 1000 END,
  CASE WHEN last_t > :NOW THEN :NOW ELSE last_t END, CASE WHEN done = 1 THEN 0 ELSE 1 END,
  created, CASE WHEN done = 1 THEN res_at ELSE :NOW END,
  CASE WHEN kind = 'bot' AND resolved = 1 THEN 1 ELSE 0 END, CASE WHEN kind = 'dropped' AND done = 1 THEN 1 ELSE 0 END,
  CASE WHEN channel = 'email' THEN 'Order question ' || j END, assigned_at
FROM bench_conv;

-- ---- messages: round r of conversation j is message MOFF + r*CONV + j ----
CREATE TABLE bench_msg AS
WITH RECURSIVE n(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :MSG),
r AS (
  SELECT n.i, n.i / :CONV AS rnd, c.*,
    CASE WHEN n.i / :CONV = 0 THEN c.created
         ELSE c.created + c.frs * 1000 + (n.i / :CONV - 1) * c.gap * 1000 END AS t
  FROM n JOIN bench_conv c ON c.j = n.i % :CONV
)
SELECT 'm' || (:MOFF + i) AS mid, i, rnd, id AS cid, channel, t, agent, assigned_at, team, inbox,
  CASE WHEN rnd % 2 = 0 THEN 'in' ELSE 'out' END AS direction,
  CASE WHEN rnd % 2 = 0 THEN 'contact'
       WHEN agent IS NOT NULL AND t >= assigned_at THEN 'agent' ELSE 'bot' END AS sender,
  -- outbound WhatsApp: 3 % failed, else sent, 90 % delivered, 70 % read
  CASE WHEN rnd % 2 = 1 AND channel = 'whatsapp' AND i % 37 <> 0 THEN t + 1000
       WHEN rnd % 2 = 1 AND channel = 'email' THEN t + 2000 END AS sent_at,
  CASE WHEN rnd % 2 = 1 AND channel = 'whatsapp' AND i % 37 <> 0 AND i % 10 < 9 THEN t + 3000 END AS delivered_at,
  CASE WHEN rnd % 2 = 1 AND channel = 'whatsapp' AND i % 37 <> 0 AND i % 10 < 7
       AND t + 30000 + (i % 600) * 1000 <= :NOW THEN t + 30000 + (i % 600) * 1000 END AS read_at,
  CASE WHEN rnd % 2 = 1 AND channel = 'whatsapp' AND i % 37 = 0 THEN t + 2000 END AS failed_at
FROM r WHERE t <= :NOW;

INSERT INTO messages (project_id, id, conversation_id, channel, direction, sender, sender_account_id,
    body, delivery_status, sent_at, delivered_at, read_at, failed_reason, channel_message_id, created_at)
SELECT ':PROJECT', mid, cid, channel, direction, sender, CASE WHEN sender = 'agent' THEN agent END,
  CASE WHEN direction = 'in' THEN 'Hi, where is my order ' || (i % 9973) || '?'
       ELSE 'Thanks for writing, order ' || (i % 9973) || ' ships today.' END,
  CASE WHEN direction = 'in' THEN 'read' WHEN failed_at IS NOT NULL THEN 'failed'
       WHEN read_at IS NOT NULL THEN 'read' WHEN delivered_at IS NOT NULL THEN 'delivered'
       WHEN sent_at IS NOT NULL OR channel = 'in_app' THEN 'sent' ELSE 'queued' END,
  sent_at, delivered_at, read_at,
  CASE WHEN failed_at IS NOT NULL THEN '131026: message undeliverable' END,
  CASE WHEN channel = 'whatsapp' THEN 'wamid.' || mid WHEN channel = 'email' THEN '<' || mid || '@bench.example>' END,
  t
FROM bench_msg;

-- The outbox row of every outbound WhatsApp and email message.
INSERT INTO outbound_queue (project_id, message_id, channel, state, attempts, next_attempt_at,
    started_at, last_error, created_at, updated_at)
SELECT ':PROJECT', mid, channel, CASE WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'sent' END, 1, t, t,
  CASE WHEN failed_at IS NOT NULL THEN '131026: message undeliverable' END, t,
  COALESCE(failed_at, sent_at, t)
FROM bench_msg WHERE direction = 'out' AND channel IN ('whatsapp', 'email');

-- ---- support_events ----
INSERT INTO support_events (project_id, id, name, conversation_id, message_id, account_id, team_id,
    inbox_id, channel, value_s, value_bh_s, flag, label, at)
SELECT ':PROJECT', 'm:' || mid, 'message', cid, mid,
  CASE WHEN agent IS NOT NULL AND t >= assigned_at THEN agent END, team, inbox, channel, NULL, NULL,
  CASE WHEN direction = 'out' THEN 1 ELSE 0 END, sender, t
FROM bench_msg;

-- Every answer to the waiting contact; the wait began with the previous
-- (contact) round.
INSERT INTO support_events (project_id, id, name, conversation_id, message_id, account_id, team_id,
    inbox_id, channel, value_s, value_bh_s, flag, label, at)
SELECT ':PROJECT', 'rp:' || m.mid, 'reply', m.cid, m.mid,
  CASE WHEN m.sender = 'agent' THEN m.agent END, m.team, m.inbox, m.channel,
  CASE WHEN m.rnd = 1 THEN c.frs ELSE c.gap END, NULL, CASE WHEN m.sender = 'bot' THEN 1 ELSE 0 END, NULL, m.t
FROM bench_msg m JOIN bench_conv c ON c.j = m.i % :CONV WHERE m.direction = 'out';

INSERT INTO support_events (project_id, id, name, conversation_id, message_id, account_id, team_id,
    inbox_id, channel, value_s, value_bh_s, flag, label, at)
SELECT ':PROJECT', s.name || ':' || m.mid, s.name, m.cid, m.mid,
  CASE WHEN m.sender = 'agent' THEN m.agent END, m.team, m.inbox, m.channel, NULL, NULL, 0,
  CASE WHEN s.name = 'failed' THEN '131026: message undeliverable' END,
  CASE s.name WHEN 'sent' THEN m.sent_at WHEN 'delivered' THEN m.delivered_at
              WHEN 'read' THEN m.read_at ELSE m.failed_at END
FROM bench_msg m
JOIN (SELECT 'sent' AS name UNION ALL SELECT 'delivered' UNION ALL SELECT 'read' UNION ALL SELECT 'failed') s
  ON (s.name = 'sent' AND m.sent_at IS NOT NULL) OR (s.name = 'delivered' AND m.delivered_at IS NOT NULL)
  OR (s.name = 'read' AND m.read_at IS NOT NULL) OR (s.name = 'failed' AND m.failed_at IS NOT NULL);

-- Conversation facts: one SELECT per kind, from bench_conv (x.at is when).
INSERT INTO support_events (project_id, id, name, conversation_id, message_id, account_id, team_id,
    inbox_id, channel, value_s, value_bh_s, flag, label, at)
SELECT ':PROJECT', x.name || ':' || x.id, x.name, x.id, NULL, x.account_id, x.team, x.inbox, x.channel,
  x.value_s, NULL, x.flag, x.label, x.at
FROM (
  SELECT 'conversation_created' AS name, id, CASE WHEN kind = 'human' THEN agent END AS account_id,
    team, inbox, channel, CAST(NULL AS BIGINT) AS value_s,
    CASE WHEN bench_conv.created > f.first THEN 1 ELSE 0 END AS flag,
    priority AS label, created AS at FROM bench_conv
    -- returning: the contact had an earlier conversation (a join, not a
    -- correlated EXISTS, so no planner statistics can make it quadratic)
    JOIN (SELECT site_user_id, MIN(created_at) AS first FROM conversations
          WHERE project_id = ':PROJECT' GROUP BY site_user_id) f ON f.site_user_id = bench_conv.contact
  UNION ALL SELECT 'first_response', id, CASE WHEN kind = 'human' THEN agent END, team, inbox, channel, frs,
    CASE WHEN kind = 'human' THEN 0 ELSE 1 END, NULL, created + frs * 1000
    FROM bench_conv WHERE rounds >= 2 AND created + frs * 1000 <= :NOW
  UNION ALL SELECT 'assigned', id, agent, team, inbox, channel, NULL, 0, NULL, assigned_at
    FROM bench_conv WHERE agent IS NOT NULL AND assigned_at <= :NOW
  UNION ALL SELECT 'escalated', id, agent, team, inbox, channel, NULL, 0, NULL, assigned_at
    FROM bench_conv WHERE kind = 'escalated' AND assigned_at <= :NOW
  UNION ALL SELECT 'handled', id, agent, team, inbox, channel, (res_at - assigned_at) / 1000, 0, NULL, res_at
    FROM bench_conv WHERE resolved = 1 AND agent IS NOT NULL
  UNION ALL SELECT 'resolved', id, agent, team, inbox, channel, (res_at - created) / 1000,
    CASE WHEN kind = 'bot' THEN 1 ELSE 0 END, intent, res_at FROM bench_conv WHERE resolved = 1
  -- a few were resolved once before: that resolution, then the reopen
  UNION ALL SELECT 'resolved.1', id, agent, team, inbox, channel, (res_at - created) / 3000,
    CASE WHEN kind = 'bot' THEN 1 ELSE 0 END, intent, created + (res_at - created) / 3
    FROM bench_conv WHERE reopened = 1
  -- flag: the reopened resolution was bot-only and is at most 24 h old
  -- (the writer's rule, vibe_store::inbox::reporting::BOT_REOPEN_WINDOW_S)
  UNION ALL SELECT 'reopened', id, agent, team, inbox, channel, (res_at - created) / 3000,
    CASE WHEN kind = 'bot' AND (res_at - created) / 3000 <= 86400 THEN 1 ELSE 0 END, NULL,
    created + 2 * (res_at - created) / 3
    FROM bench_conv WHERE reopened = 1
  UNION ALL SELECT 'dropped', id, NULL, team, inbox, channel, NULL, 0, NULL, res_at
    FROM bench_conv WHERE kind = 'dropped' AND done = 1
  UNION ALL SELECT 'csat', id, agent, team, inbox, channel, csat, 0, NULL, res_at + 60000
    FROM bench_conv WHERE csat IS NOT NULL AND res_at + 60000 <= :NOW
  UNION ALL SELECT 'lead', id, agent, team, inbox, channel, NULL, 0, NULL, created + 300000
    FROM bench_conv WHERE lead = 1 AND created + 300000 <= :NOW
  UNION ALL SELECT 'converted', id, agent, team, inbox, channel, NULL, 0, NULL, res_at
    FROM bench_conv WHERE converted = 1
  UNION ALL SELECT 'sla', id, agent, team, inbox, channel, NULL, 0,
    CASE WHEN frs > fr_target OR (res_at - created) / 1000 > res_target THEN 'missed' ELSE 'hit' END, res_at
    FROM bench_conv WHERE resolved = 1
  UNION ALL SELECT 'sla_miss.fr', id, CASE WHEN kind = 'human' THEN agent END, team, inbox, channel,
    frs - fr_target, 0, 'first_response', created + fr_target * 1000
    FROM bench_conv WHERE frs > fr_target AND created + fr_target * 1000 <= :NOW
  UNION ALL SELECT 'sla_miss.res', id, agent, team, inbox, channel, (res_at - created) / 1000 - res_target, 0,
    'resolution', created + res_target * 1000
    FROM bench_conv WHERE resolved = 1 AND (res_at - created) / 1000 > res_target
) x;
-- Two kinds were numbered apart to keep their ids unique; name them back.
UPDATE support_events SET name = 'resolved' WHERE project_id = ':PROJECT' AND name = 'resolved.1';
UPDATE support_events SET name = 'sla_miss' WHERE project_id = ':PROJECT' AND name IN ('sla_miss.fr', 'sla_miss.res');

-- ---- agent status rows (first copy only: the same agents, the same days) ----
-- Each agent works a shift starting at 7, 10 or 13 h: online 4 h, away 45
-- min, online 3 h 15, then offline until the next shift. Rows not yet begun
-- are left out; the one running now is open (no end).
WITH RECURSIVE n(i) AS (SELECT CAST(0 AS BIGINT) WHERE :OFF = 0
                        UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :AGENTS * :DAYS * 4),
s AS (
  SELECT i, ag.account_id, (i / :AGENTS) % :DAYS AS d, i / (:AGENTS * :DAYS) AS seg,
    (7 + (ag.k % 3) * 3) * 3600000 AS shift
  FROM n JOIN bench_agents ag ON ag.k = n.i % :AGENTS
),
t AS (
  SELECT i, account_id,
    CASE seg WHEN 0 THEN 'online' WHEN 1 THEN 'away' WHEN 2 THEN 'online' ELSE 'offline' END AS status,
    :D0 + d * 86400000 + shift + CASE seg WHEN 0 THEN 0 WHEN 1 THEN 14400000 WHEN 2 THEN 17100000 ELSE 28800000 END AS started_at,
    :D0 + d * 86400000 + shift + CASE seg WHEN 0 THEN 14400000 WHEN 1 THEN 17100000 WHEN 2 THEN 28800000 ELSE 86400000 END AS ended_at
  FROM s
)
INSERT INTO agent_activity_logs (project_id, id, account_id, status, started_at, ended_at, duration_s)
SELECT ':PROJECT', 'bench-al-' || i, account_id, status, started_at,
  CASE WHEN ended_at <= :NOW THEN ended_at END,
  CASE WHEN ended_at <= :NOW THEN (ended_at - started_at) / 1000 END
FROM t WHERE started_at <= :NOW;

DROP TABLE bench_msg;
DROP TABLE bench_conv;
