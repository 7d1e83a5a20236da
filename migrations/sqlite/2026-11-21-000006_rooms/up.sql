-- Rooms: WebSub subscriptions to a room's feed (the hub is built in).
-- Same meaning as the PostgreSQL migration of this name.
CREATE TABLE websub_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    room_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    secret TEXT,
    lease_expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (topic, callback)
);
CREATE INDEX websub_room ON websub_subscriptions (room_id, lease_expires_at);
