-- Failed logins on the OAuth login form, one row per failure and subject
-- ("account:NAME" or "address:IP"), so that every process sees the same
-- counts; rows older than the window are deleted as new ones come.
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    subject TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, failed_at);
