//! Rows and queries of the `blocks` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::blocks;

#[derive(Debug, Insertable)]
#[diesel(table_name = blocks)]
pub struct NewBlockRow<'a> {
    pub ap_id: &'a str,
    pub blocker_id: i64,
    pub blocked_id: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &NewBlockRow<'_>) -> QueryResult<usize> {
    crate::with_backend!(conn, |c| diesel::insert_into(blocks::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
}

pub fn delete(conn: &mut AnyConnection, blocker_id: i64, blocked_id: i64) -> QueryResult<usize> {
    diesel::delete(
        blocks::table
            .filter(blocks::blocker_id.eq(blocker_id))
            .filter(blocks::blocked_id.eq(blocked_id)),
    )
    .execute(conn)
}

/// Whether `blocker_id` blocks `blocked_id`.
pub fn exists(conn: &mut AnyConnection, blocker_id: i64, blocked_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        blocks::table
            .filter(blocks::blocker_id.eq(blocker_id))
            .filter(blocks::blocked_id.eq(blocked_id)),
    ))
    .get_result(conn)
}

/// (blocker, blocked) of the Block with this id, if it stands.
pub fn find_by_ap_id(conn: &mut AnyConnection, ap_id: &str) -> QueryResult<Option<(i64, i64)>> {
    blocks::table
        .filter(blocks::ap_id.eq(ap_id))
        .select((blocks::blocker_id, blocks::blocked_id))
        .first(conn)
        .optional()
}

/// Accounts that block `blocked_id`.
pub fn blockers_of(conn: &mut AnyConnection, blocked_id: i64) -> QueryResult<Vec<i64>> {
    blocks::table
        .filter(blocks::blocked_id.eq(blocked_id))
        .select(blocks::blocker_id)
        .load(conn)
}
