//! Rows of `site_grants`: what a site may read, as a short-lived code and
//! then a bearer token (both stored hashed).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::site_grants;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = site_grants)]
pub struct SiteGrantRow {
    pub id: i64,
    pub code_hash: String,
    pub code_expires_at: NaiveDateTime,
    pub redeemed_at: Option<NaiveDateTime>,
    pub token_hash: Option<String>,
    pub token_expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub site_url: String,
    pub page_id: Option<i64>,
    pub feed_account_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = site_grants)]
pub struct NewSiteGrantRow<'a> {
    pub code_hash: &'a str,
    pub code_expires_at: NaiveDateTime,
    pub site_url: &'a str,
    pub page_id: Option<i64>,
    pub feed_account_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &NewSiteGrantRow<'_>) -> QueryResult<i64> {
    crate::with_backend!(conn, |c| diesel::insert_into(site_grants::table)
        .values(row)
        .returning(site_grants::id)
        .get_result(c))
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<SiteGrantRow>> {
    site_grants::table
        .find(id)
        .select(SiteGrantRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_code_hash(
    conn: &mut AnyConnection,
    code_hash: &str,
) -> QueryResult<Option<SiteGrantRow>> {
    site_grants::table
        .filter(site_grants::code_hash.eq(code_hash))
        .select(SiteGrantRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_token_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<SiteGrantRow>> {
    site_grants::table
        .filter(site_grants::token_hash.eq(token_hash))
        .select(SiteGrantRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a code used and stores the token it became; only a code not used
/// yet is redeemed (the update names it unredeemed), so two redemptions
/// racing each other give one token.
pub fn redeem(
    conn: &mut AnyConnection,
    id: i64,
    token_hash: &str,
    token_expires_at: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        site_grants::table
            .find(id)
            .filter(site_grants::redeemed_at.is_null()),
    )
    .set((
        site_grants::redeemed_at.eq(at),
        site_grants::token_hash.eq(token_hash),
        site_grants::token_expires_at.eq(token_expires_at),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Marks a code used without a token (a reused code burns its grant).
pub fn burn(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(site_grants::table.find(id))
        .set(site_grants::revoked_at.eq(at))
        .execute(conn)
}

/// Revokes every grant a site holds to the feed of `account_id` (it left
/// the room, or stopped following).
pub fn revoke_feed(
    conn: &mut AnyConnection,
    account_id: i64,
    site_url: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        site_grants::table
            .filter(site_grants::feed_account_id.eq(account_id))
            .filter(site_grants::site_url.eq(site_url))
            .filter(site_grants::revoked_at.is_null()),
    )
    .set(site_grants::revoked_at.eq(at))
    .execute(conn)
}

/// Whether any grant for the page was redeemed.
pub fn page_collected(conn: &mut AnyConnection, page_id: i64) -> QueryResult<bool> {
    let n: i64 = site_grants::table
        .filter(site_grants::page_id.eq(page_id))
        .filter(site_grants::redeemed_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The redeemed, unrevoked grants to the feed of `account_id` whose token
/// is still valid at `now`.
pub fn live_feed_grants(
    conn: &mut AnyConnection,
    account_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<SiteGrantRow>> {
    site_grants::table
        .filter(site_grants::feed_account_id.eq(account_id))
        .filter(site_grants::revoked_at.is_null())
        .filter(site_grants::token_expires_at.gt(now))
        .select(SiteGrantRow::as_select())
        .load(conn)
}
