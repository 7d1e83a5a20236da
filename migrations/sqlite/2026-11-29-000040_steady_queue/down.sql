DROP TABLE health_checks;
DROP INDEX jobs_finished;
DROP INDEX jobs_running_hosts;
DROP INDEX jobs_leased;
DROP INDEX jobs_due;
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_host_running ON jobs (host, status);
ALTER TABLE jobs DROP COLUMN lease_holder;
