-- Runs of a job that ended without an outcome: its lease expired (the
-- process died or hung) or it went over the job time limit.
ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
