-- One-time setup tokens, stored hashed; claimed at most once across nodes.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    claimed_at BIGINT
);

-- Identity verification: browsers must sign user ids with this project secret
-- when identity_required is set.
ALTER TABLE projects ADD COLUMN identity_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE projects ADD COLUMN identity_secret TEXT;

-- The scheduler purges expired sessions; "sign out everywhere" deletes by account.
CREATE INDEX auth_sessions_expires ON auth_sessions(expires_at);
CREATE INDEX auth_sessions_account ON auth_sessions(account_id);
