-- Every fan-out looks up the local account whose followers collection an
-- activity addresses, and who blocks its sender; without these indexes
-- those reads went through every account, remote ones included (10,000
-- rows behind a large fan-out), and through every block.
CREATE INDEX accounts_local_followers_url ON accounts (followers_url) WHERE domain IS NULL;
CREATE INDEX blocks_blocked ON blocks (blocked_id);
