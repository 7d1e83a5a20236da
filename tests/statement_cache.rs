//! The statements a received Create writes with (its object, its activity,
//! its one inbox item) are prepared once per connection and then reused
//! from the connection's statement cache, on SQLite and on PostgreSQL: a
//! statement prepared anew each time costs the database a parse and a plan
//! per activity (on PostgreSQL a fifth of its CPU in an ingest profile).

mod common;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use diesel::Connection;
use diesel::connection::InstrumentationEvent;

use common::TestDb;
use estuary::domain::accounts::{NewLocalAccount, create_user};
use estuary::store::activities::{self, NewActivityRow};
use estuary::store::objects::{self, NewObjectRow};
use estuary::store::{ConnectionManager, PoolSettings, Store, inbox_items};

/// Writes a post's object, activity and inbox item as the ledger does, for
/// post number `n` by `author`, with the optional fields left empty.
fn write_post(conn: &mut estuary::store::AnyConnection, author: i64, n: usize) {
    let now = Utc::now().naive_utc();
    let object_id = format!("https://remote.example/notes/{n}");
    let object = objects::insert(
        conn,
        &NewObjectRow {
            ap_id: &object_id,
            kind: "Note",
            author_id: author,
            content: Some("hello"),
            summary: None,
            name: None,
            in_reply_to: None,
            context: None,
            url: None,
            visibility: "public",
            addressed_to: "[]",
            document: "{}",
            local: false,
            published: now,
            created_at: now,
        },
    )
    .expect("insert object");
    assert!(object.is_some(), "object {n} was stored");
    let activity = activities::insert(
        conn,
        &NewActivityRow {
            ap_id: &format!("https://remote.example/creates/{n}"),
            kind: "Create",
            actor_id: author,
            object_ap_id: Some(&object_id),
            visibility: "public",
            addressed_to: "[]",
            document: "{}",
            local: false,
            published: now,
            created_at: now,
        },
    )
    .expect("insert activity")
    .expect("activity stored");
    let filed = inbox_items::file(conn, &[author], activity.id, now).expect("file");
    assert_eq!(filed, 1, "post {n} was filed");
}

#[tokio::test]
async fn a_received_creates_inserts_are_prepared_once_per_connection() {
    let db = TestDb::new();
    let settings = PoolSettings {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(10),
    };
    let store = Store::open(&db.url, settings).expect("open store");
    store.migrate().expect("migrate");
    let urls = estuary::urls::Urls::new(url::Url::parse("https://here.example").unwrap());
    let author = create_user(
        &store,
        &urls,
        NewLocalAccount {
            name: "alice".into(),
            ..Default::default()
        },
    )
    .await
    .expect("create user");

    let mut conn = ConnectionManager::new(&db.url)
        .open()
        .expect("open test database");
    let prepared: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = prepared.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            log.lock().unwrap().push(sql.to_owned());
        }
    });
    for n in 0..3 {
        write_post(&mut conn, author.id, n);
    }

    let prepared = prepared.lock().unwrap().clone();
    for table in ["objects", "activities", "inbox_items"] {
        let inserts = prepared
            .iter()
            .filter(|sql| {
                // PostgreSQL quotes names with ", SQLite (as diesel writes it) with `.
                sql.starts_with(&format!("INSERT INTO \"{table}\""))
                    || sql.starts_with(&format!("INSERT INTO `{table}`"))
            })
            .count();
        assert_eq!(
            inserts, 1,
            "the insert into {table} should be prepared once for three posts and then reused \
             from the cache (a statement diesel does not cache is never counted); prepared: \
             {prepared:#?}"
        );
    }
}
