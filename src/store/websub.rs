//! Rows of `websub_subscriptions`: who receives a room's feed, until when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::websub_subscriptions as subs;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subs)]
pub struct SubscriptionRow {
    pub id: i64,
    pub room_id: i64,
    pub topic: String,
    pub callback: String,
    pub secret: Option<String>,
    pub lease_expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Records a verified subscription, or renews its lease and secret.
pub fn upsert(
    conn: &mut AnyConnection,
    room_id: i64,
    topic: &str,
    callback: &str,
    secret: Option<&str>,
    lease_expires_at: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::upsert::excluded;
    crate::with_backend!(conn, |c| diesel::insert_into(subs::table)
        .values((
            subs::room_id.eq(room_id),
            subs::topic.eq(topic),
            subs::callback.eq(callback),
            subs::secret.eq(secret),
            subs::lease_expires_at.eq(lease_expires_at),
            subs::created_at.eq(at),
        ))
        .on_conflict((subs::topic, subs::callback))
        .do_update()
        .set((
            subs::secret.eq(excluded(subs::secret)),
            subs::lease_expires_at.eq(excluded(subs::lease_expires_at)),
        ))
        .execute(c))
}

pub fn delete(conn: &mut AnyConnection, topic: &str, callback: &str) -> QueryResult<usize> {
    diesel::delete(
        subs::table
            .filter(subs::topic.eq(topic))
            .filter(subs::callback.eq(callback)),
    )
    .execute(conn)
}

pub fn delete_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(subs::table.find(id)).execute(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<SubscriptionRow>> {
    subs::table
        .find(id)
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// Subscriptions of a room whose lease runs past `now`.
pub fn active_for_room(
    conn: &mut AnyConnection,
    room_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<SubscriptionRow>> {
    subs::table
        .filter(subs::room_id.eq(room_id))
        .filter(subs::lease_expires_at.gt(now))
        .select(SubscriptionRow::as_select())
        .load(conn)
}

/// Ends every subscription to a room's feed whose callback is on the
/// origin of `site_url` (a member site that left or was removed).
pub fn delete_for_site(
    conn: &mut AnyConnection,
    room_id: i64,
    site_url: &str,
) -> QueryResult<usize> {
    let Ok(site) = url::Url::parse(site_url) else {
        return Ok(0);
    };
    let held: Vec<(i64, String)> = subs::table
        .filter(subs::room_id.eq(room_id))
        .select((subs::id, subs::callback))
        .load(conn)?;
    let ids: Vec<i64> = held
        .into_iter()
        .filter(|(_, callback)| {
            url::Url::parse(callback).is_ok_and(|c| c.origin() == site.origin())
        })
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(subs::table.filter(subs::id.eq_any(ids))).execute(conn)
}
