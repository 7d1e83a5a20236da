-- Private Webmention (both directions) replaces the capability pages of
-- the old rel=private-notes convention. Same meaning as the SQLite
-- migration of this name.
DROP TABLE private_pages;

-- A direct note handed to a site: shown at /private/PAGE_KEY, and only to
-- a bearer of a token granted for it. The key is not a secret; the token is.
CREATE TABLE private_pages (
    id BIGSERIAL PRIMARY KEY,
    page_key TEXT NOT NULL UNIQUE,
    object_ap_id TEXT NOT NULL,
    -- The Create the site is handed; refused to its sender when the site
    -- does not collect it.
    activity_ap_id TEXT NOT NULL,
    proxy_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sender_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    site_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- What a site may read: a short-lived single-use code (sent with a Private
-- Webmention) or ticket (Ticket Auth), redeemed at the token endpoint for a
-- bearer token. Both are stored as SHA-256 hashes.
CREATE TABLE site_grants (
    id BIGSERIAL PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    code_expires_at TIMESTAMP NOT NULL,
    redeemed_at TIMESTAMP,
    token_hash TEXT UNIQUE,
    token_expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    site_url TEXT NOT NULL,
    page_id BIGINT REFERENCES private_pages (id) ON DELETE CASCADE,
    -- Ticket Auth: the room (or person) whose private feed the site reads.
    feed_account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX site_grants_page ON site_grants (page_id);
CREATE INDEX site_grants_feed ON site_grants (feed_account_id, site_url);

-- A received Private Webmention's code and realm, until it is redeemed.
ALTER TABLE webmentions ADD COLUMN code TEXT;
ALTER TABLE webmentions ADD COLUMN realm TEXT;
