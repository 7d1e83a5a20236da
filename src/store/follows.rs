//! Rows and queries of the `follows` table (pending and accepted).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::accounts::AccountRow;
use super::schema::{accounts, blocks, follows};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = follows)]
pub struct FollowRow {
    pub id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    pub follow_ap_id: String,
    pub accepted: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = follows)]
pub struct NewFollowRow<'a> {
    pub follower_id: i64,
    pub followee_id: i64,
    pub follow_ap_id: &'a str,
    pub accepted: bool,
    pub created_at: NaiveDateTime,
}

/// Records a follow, or replaces the activity id and state of an existing
/// one between the same two accounts.
pub fn upsert(conn: &mut AnyConnection, row: &NewFollowRow<'_>) -> QueryResult<FollowRow> {
    use diesel::upsert::excluded;
    crate::with_backend!(conn, |c| diesel::insert_into(follows::table)
        .values(row)
        .on_conflict((follows::follower_id, follows::followee_id))
        .do_update()
        .set((
            follows::follow_ap_id.eq(excluded(follows::follow_ap_id)),
            follows::accepted.eq(excluded(follows::accepted)),
        ))
        .returning(FollowRow::as_returning())
        .get_result(c))
}

pub fn find(
    conn: &mut AnyConnection,
    follower_id: i64,
    followee_id: i64,
) -> QueryResult<Option<FollowRow>> {
    follows::table
        .filter(follows::follower_id.eq(follower_id))
        .filter(follows::followee_id.eq(followee_id))
        .select(FollowRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_ap_id(conn: &mut AnyConnection, ap_id: &str) -> QueryResult<Option<FollowRow>> {
    follows::table
        .filter(follows::follow_ap_id.eq(ap_id))
        .select(FollowRow::as_select())
        .first(conn)
        .optional()
}

pub fn set_accepted(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(follows::table.find(id))
        .set(follows::accepted.eq(true))
        .execute(conn)
}

pub fn delete(conn: &mut AnyConnection, follower_id: i64, followee_id: i64) -> QueryResult<usize> {
    diesel::delete(
        follows::table
            .filter(follows::follower_id.eq(follower_id))
            .filter(follows::followee_id.eq(followee_id)),
    )
    .execute(conn)
}

/// Accepted followers of `followee_id`, oldest first.
pub fn followers(conn: &mut AnyConnection, followee_id: i64) -> QueryResult<Vec<AccountRow>> {
    follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(followee_id))
        .filter(follows::accepted.eq(true))
        .order(follows::id.asc())
        .select(AccountRow::as_select())
        .load(conn)
}

/// The inboxes a post to `followee_id`'s followers reaches: each remote
/// follower's shared inbox if it has one, else its own, once each, in the
/// order of the oldest follow behind it. Followers who block `sender_id`
/// are left out (a shared inbox is still reached for the others behind
/// it). Shared inboxes are grouped by the database, so 10,000 followers on
/// 1,000 instances come back as 1,000 rows.
pub fn remote_follower_inboxes(
    conn: &mut AnyConnection,
    followee_id: i64,
    sender_id: i64,
) -> QueryResult<Vec<String>> {
    let blockers = || {
        blocks::table
            .filter(blocks::blocked_id.eq(sender_id))
            .select(blocks::blocker_id)
    };
    let followers = || {
        follows::table
            .inner_join(accounts::table.on(accounts::id.eq(follows::follower_id)))
            .filter(follows::followee_id.eq(followee_id))
            .filter(follows::accepted.eq(true))
            .filter(accounts::domain.is_not_null())
            .filter(accounts::id.ne_all(blockers()))
    };
    let shared: Vec<(Option<String>, Option<i64>)> = followers()
        .filter(accounts::shared_inbox_url.is_not_null())
        .group_by(accounts::shared_inbox_url)
        .select((accounts::shared_inbox_url, diesel::dsl::min(follows::id)))
        .load(conn)?;
    let own: Vec<(String, i64)> = followers()
        .filter(accounts::shared_inbox_url.is_null())
        .select((accounts::inbox_url, follows::id))
        .load(conn)?;
    let mut inboxes: Vec<(i64, String)> = shared
        .into_iter()
        .filter_map(|(inbox, first)| Some((first?, inbox?)))
        .chain(own.into_iter().map(|(inbox, id)| (id, inbox)))
        .collect();
    inboxes.sort_unstable();
    // A follower's own inbox may be another's shared inbox.
    let mut seen = std::collections::HashSet::new();
    Ok(inboxes
        .into_iter()
        .map(|(_, inbox)| inbox)
        .filter(|inbox| seen.insert(inbox.clone()))
        .collect())
}

/// Accounts `follower_id` follows (accepted), oldest first.
pub fn following(conn: &mut AnyConnection, follower_id: i64) -> QueryResult<Vec<AccountRow>> {
    follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::followee_id)))
        .filter(follows::follower_id.eq(follower_id))
        .filter(follows::accepted.eq(true))
        .order(follows::id.asc())
        .select(AccountRow::as_select())
        .load(conn)
}

/// Local accounts that follow `followee_id` (accepted).
pub fn local_followers(conn: &mut AnyConnection, followee_id: i64) -> QueryResult<Vec<i64>> {
    follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(followee_id))
        .filter(follows::accepted.eq(true))
        .filter(accounts::domain.is_null())
        .select(accounts::id)
        .load(conn)
}

/// Removes every follow, either way, that involves one of `account_ids`
/// (a blocked domain's accounts, a deleted account). Returns how many went.
pub fn delete_involving(conn: &mut AnyConnection, account_ids: &[i64]) -> QueryResult<usize> {
    let mut removed = 0;
    // Chunks keep statements under SQLite's bound-parameter limit.
    for chunk in account_ids.chunks(400) {
        removed += diesel::delete(
            follows::table.filter(
                follows::follower_id
                    .eq_any(chunk)
                    .or(follows::followee_id.eq_any(chunk)),
            ),
        )
        .execute(conn)?;
    }
    Ok(removed)
}

/// Follow requests to `followee_id` that wait for an answer, oldest first,
/// with who asked.
pub fn pending_for(
    conn: &mut AnyConnection,
    followee_id: i64,
) -> QueryResult<Vec<(FollowRow, AccountRow)>> {
    follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(followee_id))
        .filter(follows::accepted.eq(false))
        .order(follows::id.asc())
        .select((FollowRow::as_select(), AccountRow::as_select()))
        .load(conn)
}

/// Accepted follows to and from an account: (followers, following).
pub fn counts(conn: &mut AnyConnection, account_id: i64) -> QueryResult<(i64, i64)> {
    let followers = follows::table
        .filter(follows::followee_id.eq(account_id))
        .filter(follows::accepted.eq(true))
        .count()
        .get_result(conn)?;
    let following = follows::table
        .filter(follows::follower_id.eq(account_id))
        .filter(follows::accepted.eq(true))
        .count()
        .get_result(conn)?;
    Ok((followers, following))
}
