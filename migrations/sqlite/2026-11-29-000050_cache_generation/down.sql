DROP TRIGGER accounts_cache_delete;
DROP TRIGGER accounts_cache_update;
DROP TRIGGER accounts_cache_insert;
DROP TABLE cache_generation;
