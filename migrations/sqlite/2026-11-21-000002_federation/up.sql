-- Federation: objects and activities keyed by their id URL, follows,
-- reactions, blocks, per-account inboxes and the durable job queue.
-- Same meaning as the PostgreSQL migration of this name.

-- The id of the key an actor signs with (usually ACTOR#main-key).
ALTER TABLE accounts ADD COLUMN key_id TEXT;
CREATE UNIQUE INDEX accounts_key_id ON accounts (key_id);
-- When the actor document was last fetched (remote accounts only).
ALTER TABLE accounts ADD COLUMN fetched_at TIMESTAMP;
UPDATE accounts SET key_id = actor_url || '#main-key' WHERE domain IS NULL;

CREATE TABLE objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    content TEXT,
    summary TEXT,
    name TEXT,
    in_reply_to TEXT,
    context TEXT,
    url TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'followers', 'direct')),
    addressed_to TEXT NOT NULL,
    document TEXT NOT NULL,
    local BOOLEAN NOT NULL,
    published TIMESTAMP NOT NULL,
    updated TIMESTAMP,
    deleted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX objects_author ON objects (author_id, published);
CREATE INDEX objects_in_reply_to ON objects (in_reply_to);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    actor_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    object_ap_id TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'followers', 'direct')),
    addressed_to TEXT NOT NULL,
    document TEXT NOT NULL,
    local BOOLEAN NOT NULL,
    published TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX activities_actor ON activities (actor_id, published);
CREATE INDEX activities_object ON activities (object_ap_id);

CREATE TABLE follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    follower_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    follow_ap_id TEXT NOT NULL,
    accepted BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, accepted);

CREATE TABLE reactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('Like', 'Announce')),
    actor_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    object_ap_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reactions_object ON reactions (object_ap_id);

CREATE TABLE blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    blocker_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (blocker_id, blocked_id)
);

CREATE TABLE inbox_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, activity_id)
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    dedup_key TEXT UNIQUE,
    payload TEXT NOT NULL,
    host TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'retrying', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_host_running ON jobs (host, status);
