-- The global cap on mentions waiting for verification counts by status.
CREATE INDEX webmentions_status ON webmentions (status);
