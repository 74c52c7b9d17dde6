-- Inbox search (issue 12): the conversation list's `q` matches message bodies
-- by word prefix (`… @@ to_tsquery('simple', 'word':* & …)`) through this
-- index instead of scanning every body with LIKE. The expression must stay
-- exactly the query's (`PG_BODY_TSVECTOR` in vibe-store inbox/conversations.rs,
-- a test compares them) for the planner to use it: the body with common Latin
-- diacritics folded by `translate` (immutable, no extension needed; SQLite's
-- `remove_diacritics 2` does the same), lowercased by the `simple` config.
CREATE INDEX messages_body_fts ON messages USING GIN ((to_tsvector('simple', translate(body, 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿĄąĆćČčĎďĘęĚěĞğİıŁłŃńŇňŐőŘřŚśŞşŠšŤťŮůŰűŹźŻżŽž', 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyyAaCcCcDdEeEeGgIiLlNnNnOoRrSsSsSsTtUuUuZzZzZz'))));
