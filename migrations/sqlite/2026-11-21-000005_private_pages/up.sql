-- Capability pages: a private note sent to a site that accepts private
-- notes is shown only at an unguessable URL given to that site.
-- Same meaning as the PostgreSQL migration of this name.
CREATE TABLE private_pages (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    object_ap_id TEXT NOT NULL,
    site_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
