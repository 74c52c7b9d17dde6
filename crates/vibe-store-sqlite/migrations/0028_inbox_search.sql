-- Inbox search (issue 12): the conversation list's `q` matches message bodies
-- by word prefix through an FTS5 index instead of scanning every body with
-- LIKE. External content: the index keeps only the tokens, keyed by the
-- message's rowid; the triggers keep it in step with every write to
-- `messages`, whichever code path (or a plain SQL load) does it. Tokens are
-- case- and diacritics-folded (`unicode61 remove_diacritics 2`).
-- `messages` has no INTEGER PRIMARY KEY, so a manual VACUUM may renumber its
-- rowids: run `INSERT INTO messages_fts(messages_fts) VALUES('rebuild')` after one.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.rowid, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.rowid, new.body);
END;

INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
