-- Inbox search (issue 12): the conversation list's `q` matches message bodies
-- by word prefix (`to_tsquery('simple', 'word':* & …)`) through this index
-- instead of scanning every body with LIKE. The expression must stay exactly
-- the one the query uses (inbox/conversations.rs) for the planner to use it.
-- 'simple' lowercases without stemming; unlike SQLite it keeps diacritics.
CREATE INDEX messages_body_fts ON messages USING GIN (to_tsvector('simple', body));
