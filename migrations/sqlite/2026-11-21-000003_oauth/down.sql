ALTER TABLE tokens DROP COLUMN grant_id;
ALTER TABLE tokens DROP COLUMN client_id;
DROP TABLE oauth_grants;
DROP TABLE oauth_clients;
ALTER TABLE accounts DROP COLUMN password_hash;
