//! Rows and queries of `webmentions`: one row per (source, target), with
//! its verification state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::webmentions;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webmentions)]
pub struct WebmentionRow {
    pub id: i64,
    pub token: String,
    pub source: String,
    pub target: String,
    pub source_host: String,
    pub status: String,
    pub reason: Option<String>,
    pub object_ap_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A Private Webmention's code, until verification redeems it.
    pub code: Option<String>,
    pub realm: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webmentions)]
pub struct NewWebmentionRow<'a> {
    pub token: &'a str,
    pub source: &'a str,
    pub target: &'a str,
    pub source_host: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub code: Option<&'a str>,
    pub realm: Option<&'a str>,
}

/// Records a mention, or queues an already known (source, target) again.
pub fn upsert_queued(
    conn: &mut AnyConnection,
    row: &NewWebmentionRow<'_>,
) -> QueryResult<WebmentionRow> {
    use diesel::upsert::excluded;
    crate::with_backend!(conn, |c| diesel::insert_into(webmentions::table)
        .values(row)
        .on_conflict((webmentions::source, webmentions::target))
        .do_update()
        .set((
            webmentions::status.eq(excluded(webmentions::status)),
            webmentions::reason.eq(None::<String>),
            webmentions::updated_at.eq(excluded(webmentions::updated_at)),
            webmentions::code.eq(excluded(webmentions::code)),
            webmentions::realm.eq(excluded(webmentions::realm)),
        ))
        .returning(WebmentionRow::as_returning())
        .get_result(c))
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<WebmentionRow>> {
    webmentions::table
        .find(id)
        .select(WebmentionRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_token(conn: &mut AnyConnection, token: &str) -> QueryResult<Option<WebmentionRow>> {
    webmentions::table
        .filter(webmentions::token.eq(token))
        .select(WebmentionRow::as_select())
        .first(conn)
        .optional()
}

/// Records the outcome of a verification.
pub fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    reason: Option<&str>,
    object_ap_id: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(webmentions::table.find(id))
        .set((
            webmentions::status.eq(status),
            webmentions::reason.eq(reason),
            webmentions::object_ap_id.eq(object_ap_id),
            webmentions::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Mentions from `source_host` received or re-sent since `since`.
pub fn recent_from_host(
    conn: &mut AnyConnection,
    source_host: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    webmentions::table
        .filter(webmentions::source_host.eq(source_host))
        .filter(webmentions::updated_at.ge(since))
        .count()
        .get_result(conn)
}

/// Mentions waiting for verification.
pub fn count_queued(conn: &mut AnyConnection) -> QueryResult<i64> {
    webmentions::table
        .filter(webmentions::status.eq("queued"))
        .count()
        .get_result(conn)
}

/// Takes a Private Webmention's code off its mention (it is used once) and
/// returns it with its realm.
pub fn take_code(
    conn: &mut AnyConnection,
    id: i64,
) -> QueryResult<Option<(String, Option<String>)>> {
    let found: Option<(Option<String>, Option<String>)> = webmentions::table
        .find(id)
        .select((webmentions::code, webmentions::realm))
        .first(conn)
        .optional()?;
    let Some((Some(code), realm)) = found else {
        return Ok(None);
    };
    diesel::update(webmentions::table.find(id))
        .set(webmentions::code.eq(None::<String>))
        .execute(conn)?;
    Ok(Some((code, realm)))
}
