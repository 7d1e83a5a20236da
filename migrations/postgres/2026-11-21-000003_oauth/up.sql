-- OAuth 2: registered clients, authorization grants (login → consent →
-- code → token), passwords of local users, and which client and grant a
-- token came from. Same meaning as the SQLite migration of this name.

ALTER TABLE accounts ADD COLUMN password_hash TEXT;

CREATE TABLE oauth_clients (
    id BIGSERIAL PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT,
    name TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE oauth_grants (
    id BIGSERIAL PRIMARY KEY,
    consent_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT UNIQUE,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    state TEXT,
    code_challenge TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    used_at TIMESTAMP
);

ALTER TABLE tokens ADD COLUMN client_id TEXT;
ALTER TABLE tokens ADD COLUMN grant_id BIGINT REFERENCES oauth_grants (id) ON DELETE SET NULL;
