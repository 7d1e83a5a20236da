//! Rows and queries of the OAuth tables: registered clients and
//! authorization grants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{accounts, oauth_clients, oauth_grants};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_clients)]
pub struct ClientRow {
    pub id: i64,
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub name: String,
    pub redirect_uris: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct NewClientRow<'a> {
    pub client_id: &'a str,
    pub secret_hash: Option<&'a str>,
    pub name: &'a str,
    pub redirect_uris: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_client(conn: &mut AnyConnection, row: &NewClientRow<'_>) -> QueryResult<usize> {
    diesel::insert_into(oauth_clients::table)
        .values(row)
        .execute(conn)
}

pub fn find_client(conn: &mut AnyConnection, client_id: &str) -> QueryResult<Option<ClientRow>> {
    oauth_clients::table
        .filter(oauth_clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_grants)]
pub struct GrantRow {
    pub id: i64,
    pub consent_hash: String,
    pub code_hash: Option<String>,
    pub client_id: String,
    pub account_id: i64,
    pub redirect_uri: String,
    pub scopes: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub approved_at: Option<NaiveDateTime>,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_grants)]
pub struct NewGrantRow<'a> {
    pub consent_hash: &'a str,
    pub client_id: &'a str,
    pub account_id: i64,
    pub redirect_uri: &'a str,
    pub scopes: &'a str,
    pub state: Option<&'a str>,
    pub code_challenge: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_grant(conn: &mut AnyConnection, row: &NewGrantRow<'_>) -> QueryResult<usize> {
    diesel::insert_into(oauth_grants::table)
        .values(row)
        .execute(conn)
}

pub fn find_grant_by_consent(
    conn: &mut AnyConnection,
    consent_hash: &str,
) -> QueryResult<Option<GrantRow>> {
    oauth_grants::table
        .filter(oauth_grants::consent_hash.eq(consent_hash))
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_grant_by_code(
    conn: &mut AnyConnection,
    code_hash: &str,
) -> QueryResult<Option<GrantRow>> {
    oauth_grants::table
        .filter(oauth_grants::code_hash.eq(code_hash))
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}

/// Records consent: the grant gets its code and a fresh expiry.
pub fn approve_grant(
    conn: &mut AnyConnection,
    id: i64,
    code_hash: &str,
    at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        oauth_grants::table
            .filter(oauth_grants::id.eq(id))
            .filter(oauth_grants::approved_at.is_null()),
    )
    .set((
        oauth_grants::code_hash.eq(Some(code_hash)),
        oauth_grants::approved_at.eq(Some(at)),
        oauth_grants::expires_at.eq(expires_at),
    ))
    .execute(conn)
}

/// Marks a grant's code used; 0 when it was used already.
pub fn use_grant(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        oauth_grants::table
            .filter(oauth_grants::id.eq(id))
            .filter(oauth_grants::used_at.is_null()),
    )
    .set(oauth_grants::used_at.eq(Some(at)))
    .execute(conn)
}

pub fn password_hash(conn: &mut AnyConnection, account_id: i64) -> QueryResult<Option<String>> {
    accounts::table
        .find(account_id)
        .select(accounts::password_hash)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

pub fn set_password_hash(
    conn: &mut AnyConnection,
    account_id: i64,
    hash: &str,
) -> QueryResult<usize> {
    diesel::update(accounts::table.find(account_id))
        .set(accounts::password_hash.eq(Some(hash)))
        .execute(conn)
}
