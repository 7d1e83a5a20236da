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
CREATE FUNCTION bump_cache_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER accounts_cache_insert AFTER INSERT ON accounts FOR EACH ROW
WHEN (NEW.domain IS NULL OR NEW.suspended_at IS NOT NULL OR NEW.deleted_at IS NOT NULL)
EXECUTE FUNCTION bump_cache_generation();
CREATE TRIGGER accounts_cache_update AFTER UPDATE ON accounts FOR EACH ROW
WHEN (OLD.domain IS NULL OR NEW.domain IS NULL
    OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at
    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION bump_cache_generation();
CREATE TRIGGER accounts_cache_delete AFTER DELETE ON accounts FOR EACH ROW
WHEN (OLD.domain IS NULL OR OLD.suspended_at IS NOT NULL OR OLD.deleted_at IS NOT NULL)
EXECUTE FUNCTION bump_cache_generation();
