//! Rows of `private_pages`: capability URLs of private notes given to sites.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::private_pages;

pub fn insert(
    conn: &mut AnyConnection,
    token_hash: &str,
    object_ap_id: &str,
    site_url: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(private_pages::table)
        .values((
            private_pages::token_hash.eq(token_hash),
            private_pages::object_ap_id.eq(object_ap_id),
            private_pages::site_url.eq(site_url),
            private_pages::created_at.eq(at),
        ))
        .execute(conn)
}

/// The object a capability token shows.
pub fn object_of(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<String>> {
    private_pages::table
        .filter(private_pages::token_hash.eq(token_hash))
        .select(private_pages::object_ap_id)
        .first(conn)
        .optional()
}
