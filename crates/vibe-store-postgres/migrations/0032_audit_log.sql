-- The audit log (issue 13, item 4): who changed which project setting (and,
-- with the support reports, who read business metrics or exported them), from
-- where, when. Append-only: rows are written by the server in the request
-- that made the change and never updated. `params` is the request's
-- parameters as JSON text with secrets already redacted by the server;
-- `actor_email` is copied so a row still names its actor after the account
-- is gone. `at` is Unix ms.
CREATE TABLE audit_log (
    project_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    actor_account_id TEXT NOT NULL,
    actor_email      TEXT NOT NULL,
    action           TEXT NOT NULL,
    resource         TEXT NOT NULL,
    params           TEXT NOT NULL,
    ip               TEXT,
    at               BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
-- Keyset pages newest first: (at, id) below the cursor.
CREATE INDEX audit_log_by_time ON audit_log (project_id, at DESC, id DESC);
-- The page's filters by who and by what.
CREATE INDEX audit_log_by_actor ON audit_log (project_id, actor_account_id, at DESC);
CREATE INDEX audit_log_by_action ON audit_log (project_id, action, at DESC);
