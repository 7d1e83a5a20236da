-- Webmention: received mentions with their verification state, the site a
-- proxy actor stands for, and lookups of posts by their source URL.
-- Same meaning as the PostgreSQL migration of this name.

ALTER TABLE accounts ADD COLUMN site_url TEXT;
CREATE UNIQUE INDEX accounts_site_url ON accounts (site_url);

CREATE INDEX objects_url ON objects (url);

CREATE TABLE webmentions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    source_host TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'verified', 'rejected', 'deleted')),
    reason TEXT,
    object_ap_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (source, target)
);
CREATE INDEX webmentions_source_host ON webmentions (source_host, updated_at);
