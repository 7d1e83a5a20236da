-- The Mastodon client API's own state: Idempotency-Key of posted statuses,
-- what each account has read or hidden of its conversations, and dismissed
-- notifications. Same meaning as the PostgreSQL migration of this name.

CREATE TABLE mastodon_idempotency (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    object_ap_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, key)
);

CREATE TABLE mastodon_conversation_marks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    context TEXT NOT NULL,
    read_up_to BIGINT NOT NULL,
    hidden_up_to BIGINT NOT NULL,
    UNIQUE (account_id, context)
);

CREATE TABLE mastodon_dismissals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inbox_item_id BIGINT NOT NULL,
    UNIQUE (account_id, inbox_item_id)
);

CREATE INDEX objects_context_id ON objects (context, id);
CREATE INDEX objects_author_id_id ON objects (author_id, id);
