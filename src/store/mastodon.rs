//! Queries of the Mastodon client API's reading side: timeline pages by id
//! range (each one statement with LIMIT), the batch look-ups that complete
//! a page (accounts, counts, parents, one's own reactions), notifications,
//! and the API's own tables (idempotency keys, conversation marks,
//! dismissed notifications).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::accounts::AccountRow;
use super::activities::ActivityRow;
use super::objects::ObjectRow;
use super::schema::{
    accounts, activities, follows, inbox_items, mastodon_conversation_marks, mastodon_dismissals,
    mastodon_idempotency, objects, reactions,
};

/// A page by row id: strictly between `above` and `below`, newest first
/// unless `ascending` (Mastodon's `min_id`).
#[derive(Debug, Clone, Copy)]
pub struct IdRange {
    pub below: i64,
    pub above: i64,
    pub ascending: bool,
    pub limit: i64,
}

macro_rules! paged {
    ($query:expr, $id:expr, $range:expr, $conn:expr) => {{
        let query = $query
            .filter($id.lt($range.below))
            .filter($id.gt($range.above))
            .limit($range.limit);
        if $range.ascending {
            query.order($id.asc()).load($conn)
        } else {
            query.order($id.desc()).load($conn)
        }
    }};
}

/// Whether the object in the outer query is a post (not a Tombstone or
/// another kind of object). Written out rather than as `IN (…)` so that
/// the statement keeps one shape and its prepared form can be cached.
macro_rules! is_post {
    () => {
        objects::kind
            .eq("Note")
            .or(objects::kind.eq("Article"))
            .or(objects::kind.eq("Page"))
            .or(objects::kind.eq("Question"))
    };
}

diesel::alias!(objects as other_objects: OtherObjects);

/// One post with everything a client shows about it, read in the same
/// statement as the page: the author and the author's counts, the parent's
/// row and author, reaction and reply counts, and what the viewer did.
#[derive(Debug, Clone)]
pub struct PostRow {
    pub object: ObjectRow,
    pub author: AccountRow,
    pub author_followers: i64,
    pub author_following: i64,
    pub author_statuses: i64,
    pub parent_id: Option<i64>,
    pub parent_author_id: Option<i64>,
    pub favourites: i64,
    pub reblogs: i64,
    pub replies: i64,
    pub favourited: bool,
    pub reblogged: bool,
    pub viewer_follows_author: bool,
}

/// Followers, following and public posts of an account, as read.
type CountsTuple = (Option<i64>, Option<i64>, Option<i64>);

type PostTuple = (
    ObjectRow,
    AccountRow,
    CountsTuple,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
    bool,
    bool,
);

fn post_row(t: PostTuple) -> PostRow {
    PostRow {
        object: t.0,
        author: t.1,
        author_followers: t.2.0.unwrap_or(0),
        author_following: t.2.1.unwrap_or(0),
        author_statuses: t.2.2.unwrap_or(0),
        parent_id: t.3,
        parent_author_id: t.4,
        favourites: t.5.unwrap_or(0),
        reblogs: t.6.unwrap_or(0),
        replies: t.7.unwrap_or(0),
        favourited: t.8,
        reblogged: t.9,
        viewer_follows_author: t.10,
    }
}

/// The (followers, following, public posts) counts of the account in the
/// outer query, as correlated subqueries (`other_objects`, so that the
/// outer query may itself read `objects`).
macro_rules! account_counts {
    () => {
        (
            follows::table
                .filter(follows::followee_id.eq(accounts::id))
                .filter(follows::accepted.eq(true))
                .count()
                .single_value(),
            follows::table
                .filter(follows::follower_id.eq(accounts::id))
                .filter(follows::accepted.eq(true))
                .count()
                .single_value(),
            other_objects
                .filter(other_objects.field(objects::author_id).eq(accounts::id))
                .filter(other_objects.field(objects::deleted_at).is_null())
                .filter(other_objects.field(objects::visibility).eq("public"))
                .count()
                .single_value(),
        )
    };
}

/// The columns of a `PostRow` over `objects INNER JOIN accounts`, as seen
/// by `$viewer` (an account id; `-1` for nobody). Every count is a
/// correlated subquery on an index, so a page is one statement.
macro_rules! post_columns {
    ($viewer:expr) => {{
        let viewer: i64 = $viewer;
        let reaction_count = |kind: &'static str| {
            reactions::table
                .filter(reactions::object_ap_id.eq(objects::ap_id))
                .filter(reactions::kind.eq(kind))
                .count()
                .single_value()
        };
        let reacted = |kind: &'static str| {
            diesel::dsl::exists(
                reactions::table
                    .filter(reactions::object_ap_id.eq(objects::ap_id))
                    .filter(reactions::kind.eq(kind))
                    .filter(reactions::actor_id.eq(viewer)),
            )
        };
        (
            ObjectRow::as_select(),
            AccountRow::as_select(),
            account_counts!(),
            other_objects
                .filter(
                    other_objects
                        .field(objects::ap_id)
                        .nullable()
                        .eq(objects::in_reply_to),
                )
                .select(other_objects.field(objects::id))
                .single_value(),
            other_objects
                .filter(
                    other_objects
                        .field(objects::ap_id)
                        .nullable()
                        .eq(objects::in_reply_to),
                )
                .select(other_objects.field(objects::author_id))
                .single_value(),
            reaction_count("Like"),
            reaction_count("Announce"),
            other_objects
                .filter(
                    other_objects
                        .field(objects::in_reply_to)
                        .eq(objects::ap_id.nullable()),
                )
                .filter(other_objects.field(objects::deleted_at).is_null())
                .count()
                .single_value(),
            reacted("Like"),
            reacted("Announce"),
            diesel::dsl::exists(
                follows::table
                    .filter(follows::follower_id.eq(viewer))
                    .filter(follows::followee_id.eq(accounts::id))
                    .filter(follows::accepted.eq(true)),
            ),
        )
    }};
}

/// Whether the Create of the object in the outer query was filed in
/// `account_id`'s inbox. Written as nested EXISTS so that a page walks the
/// objects newest first and checks each through the `activities_object`
/// and `inbox_items (account_id, activity_id)` indexes: a page costs its
/// size, not the size of the inbox.
macro_rules! filed_for {
    ($account_id:expr) => {
        diesel::dsl::exists(
            activities::table
                .filter(activities::kind.eq("Create"))
                .filter(activities::object_ap_id.eq(objects::ap_id.nullable()))
                .filter(diesel::dsl::exists(
                    inbox_items::table
                        .filter(inbox_items::account_id.eq($account_id))
                        .filter(inbox_items::activity_id.eq(activities::id)),
                )),
        )
    };
}

/// Posts of `account_id`'s home: its own, and those whose Create was filed
/// in its inbox (follows, mentions, rooms).
pub fn home(
    conn: &mut AnyConnection,
    account_id: i64,
    range: IdRange,
) -> QueryResult<Vec<PostRow>> {
    let rows: Vec<PostTuple> = paged!(
        objects::table
            .inner_join(accounts::table)
            .filter(objects::deleted_at.is_null())
            .filter(is_post!())
            .filter(objects::author_id.eq(account_id).or(filed_for!(account_id)))
            .select(post_columns!(account_id)),
        objects::id,
        range,
        conn
    )?;
    Ok(rows.into_iter().map(post_row).collect())
}

/// Public posts of everyone known here (or only local ones).
pub fn public(
    conn: &mut AnyConnection,
    viewer: i64,
    local_only: bool,
    range: IdRange,
) -> QueryResult<Vec<PostRow>> {
    let locality: &[bool] = if local_only { &[true] } else { &[true, false] };
    let rows: Vec<PostTuple> = paged!(
        objects::table
            .inner_join(accounts::table)
            .filter(objects::deleted_at.is_null())
            .filter(is_post!())
            .filter(objects::visibility.eq("public"))
            .filter(objects::local.eq_any(locality))
            .select(post_columns!(viewer)),
        objects::id,
        range,
        conn
    )?;
    Ok(rows.into_iter().map(post_row).collect())
}

/// Posts by one author (visibility is the caller's to check).
pub fn by_author(
    conn: &mut AnyConnection,
    viewer: i64,
    author_id: i64,
    range: IdRange,
) -> QueryResult<Vec<PostRow>> {
    let rows: Vec<PostTuple> = paged!(
        objects::table
            .inner_join(accounts::table)
            .filter(objects::deleted_at.is_null())
            .filter(is_post!())
            .filter(objects::author_id.eq(author_id))
            .select(post_columns!(viewer)),
        objects::id,
        range,
        conn
    )?;
    Ok(rows.into_iter().map(post_row).collect())
}

/// Direct posts `account_id` wrote or received, by id range.
pub fn direct_for(
    conn: &mut AnyConnection,
    account_id: i64,
    range: IdRange,
) -> QueryResult<Vec<PostRow>> {
    let rows: Vec<PostTuple> = paged!(
        objects::table
            .inner_join(accounts::table)
            .filter(objects::deleted_at.is_null())
            .filter(objects::visibility.eq("direct"))
            .filter(objects::author_id.eq(account_id).or(filed_for!(account_id)))
            .select(post_columns!(account_id)),
        objects::id,
        range,
        conn
    )?;
    Ok(rows.into_iter().map(post_row).collect())
}

/// One post by row id, completed for `viewer`.
pub fn post_by_id(conn: &mut AnyConnection, viewer: i64, id: i64) -> QueryResult<Option<PostRow>> {
    let row: Option<PostTuple> = objects::table
        .inner_join(accounts::table)
        .filter(objects::id.eq(id))
        .select(post_columns!(viewer))
        .first(conn)
        .optional()?;
    Ok(row.map(post_row))
}

/// Posts by their id URLs, completed for `viewer`.
pub fn posts_by_ap_ids(
    conn: &mut AnyConnection,
    viewer: i64,
    ap_ids: &[String],
) -> QueryResult<Vec<PostRow>> {
    let rows: Vec<PostTuple> = objects::table
        .inner_join(accounts::table)
        .filter(objects::ap_id.eq_any(ap_ids))
        .select(post_columns!(viewer))
        .load(conn)?;
    Ok(rows.into_iter().map(post_row).collect())
}

/// The direct posts of these threads (by `context`), completed for
/// `viewer`.
pub fn direct_in_contexts(
    conn: &mut AnyConnection,
    viewer: i64,
    contexts: &[String],
) -> QueryResult<Vec<PostRow>> {
    let rows: Vec<PostTuple> = objects::table
        .inner_join(accounts::table)
        .filter(objects::context.eq_any(contexts))
        .filter(objects::deleted_at.is_null())
        .filter(objects::visibility.eq("direct"))
        .order(objects::id.desc())
        .select(post_columns!(viewer))
        .load(conn)?;
    Ok(rows.into_iter().map(post_row).collect())
}

/// The posts of one thread (`context`), oldest first, completed for
/// `viewer`.
pub fn posts_in_context(
    conn: &mut AnyConnection,
    viewer: i64,
    context: &str,
) -> QueryResult<Vec<PostRow>> {
    let rows: Vec<PostTuple> = objects::table
        .inner_join(accounts::table)
        .filter(objects::context.eq(context))
        .order((objects::published.asc(), objects::id.asc()))
        .select(post_columns!(viewer))
        .load(conn)?;
    Ok(rows.into_iter().map(post_row).collect())
}

pub fn objects_by_ap_ids(
    conn: &mut AnyConnection,
    ap_ids: &[String],
) -> QueryResult<Vec<ObjectRow>> {
    objects::table
        .filter(objects::ap_id.eq_any(ap_ids))
        .select(ObjectRow::as_select())
        .load(conn)
}

pub fn accounts_by_ids(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<AccountRow>> {
    accounts::table
        .filter(accounts::id.eq_any(ids))
        .select(AccountRow::as_select())
        .load(conn)
}

pub fn accounts_by_actor_urls(
    conn: &mut AnyConnection,
    urls: &[String],
) -> QueryResult<Vec<AccountRow>> {
    accounts::table
        .filter(accounts::actor_url.eq_any(urls))
        .select(AccountRow::as_select())
        .load(conn)
}

/// (object, kind, reaction id) of `actor_id`'s reactions to these objects.
pub fn reactions_by(
    conn: &mut AnyConnection,
    actor_id: i64,
    ap_ids: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    reactions::table
        .filter(reactions::actor_id.eq(actor_id))
        .filter(reactions::object_ap_id.eq_any(ap_ids))
        .select((reactions::object_ap_id, reactions::kind, reactions::ap_id))
        .load(conn)
}

/// These accounts with their (followers, following, public posts) counts,
/// in one statement.
pub fn accounts_with_counts(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<Vec<(AccountRow, i64, i64, i64)>> {
    let rows: Vec<(AccountRow, CountsTuple)> = accounts::table
        .filter(accounts::id.eq_any(ids))
        .select((AccountRow::as_select(), account_counts!()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, (f, g, p))| (a, f.unwrap_or(0), g.unwrap_or(0), p.unwrap_or(0)))
        .collect())
}

/// Items of `account_id`'s inbox that may be notifications (not its own,
/// not dismissed), with their activities. A Create counts only when it
/// names the account (`mention_like`, a LIKE pattern; the caller checks
/// exactly).
pub fn notification_items(
    conn: &mut AnyConnection,
    account_id: i64,
    kinds: &[&str],
    mention_like: &str,
    range: IdRange,
) -> QueryResult<Vec<(i64, ActivityRow)>> {
    let dismissed = mastodon_dismissals::table
        .filter(mastodon_dismissals::account_id.eq(account_id))
        .select(mastodon_dismissals::inbox_item_id);
    paged!(
        inbox_items::table
            .inner_join(activities::table)
            .filter(inbox_items::account_id.eq(account_id))
            .filter(activities::actor_id.ne(account_id))
            .filter(activities::kind.eq_any(kinds))
            .filter(
                activities::kind
                    .ne("Create")
                    .or(activities::addressed_to.like(mention_like))
            )
            .filter(inbox_items::id.ne_all(dismissed))
            .select((inbox_items::id, ActivityRow::as_select())),
        inbox_items::id,
        range,
        conn
    )
}

pub fn dismiss(conn: &mut AnyConnection, account_id: i64, item_id: i64) -> QueryResult<usize> {
    crate::with_backend!(conn, |c| diesel::insert_into(mastodon_dismissals::table)
        .values((
            mastodon_dismissals::account_id.eq(account_id),
            mastodon_dismissals::inbox_item_id.eq(item_id),
        ))
        .on_conflict_do_nothing()
        .execute(c))
}

/// The post an `Idempotency-Key` made, if any.
pub fn idempotent_post(
    conn: &mut AnyConnection,
    account_id: i64,
    key: &str,
) -> QueryResult<Option<String>> {
    mastodon_idempotency::table
        .filter(mastodon_idempotency::account_id.eq(account_id))
        .filter(mastodon_idempotency::key.eq(key))
        .select(mastodon_idempotency::object_ap_id)
        .first(conn)
        .optional()
}

pub fn remember_idempotent_post(
    conn: &mut AnyConnection,
    account_id: i64,
    key: &str,
    object_ap_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    crate::with_backend!(conn, |c| diesel::insert_into(mastodon_idempotency::table)
        .values((
            mastodon_idempotency::account_id.eq(account_id),
            mastodon_idempotency::key.eq(key),
            mastodon_idempotency::object_ap_id.eq(object_ap_id),
            mastodon_idempotency::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))
}

/// (context, read up to, hidden up to) of an account's conversations.
pub fn conversation_marks(
    conn: &mut AnyConnection,
    account_id: i64,
) -> QueryResult<Vec<(String, i64, i64)>> {
    mastodon_conversation_marks::table
        .filter(mastodon_conversation_marks::account_id.eq(account_id))
        .select((
            mastodon_conversation_marks::context,
            mastodon_conversation_marks::read_up_to,
            mastodon_conversation_marks::hidden_up_to,
        ))
        .load(conn)
}

/// Sets the marks of one conversation (never lowering them).
pub fn mark_conversation(
    conn: &mut AnyConnection,
    account_id: i64,
    context: &str,
    read_up_to: i64,
    hidden_up_to: i64,
) -> QueryResult<usize> {
    let existing: Option<(i64, i64)> = mastodon_conversation_marks::table
        .filter(mastodon_conversation_marks::account_id.eq(account_id))
        .filter(mastodon_conversation_marks::context.eq(context))
        .select((
            mastodon_conversation_marks::read_up_to,
            mastodon_conversation_marks::hidden_up_to,
        ))
        .first(conn)
        .optional()?;
    match existing {
        Some((read, hidden)) => diesel::update(
            mastodon_conversation_marks::table
                .filter(mastodon_conversation_marks::account_id.eq(account_id))
                .filter(mastodon_conversation_marks::context.eq(context)),
        )
        .set((
            mastodon_conversation_marks::read_up_to.eq(read.max(read_up_to)),
            mastodon_conversation_marks::hidden_up_to.eq(hidden.max(hidden_up_to)),
        ))
        .execute(conn),
        None => diesel::insert_into(mastodon_conversation_marks::table)
            .values((
                mastodon_conversation_marks::account_id.eq(account_id),
                mastodon_conversation_marks::context.eq(context),
                mastodon_conversation_marks::read_up_to.eq(read_up_to),
                mastodon_conversation_marks::hidden_up_to.eq(hidden_up_to),
            ))
            .execute(conn),
    }
}

/// A page of an account's accepted followers (or, with `followers` false,
/// of the accounts it follows), keyed by the follow's row id.
pub fn follow_page(
    conn: &mut AnyConnection,
    account_id: i64,
    followers: bool,
    range: IdRange,
) -> QueryResult<Vec<(i64, AccountRow)>> {
    if followers {
        paged!(
            follows::table
                .inner_join(accounts::table.on(accounts::id.eq(follows::follower_id)))
                .filter(follows::followee_id.eq(account_id))
                .filter(follows::accepted.eq(true))
                .select((follows::id, AccountRow::as_select())),
            follows::id,
            range,
            conn
        )
    } else {
        paged!(
            follows::table
                .inner_join(accounts::table.on(accounts::id.eq(follows::followee_id)))
                .filter(follows::follower_id.eq(account_id))
                .filter(follows::accepted.eq(true))
                .select((follows::id, AccountRow::as_select())),
            follows::id,
            range,
            conn
        )
    }
}

/// Which of `ids` `follower_id` follows, accepted or pending.
pub fn follows_among(
    conn: &mut AnyConnection,
    follower_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<(i64, bool)>> {
    follows::table
        .filter(follows::follower_id.eq(follower_id))
        .filter(follows::followee_id.eq_any(ids))
        .select((follows::followee_id, follows::accepted))
        .load(conn)
}

/// Which of `ids` follow `followee_id`, accepted or pending.
pub fn followers_among(
    conn: &mut AnyConnection,
    followee_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<(i64, bool)>> {
    follows::table
        .filter(follows::followee_id.eq(followee_id))
        .filter(follows::follower_id.eq_any(ids))
        .select((follows::follower_id, follows::accepted))
        .load(conn)
}

/// (blocker, blocked) pairs between `account_id` and `ids`, either way.
pub fn blocks_among(
    conn: &mut AnyConnection,
    account_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
    use super::schema::blocks;
    blocks::table
        .filter(
            blocks::blocker_id
                .eq(account_id)
                .and(blocks::blocked_id.eq_any(ids))
                .or(blocks::blocked_id
                    .eq(account_id)
                    .and(blocks::blocker_id.eq_any(ids))),
        )
        .select((blocks::blocker_id, blocks::blocked_id))
        .load(conn)
}

/// Accounts `account_id` blocks.
pub fn blocked_by(conn: &mut AnyConnection, account_id: i64) -> QueryResult<Vec<AccountRow>> {
    use super::schema::blocks;
    blocks::table
        .inner_join(accounts::table.on(accounts::id.eq(blocks::blocked_id)))
        .filter(blocks::blocker_id.eq(account_id))
        .select(AccountRow::as_select())
        .load(conn)
}

/// Accounts waiting for `account_id` to answer their follow request.
pub fn follow_requesters(
    conn: &mut AnyConnection,
    account_id: i64,
) -> QueryResult<Vec<AccountRow>> {
    follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(account_id))
        .filter(follows::accepted.eq(false))
        .select(AccountRow::as_select())
        .load(conn)
}

/// A remote (or, with `None`, local) account by user name and domain.
pub fn account_by_acct(
    conn: &mut AnyConnection,
    username: &str,
    domain: Option<&str>,
) -> QueryResult<Option<AccountRow>> {
    let query = accounts::table
        .filter(accounts::username.eq(username))
        .select(AccountRow::as_select());
    match domain {
        Some(domain) => query
            .filter(accounts::domain.eq(domain))
            .first(conn)
            .optional(),
        None => query
            .filter(accounts::domain.is_null())
            .first(conn)
            .optional(),
    }
}

/// The id of `blocker_id`'s Block of `blocked_id`, if it stands.
pub fn block_ap_id(
    conn: &mut AnyConnection,
    blocker_id: i64,
    blocked_id: i64,
) -> QueryResult<Option<String>> {
    use super::schema::blocks;
    blocks::table
        .filter(blocks::blocker_id.eq(blocker_id))
        .filter(blocks::blocked_id.eq(blocked_id))
        .select(blocks::ap_id)
        .first(conn)
        .optional()
}
