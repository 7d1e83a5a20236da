//! Rows and queries of the `activities` table, keyed by activity id URL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::activities;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = activities)]
pub struct ActivityRow {
    pub id: i64,
    pub ap_id: String,
    pub kind: String,
    pub actor_id: i64,
    pub object_ap_id: Option<String>,
    pub visibility: String,
    pub addressed_to: String,
    pub document: String,
    pub local: bool,
    pub published: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
// A missing value is bound as NULL, not written as DEFAULT: the statement
// keeps one shape, so each connection prepares it once (PostgreSQL
// included, where diesel never caches an INSERT naming DEFAULT).
#[diesel(table_name = activities, treat_none_as_default_value = false)]
pub struct NewActivityRow<'a> {
    pub ap_id: &'a str,
    pub kind: &'a str,
    pub actor_id: i64,
    pub object_ap_id: Option<&'a str>,
    pub visibility: &'a str,
    pub addressed_to: &'a str,
    pub document: &'a str,
    pub local: bool,
    pub published: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Inserts an activity; `None` when this id was seen before (a replay).
pub fn insert(
    conn: &mut AnyConnection,
    row: &NewActivityRow<'_>,
) -> QueryResult<Option<ActivityRow>> {
    crate::with_backend!(conn, |c| diesel::insert_into(activities::table)
        .values(row)
        .on_conflict(activities::ap_id)
        .do_nothing()
        .returning(ActivityRow::as_returning())
        .get_result(c)
        .optional())
}

pub fn find_by_ap_id(conn: &mut AnyConnection, ap_id: &str) -> QueryResult<Option<ActivityRow>> {
    activities::table
        .filter(activities::ap_id.eq(ap_id))
        .select(ActivityRow::as_select())
        .first(conn)
        .optional()
}

/// An actor's activities of the given kinds, newest first.
pub fn by_actor(
    conn: &mut AnyConnection,
    actor_id: i64,
    kinds: &[&str],
) -> QueryResult<Vec<ActivityRow>> {
    activities::table
        .filter(activities::actor_id.eq(actor_id))
        .filter(activities::kind.eq_any(kinds))
        .order((activities::published.desc(), activities::id.desc()))
        .select(ActivityRow::as_select())
        .load(conn)
}

/// The activity that created `object_ap_id`, if stored.
pub fn create_of(conn: &mut AnyConnection, object_ap_id: &str) -> QueryResult<Option<ActivityRow>> {
    activities::table
        .filter(activities::object_ap_id.eq(object_ap_id))
        .filter(activities::kind.eq("Create"))
        .select(ActivityRow::as_select())
        .first(conn)
        .optional()
}
