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
    pub key_id: Option<String>,
    pub fetched_at: Option<NaiveDateTime>,
    pub site_url: Option<String>,
    pub suspended_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub header_url: Option<String>,
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
    pub key_id: Option<&'a str>,
    pub fetched_at: Option<NaiveDateTime>,
    pub site_url: Option<&'a str>,
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

/// How many other servers' domains have accounts known here.
pub fn count_remote_domains(conn: &mut AnyConnection) -> QueryResult<i64> {
    accounts::table
        .filter(accounts::domain.is_not_null())
        .select(diesel::dsl::count(accounts::domain).aggregate_distinct())
        .get_result(conn)
}

/// The first local person created that is neither suspended nor deleted.
pub fn first_active_local_person(conn: &mut AnyConnection) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::domain.is_null())
        .filter(accounts::site_url.is_null())
        .filter(accounts::kind.eq("Person"))
        .filter(accounts::suspended_at.is_null())
        .filter(accounts::deleted_at.is_null())
        .order(accounts::id.asc())
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// The account by row id.
pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// The account whose signing key has this id.
pub fn find_by_key_id(conn: &mut AnyConnection, key_id: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::key_id.eq(key_id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts a remote actor, or refreshes the stored copy with the same
/// actor id.
pub fn upsert_remote(conn: &mut AnyConnection, row: &NewAccountRow<'_>) -> QueryResult<AccountRow> {
    use diesel::upsert::excluded;
    crate::with_backend!(conn, |c| diesel::insert_into(accounts::table)
        .values(row)
        .on_conflict(accounts::actor_url)
        .do_update()
        .set((
            accounts::kind.eq(excluded(accounts::kind)),
            accounts::username.eq(excluded(accounts::username)),
            accounts::inbox_url.eq(excluded(accounts::inbox_url)),
            accounts::shared_inbox_url.eq(excluded(accounts::shared_inbox_url)),
            accounts::outbox_url.eq(excluded(accounts::outbox_url)),
            accounts::followers_url.eq(excluded(accounts::followers_url)),
            accounts::following_url.eq(excluded(accounts::following_url)),
            accounts::profile_url.eq(excluded(accounts::profile_url)),
            accounts::public_key_pem.eq(excluded(accounts::public_key_pem)),
            accounts::key_id.eq(excluded(accounts::key_id)),
            accounts::display_name.eq(excluded(accounts::display_name)),
            accounts::summary.eq(excluded(accounts::summary)),
            accounts::avatar_url.eq(excluded(accounts::avatar_url)),
            accounts::manually_approves_followers
                .eq(excluded(accounts::manually_approves_followers)),
            accounts::updated_at.eq(excluded(accounts::updated_at)),
            accounts::fetched_at.eq(excluded(accounts::fetched_at)),
        ))
        .returning(AccountRow::as_returning())
        .get_result(c))
}

/// Local accounts' private keys, for signing; `None` for remote accounts.
pub fn private_key_pem(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<String>> {
    accounts::table
        .find(id)
        .select(accounts::private_key_pem)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// The proxy actor standing for a site.
pub fn find_by_site(conn: &mut AnyConnection, site_url: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::site_url.eq(site_url))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// Refreshes a proxy actor's name and photo from its site's h-card.
pub fn update_profile(
    conn: &mut AnyConnection,
    id: i64,
    display_name: Option<&str>,
    avatar_url: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::display_name.eq(display_name),
            accounts::avatar_url.eq(avatar_url),
            accounts::updated_at.eq(at),
        ))
        .execute(conn)
}

/// The local account whose followers collection is `url`.
pub fn find_local_by_followers_url(
    conn: &mut AnyConnection,
    url: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::followers_url.eq(url))
        .filter(accounts::domain.is_null())
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// Local users and rooms of `kind` (proxies of sites and the instance
/// actor excluded), by name.
pub fn list_local(conn: &mut AnyConnection, kind: &str) -> QueryResult<Vec<AccountRow>> {
    accounts::table
        .filter(accounts::domain.is_null())
        .filter(accounts::site_url.is_null())
        .filter(accounts::kind.eq(kind))
        .order(accounts::username)
        .select(AccountRow::as_select())
        .load(conn)
}

/// What an operator changes of a local account; `None` leaves a field,
/// `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct ProfileChanges<'a> {
    pub display_name: Option<Option<&'a str>>,
    pub summary: Option<Option<&'a str>>,
    pub avatar_url: Option<Option<&'a str>>,
    pub header_url: Option<Option<&'a str>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_local_profile(
    conn: &mut AnyConnection,
    id: i64,
    changes: &ProfileChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set(changes)
        .execute(conn)
}

/// Sets or clears an account's suspension.
pub fn set_suspended(
    conn: &mut AnyConnection,
    id: i64,
    at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set(accounts::suspended_at.eq(at))
        .execute(conn)
}

/// Marks a local account deleted: its password goes, its row (and key,
/// which signs the Delete) stays so the name is never reused.
pub fn mark_deleted(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::deleted_at.eq(Some(at)),
            accounts::password_hash.eq(None::<String>),
            accounts::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Ids of the remote accounts on `domain` or its subdomains (with any port,
/// unless `domain` names one).
pub fn remote_ids_on(conn: &mut AnyConnection, domain: &str) -> QueryResult<Vec<i64>> {
    let rows: Vec<(i64, Option<String>)> = accounts::table
        .filter(accounts::domain.is_not_null())
        .filter(
            accounts::domain
                .eq(domain)
                .or(accounts::domain.like(format!("{domain}:%")))
                .or(accounts::domain.like(format!("%.{domain}")))
                .or(accounts::domain.like(format!("%.{domain}:%"))),
        )
        .select((accounts::id, accounts::domain))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, host)| {
            host.as_deref()
                .is_some_and(|host| crate::domain::moderation::rule_covers(domain, host))
        })
        .map(|(id, _)| id)
        .collect())
}

/// The remote account `username` on `domain` (`host[:port]`).
pub fn find_remote(
    conn: &mut AnyConnection,
    username: &str,
    domain: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::domain.eq(domain))
        .filter(accounts::username.eq(username))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// Forgets the avatars of these accounts (their domain's media is refused).
pub fn clear_avatars(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<usize> {
    let mut changed = 0;
    for chunk in ids.chunks(400) {
        changed += diesel::update(accounts::table.filter(accounts::id.eq_any(chunk)))
            .set(accounts::avatar_url.eq(None::<String>))
            .execute(conn)?;
    }
    Ok(changed)
}

/// Actor ids of the remote accounts that are suspended or deleted.
pub fn hidden_remote_actor_urls(conn: &mut AnyConnection) -> QueryResult<Vec<String>> {
    accounts::table
        .filter(accounts::domain.is_not_null())
        .filter(
            accounts::suspended_at
                .is_not_null()
                .or(accounts::deleted_at.is_not_null()),
        )
        .select(accounts::actor_url)
        .load(conn)
}
