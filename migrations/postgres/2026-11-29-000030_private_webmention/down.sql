ALTER TABLE webmentions DROP COLUMN realm;
ALTER TABLE webmentions DROP COLUMN code;
DROP TABLE site_grants;
DROP TABLE private_pages;
CREATE TABLE private_pages (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    object_ap_id TEXT NOT NULL,
    site_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
