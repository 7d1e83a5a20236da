DROP TRIGGER accounts_cache_delete ON accounts;
DROP TRIGGER accounts_cache_update ON accounts;
DROP TRIGGER accounts_cache_insert ON accounts;
DROP FUNCTION bump_cache_generation();
DROP TABLE cache_generation;
