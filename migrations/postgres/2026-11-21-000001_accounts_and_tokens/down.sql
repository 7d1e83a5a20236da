DROP TABLE tokens;
DROP TABLE accounts;
