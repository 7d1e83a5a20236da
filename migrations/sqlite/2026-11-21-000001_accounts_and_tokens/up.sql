-- Local and remote actors (Person, Group, Application) and the bearer tokens
-- of local accounts. Same meaning as the PostgreSQL migration of this name.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('Person', 'Group', 'Application')),
    username TEXT NOT NULL,
    domain TEXT,
    actor_url TEXT NOT NULL UNIQUE,
    inbox_url TEXT NOT NULL,
    shared_inbox_url TEXT,
    outbox_url TEXT,
    followers_url TEXT,
    following_url TEXT,
    profile_url TEXT,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT,
    display_name TEXT,
    summary TEXT,
    avatar_url TEXT,
    manually_approves_followers BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((domain IS NULL) = (private_key_pem IS NOT NULL))
);

-- Local names (users and rooms alike) are unique; remote ones per domain.
CREATE UNIQUE INDEX accounts_local_username ON accounts (username) WHERE domain IS NULL;
CREATE UNIQUE INDEX accounts_remote_username ON accounts (username, domain) WHERE domain IS NOT NULL;

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX tokens_account ON tokens (account_id);
