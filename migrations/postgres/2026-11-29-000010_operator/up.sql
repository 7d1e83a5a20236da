-- Operating an instance: suspended and deleted accounts, header images,
-- uploaded profile images, blocked domains and reports from other servers.
-- Same meaning as the SQLite migration of this name.
ALTER TABLE accounts ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE accounts ADD COLUMN deleted_at TIMESTAMP;
ALTER TABLE accounts ADD COLUMN header_url TEXT;

-- Images an operator set for a local account (avatar, header), served at
-- /media/TOKEN.
CREATE TABLE media (
    id BIGSERIAL PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Domains the operator blocked or silenced; a rule for a domain covers its
-- subdomains.
CREATE TABLE domain_blocks (
    id BIGSERIAL PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    severity TEXT NOT NULL,
    reject_media BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Flag activities from other servers: reports for the operator.
CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL UNIQUE,
    reporter_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    targets TEXT NOT NULL,
    content TEXT,
    document TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE INDEX reports_open ON reports (resolved_at, id);
