DROP INDEX blocks_blocked;
DROP INDEX accounts_local_followers_url;
