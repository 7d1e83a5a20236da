//! Rows of `private_pages`: direct notes handed to sites, each shown at
//! `/private/PAGE_KEY` to a bearer of a token granted for it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::private_pages;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = private_pages)]
pub struct PrivatePageRow {
    pub id: i64,
    pub page_key: String,
    pub object_ap_id: String,
    pub activity_ap_id: String,
    pub proxy_id: i64,
    pub sender_id: i64,
    pub site_url: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = private_pages)]
pub struct NewPrivatePageRow<'a> {
    pub page_key: &'a str,
    pub object_ap_id: &'a str,
    pub activity_ap_id: &'a str,
    pub proxy_id: i64,
    pub sender_id: i64,
    pub site_url: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &NewPrivatePageRow<'_>) -> QueryResult<i64> {
    crate::with_backend!(conn, |c| diesel::insert_into(private_pages::table)
        .values(row)
        .returning(private_pages::id)
        .get_result(c))
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<PrivatePageRow>> {
    private_pages::table
        .find(id)
        .select(PrivatePageRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<PrivatePageRow>> {
    private_pages::table
        .filter(private_pages::page_key.eq(key))
        .select(PrivatePageRow::as_select())
        .first(conn)
        .optional()
}

/// The pages made for one note and one site (a retried hand-over makes a
/// new one), oldest first.
pub fn for_handover(
    conn: &mut AnyConnection,
    activity_ap_id: &str,
    proxy_id: i64,
) -> QueryResult<Vec<PrivatePageRow>> {
    private_pages::table
        .filter(private_pages::activity_ap_id.eq(activity_ap_id))
        .filter(private_pages::proxy_id.eq(proxy_id))
        .order(private_pages::id.asc())
        .select(PrivatePageRow::as_select())
        .load(conn)
}
