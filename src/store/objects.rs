//! Rows and queries of the `objects` table: notes and articles, local and
//! remote, keyed by their id URL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::objects;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = objects)]
pub struct ObjectRow {
    pub id: i64,
    pub ap_id: String,
    pub kind: String,
    pub author_id: i64,
    pub content: Option<String>,
    pub summary: Option<String>,
    pub name: Option<String>,
    pub in_reply_to: Option<String>,
    pub context: Option<String>,
    pub url: Option<String>,
    pub visibility: String,
    pub addressed_to: String,
    pub document: String,
    pub local: bool,
    pub published: NaiveDateTime,
    pub updated: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
// A missing value is bound as NULL, not written as DEFAULT: the statement
// keeps one shape, so each connection prepares it once (PostgreSQL
// included, where diesel never caches an INSERT naming DEFAULT).
#[diesel(table_name = objects, treat_none_as_default_value = false)]
pub struct NewObjectRow<'a> {
    pub ap_id: &'a str,
    pub kind: &'a str,
    pub author_id: i64,
    pub content: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub name: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub context: Option<&'a str>,
    pub url: Option<&'a str>,
    pub visibility: &'a str,
    pub addressed_to: &'a str,
    pub document: &'a str,
    pub local: bool,
    pub published: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Inserts an object; `None` when one with this id already exists.
pub fn insert(conn: &mut AnyConnection, row: &NewObjectRow<'_>) -> QueryResult<Option<ObjectRow>> {
    crate::with_backend!(conn, |c| diesel::insert_into(objects::table)
        .values(row)
        .on_conflict(objects::ap_id)
        .do_nothing()
        .returning(ObjectRow::as_returning())
        .get_result(c)
        .optional())
}

pub fn find_by_ap_id(conn: &mut AnyConnection, ap_id: &str) -> QueryResult<Option<ObjectRow>> {
    objects::table
        .filter(objects::ap_id.eq(ap_id))
        .select(ObjectRow::as_select())
        .first(conn)
        .optional()
}

/// The fields an Update may change.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = objects)]
pub struct ObjectChanges<'a> {
    pub content: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub name: Option<&'a str>,
    pub document: &'a str,
    pub updated: NaiveDateTime,
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    changes: &ObjectChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(objects::table.find(id))
        .set(changes)
        .execute(conn)
}

/// Turns the object into a tombstone: its content is dropped.
pub fn mark_deleted(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(objects::table.find(id))
        .set((
            objects::deleted_at.eq(Some(at)),
            objects::content.eq(None::<String>),
            objects::summary.eq(None::<String>),
            objects::name.eq(None::<String>),
            objects::document.eq("{}"),
        ))
        .execute(conn)
}

/// Objects replying to `ap_id`, oldest first.
pub fn replies_to(conn: &mut AnyConnection, ap_id: &str) -> QueryResult<Vec<ObjectRow>> {
    objects::table
        .filter(objects::in_reply_to.eq(ap_id))
        .order((objects::published.asc(), objects::id.asc()))
        .select(ObjectRow::as_select())
        .load(conn)
}

/// Objects of one conversation, oldest first.
pub fn in_context(conn: &mut AnyConnection, context: &str) -> QueryResult<Vec<ObjectRow>> {
    objects::table
        .filter(objects::context.eq(context))
        .order((objects::published.asc(), objects::id.asc()))
        .select(ObjectRow::as_select())
        .load(conn)
}

/// The visibilities an author's readers see: everyone the public posts,
/// followers also the followers-only ones (never direct ones).
pub fn visibilities_for(followers: bool) -> &'static [&'static str] {
    if followers {
        &["public", "followers"]
    } else {
        &["public"]
    }
}

/// An author's undeleted posts of these visibilities, newest first.
pub fn by_author_visible(
    conn: &mut AnyConnection,
    author_id: i64,
    visibilities: &[&str],
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<ObjectRow>> {
    objects::table
        .filter(objects::author_id.eq(author_id))
        .filter(objects::visibility.eq_any(visibilities))
        .filter(objects::deleted_at.is_null())
        .order((objects::published.desc(), objects::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(ObjectRow::as_select())
        .load(conn)
}

/// How many undeleted posts of these visibilities an author has.
pub fn count_by_author_visible(
    conn: &mut AnyConnection,
    author_id: i64,
    visibilities: &[&str],
) -> QueryResult<i64> {
    objects::table
        .filter(objects::author_id.eq(author_id))
        .filter(objects::visibility.eq_any(visibilities))
        .filter(objects::deleted_at.is_null())
        .count()
        .get_result(conn)
}

/// How many posts of this server's own are stored (deleted ones aside).
pub fn count_local(conn: &mut AnyConnection) -> QueryResult<i64> {
    objects::table
        .filter(objects::local.eq(true))
        .filter(objects::deleted_at.is_null())
        .count()
        .get_result(conn)
}

pub fn count_public_by_author(conn: &mut AnyConnection, author_id: i64) -> QueryResult<i64> {
    count_by_author_visible(conn, author_id, visibilities_for(false))
}

/// The post an author published from this source URL.
pub fn find_by_url_and_author(
    conn: &mut AnyConnection,
    url: &str,
    author_id: i64,
) -> QueryResult<Option<ObjectRow>> {
    objects::table
        .filter(objects::url.eq(url))
        .filter(objects::author_id.eq(author_id))
        .order(objects::id.desc())
        .select(ObjectRow::as_select())
        .first(conn)
        .optional()
}
