//! Rows and queries of the `accounts` table: local and remote actors.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::accounts;

/// An `accounts` row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: i64,
    pub kind: String,
    pub username: String,
    pub domain: Option<String>,
    pub actor_url: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub profile_url: Option<String>,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub display_name: Option<String>,
    pub summary: Option<String>,
    pub avatar_url: Option<String>,
    pub manually_approves_followers: bool,
    pub owner_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A row about to be inserted.
#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccountRow<'a> {
    pub kind: &'a str,
    pub username: &'a str,
    pub domain: Option<&'a str>,
    pub actor_url: &'a str,
    pub inbox_url: &'a str,
    pub shared_inbox_url: Option<&'a str>,
    pub outbox_url: Option<&'a str>,
    pub followers_url: Option<&'a str>,
    pub following_url: Option<&'a str>,
    pub profile_url: Option<&'a str>,
    pub public_key_pem: &'a str,
    pub private_key_pem: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub manually_approves_followers: bool,
    pub owner_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &NewAccountRow<'_>) -> QueryResult<AccountRow> {
    crate::with_backend!(conn, |c| diesel::insert_into(accounts::table)
        .values(row)
        .returning(AccountRow::as_returning())
        .get_result(c))
}

/// The local account (user, room or instance actor) with this name.
pub fn find_local(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::domain.is_null())
        .filter(accounts::username.eq(username))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// The account, local or remote, whose actor id is `actor_url`.
pub fn find_by_actor_url(
    conn: &mut AnyConnection,
    actor_url: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::actor_url.eq(actor_url))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// How many local accounts of this kind exist.
pub fn count_local(conn: &mut AnyConnection, kind: &str) -> QueryResult<i64> {
    accounts::table
        .filter(accounts::domain.is_null())
        .filter(accounts::kind.eq(kind))
        .count()
        .get_result(conn)
}
