//! The reads every fan-out makes go through an index, not through every
//! account: the query planner of the backend under test says so (on
//! PostgreSQL with sequential scans discouraged, since a test database is
//! too small for the planner to prefer an index on its own).

mod common;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use common::TestDb;

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PostgresPlanRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// The planner's description of how `query` would run.
fn plan_of(db: &TestDb, query: &str) -> String {
    let settings = estuary::store::PoolSettings {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(10),
    };
    let store = estuary::store::Store::open(&db.url, settings).expect("open store");
    store.migrate().expect("migrate");
    let mut conn = estuary::store::ConnectionManager::new(&db.url)
        .open()
        .expect("open test database");
    if db.url.starts_with("postgres") {
        conn.batch_execute("SET enable_seqscan = off")
            .expect("discourage sequential scans");
        let rows: Vec<PostgresPlanRow> = diesel::sql_query(format!("EXPLAIN {query}"))
            .load(&mut conn)
            .expect("explain");
        rows.into_iter()
            .map(|r| r.line)
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        let rows: Vec<SqlitePlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
            .load(&mut conn)
            .expect("explain");
        rows.into_iter()
            .map(|r| r.detail)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[test]
fn the_local_account_behind_a_followers_collection_is_found_by_index() {
    let db = TestDb::new();
    let plan = plan_of(
        &db,
        "SELECT id FROM accounts \
         WHERE followers_url = 'https://here.example/users/alice/followers' \
         AND domain IS NULL",
    );
    assert!(
        plan.contains("accounts_local_followers_url"),
        "the plan does not use the index:\n{plan}"
    );
}

#[test]
fn who_blocks_a_sender_is_found_by_index() {
    let db = TestDb::new();
    let plan = plan_of(&db, "SELECT blocker_id FROM blocks WHERE blocked_id = 7");
    assert!(
        plan.contains("blocks_blocked"),
        "the plan does not use the index:\n{plan}"
    );
}
