-- Leases name the process that holds them, so that process can renew its
-- own leases while a job runs (a short lease is then safe).
ALTER TABLE jobs ADD COLUMN lease_holder TEXT;
-- Claims read due jobs in order through this index instead of ranking
-- every ready row; leases and finished jobs have their own. The index by
-- (status, run_at) made the planner sort every due row before a claim,
-- and the one by (host, status) made it read every job to count the running
-- ones per host.
DROP INDEX jobs_ready;
DROP INDEX jobs_host_running;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status IN ('pending', 'retrying');
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_running_hosts ON jobs (host, locked_until) WHERE status = 'running';
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE status = 'done';
-- One row that the health check writes: the database accepts writes.
CREATE TABLE health_checks (
    id INTEGER PRIMARY KEY NOT NULL,
    checked_at TIMESTAMP NOT NULL
);
INSERT INTO health_checks (id, checked_at) VALUES (1, CURRENT_TIMESTAMP);
