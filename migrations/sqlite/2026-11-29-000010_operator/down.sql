DROP TABLE reports;
DROP TABLE domain_blocks;
DROP TABLE media;
ALTER TABLE accounts DROP COLUMN header_url;
ALTER TABLE accounts DROP COLUMN deleted_at;
ALTER TABLE accounts DROP COLUMN suspended_at;
