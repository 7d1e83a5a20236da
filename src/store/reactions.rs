//! Rows and queries of the `reactions` table: Likes and Announces.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::reactions;

#[derive(Debug, Insertable)]
#[diesel(table_name = reactions)]
pub struct NewReactionRow<'a> {
    pub ap_id: &'a str,
    pub kind: &'a str,
    pub actor_id: i64,
    pub object_ap_id: &'a str,
    pub created_at: NaiveDateTime,
}

/// Records a reaction; false when this activity id was recorded before.
pub fn insert(conn: &mut AnyConnection, row: &NewReactionRow<'_>) -> QueryResult<bool> {
    crate::with_backend!(conn, |c| diesel::insert_into(reactions::table)
        .values(row)
        .on_conflict(reactions::ap_id)
        .do_nothing()
        .execute(c))
    .map(|n| n == 1)
}

/// Removes the reaction made by `ap_id` if `actor_id` made it.
pub fn delete(conn: &mut AnyConnection, ap_id: &str, actor_id: i64) -> QueryResult<usize> {
    diesel::delete(
        reactions::table
            .filter(reactions::ap_id.eq(ap_id))
            .filter(reactions::actor_id.eq(actor_id)),
    )
    .execute(conn)
}

pub fn count(conn: &mut AnyConnection, object_ap_id: &str, kind: &str) -> QueryResult<i64> {
    reactions::table
        .filter(reactions::object_ap_id.eq(object_ap_id))
        .filter(reactions::kind.eq(kind))
        .count()
        .get_result(conn)
}
