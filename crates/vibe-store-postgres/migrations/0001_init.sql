-- Vibe schema, PostgreSQL flavour. Timestamps are UTC Unix milliseconds.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE auth_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    write_key       TEXT NOT NULL UNIQUE,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    online_window_s BIGINT NOT NULL DEFAULT 300,
    created_at      BIGINT NOT NULL
);

CREATE TABLE members (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, account_id)
);
CREATE INDEX members_account ON members(account_id);

-- Project secret keys (sk_…) for server-side SDKs; only the hash is kept.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Tracked people. `id` is the first anonymous id seen (or uid:<user_id> for
-- server-side-only users); site_user_aliases maps every anonymous id to its person.
CREATE TABLE site_users (
    project_id   TEXT NOT NULL,
    id           TEXT NOT NULL,
    anonymous_id TEXT,
    user_id      TEXT,
    email        TEXT,
    name         TEXT,
    plan         TEXT,
    traits       TEXT NOT NULL DEFAULT '{}',
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    device       TEXT,
    browser      TEXT,
    os           TEXT,
    event_count  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX site_users_user_id ON site_users(project_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX site_users_last_seen ON site_users(project_id, last_seen);

CREATE TABLE site_user_aliases (
    project_id   TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    PRIMARY KEY (project_id, anonymous_id)
);
CREATE INDEX site_user_aliases_person ON site_user_aliases(project_id, site_user_id);

CREATE TABLE site_sessions (
    project_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    site_user_id    TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    ended_at        BIGINT,
    entry_url       TEXT,
    referrer        TEXT,
    current_url     TEXT,
    current_path    TEXT,
    current_title   TEXT,
    page_entered_at BIGINT,
    page_count      BIGINT NOT NULL DEFAULT 0,
    device          TEXT,
    browser         TEXT,
    os              TEXT,
    screen          TEXT,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX site_sessions_last_seen ON site_sessions(project_id, last_seen_at);
CREATE INDEX site_sessions_person ON site_sessions(project_id, site_user_id, started_at);

CREATE TABLE user_events (
    project_id   TEXT NOT NULL,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT,
    anonymous_id TEXT,
    user_id      TEXT,
    session_id   TEXT,
    url          TEXT,
    path         TEXT,
    referrer     TEXT,
    title        TEXT,
    props        TEXT,
    ts           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX user_events_ts ON user_events(project_id, ts);
CREATE INDEX user_events_session ON user_events(project_id, session_id, ts);
