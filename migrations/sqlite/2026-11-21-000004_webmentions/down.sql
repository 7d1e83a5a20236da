DROP TABLE webmentions;
DROP INDEX objects_url;
DROP INDEX accounts_site_url;
ALTER TABLE accounts DROP COLUMN site_url;
