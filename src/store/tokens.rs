//! Rows and queries of the `tokens` table: hashed bearer tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::tokens;

/// A `tokens` row as stored; the token itself is never stored, only its hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    pub id: i64,
    pub account_id: i64,
    pub token_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub client_id: Option<String>,
    pub grant_id: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tokens)]
pub struct NewTokenRow<'a> {
    pub account_id: i64,
    pub token_hash: &'a str,
    pub scopes: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub client_id: Option<&'a str>,
    pub grant_id: Option<i64>,
}

pub fn insert(conn: &mut AnyConnection, row: &NewTokenRow<'_>) -> QueryResult<TokenRow> {
    crate::with_backend!(conn, |c| diesel::insert_into(tokens::table)
        .values(row)
        .returning(TokenRow::as_returning())
        .get_result(c))
}

/// The token row with this hash, if any (revoked and expired ones included).
pub fn find_by_hash(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<TokenRow>> {
    tokens::table
        .filter(tokens::token_hash.eq(token_hash))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()
}

/// The token row with this hash and the account it was issued to, in one
/// statement (every authenticated request asks this).
pub fn find_with_account(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<(TokenRow, super::accounts::AccountRow)>> {
    use super::schema::accounts;
    tokens::table
        .inner_join(accounts::table)
        .filter(tokens::token_hash.eq(token_hash))
        .select((
            TokenRow::as_select(),
            super::accounts::AccountRow::as_select(),
        ))
        .first(conn)
        .optional()
}

/// Revokes the token with this hash; returns how many were revoked.
pub fn revoke_by_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        tokens::table
            .filter(tokens::token_hash.eq(token_hash))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Some(at)))
    .execute(conn)
}

/// Revokes every token issued from an authorization grant.
pub fn revoke_by_grant(
    conn: &mut AnyConnection,
    grant_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        tokens::table
            .filter(tokens::grant_id.eq(grant_id))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Some(at)))
    .execute(conn)
}

/// The tokens of an account, oldest first.
pub fn list_for(conn: &mut AnyConnection, account_id: i64) -> QueryResult<Vec<TokenRow>> {
    tokens::table
        .filter(tokens::account_id.eq(account_id))
        .order(tokens::id)
        .select(TokenRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<TokenRow>> {
    tokens::table
        .find(id)
        .select(TokenRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes one token by row id, unless it is revoked already.
pub fn revoke(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(tokens::table.find(id).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(Some(at)))
        .execute(conn)
}

/// Revokes every live token of an account.
pub fn revoke_all_for(
    conn: &mut AnyConnection,
    account_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        tokens::table
            .filter(tokens::account_id.eq(account_id))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Some(at)))
    .execute(conn)
}
