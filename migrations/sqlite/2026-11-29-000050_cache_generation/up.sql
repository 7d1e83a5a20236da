-- Each process keeps local accounts (their actor documents, WebFinger
-- answers and keys) and the list of suspended remote accounts in memory.
-- This one row tells it when to forget them: triggers bump the generation
-- in the same transaction as any change to a local account, and as a
-- remote account's suspension or deletion. Every process reads it every
-- ESTUARY_CACHE_REFRESH_MS and drops its copies when it has moved. Remote
-- actors refreshed from their documents leave it alone.
CREATE TABLE cache_generation (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO cache_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER accounts_cache_insert AFTER INSERT ON accounts
WHEN NEW.domain IS NULL OR NEW.suspended_at IS NOT NULL OR NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_cache_update AFTER UPDATE ON accounts
WHEN OLD.domain IS NULL OR NEW.domain IS NULL
    OR OLD.suspended_at IS NOT NEW.suspended_at
    OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_cache_delete AFTER DELETE ON accounts
WHEN OLD.domain IS NULL OR OLD.suspended_at IS NOT NULL OR OLD.deleted_at IS NOT NULL
BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
