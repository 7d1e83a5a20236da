DROP INDEX objects_author_id_id;
DROP INDEX objects_context_id;
DROP TABLE mastodon_dismissals;
DROP TABLE mastodon_conversation_marks;
DROP TABLE mastodon_idempotency;
