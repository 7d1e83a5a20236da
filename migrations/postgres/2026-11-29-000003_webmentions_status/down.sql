DROP INDEX webmentions_status;
