//! Rows and queries of `inbox_items`: what arrived in each local inbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::activities::ActivityRow;
use super::schema::{activities, inbox_items};

/// Files an activity in local inboxes; already filed ones are skipped.
pub fn file(
    conn: &mut AnyConnection,
    account_ids: &[i64],
    activity_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let row = |account_id: i64| {
        (
            inbox_items::account_id.eq(account_id),
            inbox_items::activity_id.eq(activity_id),
            inbox_items::created_at.eq(at),
        )
    };
    if let [account_id] = account_ids {
        // One row (most activities): a statement of one shape, so each
        // connection prepares it once; a list of rows is prepared anew.
        return crate::with_backend!(conn, |c| diesel::insert_into(inbox_items::table)
            .values(row(*account_id))
            .on_conflict_do_nothing()
            .execute(c));
    }
    let rows: Vec<_> = account_ids.iter().map(|id| row(*id)).collect();
    if rows.is_empty() {
        return Ok(0);
    }
    crate::with_backend!(conn, |c| diesel::insert_into(inbox_items::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(c))
}

/// The activities in an account's inbox, newest first.
pub fn list(
    conn: &mut AnyConnection,
    account_id: i64,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<ActivityRow>> {
    inbox_items::table
        .inner_join(activities::table)
        .filter(inbox_items::account_id.eq(account_id))
        .order(inbox_items::id.desc())
        .limit(limit)
        .offset(offset)
        .select(ActivityRow::as_select())
        .load(conn)
}

pub fn count(conn: &mut AnyConnection, account_id: i64) -> QueryResult<i64> {
    inbox_items::table
        .filter(inbox_items::account_id.eq(account_id))
        .count()
        .get_result(conn)
}

/// Takes these activities (by id) out of every inbox.
pub fn unfile(conn: &mut AnyConnection, activity_ap_ids: &[String]) -> QueryResult<usize> {
    let ids = activities::table
        .filter(activities::ap_id.eq_any(activity_ap_ids))
        .select(activities::id);
    diesel::delete(inbox_items::table.filter(inbox_items::activity_id.eq_any(ids))).execute(conn)
}

/// Takes every activity about `object_ap_id` out of every inbox: its
/// Create, Updates and reactions, and the Announces of those (a room's
/// relay).
pub fn unfile_about(conn: &mut AnyConnection, object_ap_id: &str) -> QueryResult<usize> {
    let mut about: Vec<String> = activities::table
        .filter(activities::object_ap_id.eq(object_ap_id))
        .select(activities::ap_id)
        .load(conn)?;
    let relays: Vec<String> = activities::table
        .filter(activities::object_ap_id.eq_any(&about))
        .select(activities::ap_id)
        .load(conn)?;
    about.extend(relays);
    unfile(conn, &about)
}
