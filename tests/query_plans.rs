//! The reads every fan-out makes go through an index, not through every
//! account: the query planner of the backend under test says so (on
//! PostgreSQL with sequential scans discouraged, since a test database is
//! too small for the planner to prefer an index on its own), and so does
//! each claim's look for crashed jobs. And the bundled SQLite keeps a
//! cached statement's plan when it runs again.

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
        plan_lines::<PostgresPlanRow>(&mut conn, &format!("EXPLAIN {query}"), |r| r.line)
    } else {
        plan_lines::<SqlitePlanRow>(&mut conn, &format!("EXPLAIN QUERY PLAN {query}"), |r| {
            r.detail
        })
    }
}

/// The lines `explain` prints, one per row, as one text.
fn plan_lines<Row>(
    conn: &mut estuary::store::AnyConnection,
    explain: &str,
    line: impl Fn(Row) -> String,
) -> String
where
    Row: QueryableByName<<estuary::store::AnyConnection as diesel::Connection>::Backend> + 'static,
{
    let rows: Vec<Row> = diesel::sql_query(explain).load(conn).expect("explain");
    rows.into_iter().map(line).collect::<Vec<_>>().join("\n")
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

/// Each claim first looks for running jobs whose lease ran out too often
/// (`store::jobs::bury_crashed`): through a partial index of running jobs,
/// which serves a condition on the status only when the status is written
/// into the statement, as `store::jobs` writes it. Bound as a parameter,
/// the bundled SQLite (which plans without looking at bound values) reads
/// every job instead.
#[test]
fn crashed_jobs_are_found_through_the_index_of_running_jobs() {
    let db = TestDb::new();
    let crashed = |status: &str| {
        format!(
            "SELECT id FROM jobs WHERE jobs.status = {status} \
             AND locked_until < '2026-12-01 00:00:00' AND crashes >= 4"
        )
    };
    // Either partial index of running jobs (PostgreSQL may take the one
    // by host on an empty table), not a scan of every job.
    let by_running =
        |plan: &str| plan.contains("jobs_leased") || plan.contains("jobs_running_hosts");
    let written = plan_of(&db, &crashed("'running'"));
    assert!(
        by_running(&written),
        "the plan does not use an index of running jobs:\n{written}"
    );
    if !db.is_postgres() {
        let bound = plan_of(&db, &crashed("?"));
        assert!(
            !by_running(&bound),
            "a bound status uses a partial index after all:\n{bound}"
        );
    }
}

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

/// SQLite is built with the query planner stability guarantee (by
/// `.cargo/config.toml`): without it, a cached statement with a bound
/// `LIMIT ?` (every diesel `.first()`) is planned anew each time it runs.
/// This is about the SQLite linked in, whichever backend the suite runs.
#[test]
fn the_bundled_sqlite_keeps_statement_plans() {
    let mut conn = estuary::store::ConnectionManager::new(":memory:")
        .open()
        .expect("open an in-memory SQLite database");
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
        .load(&mut conn)
        .expect("compile options");
    let options: Vec<String> = options.into_iter().map(|o| o.compile_options).collect();
    assert!(
        options.iter().any(|o| o == "ENABLE_QPSG"),
        "SQLite was built without ENABLE_QPSG: {options:?}"
    );
}
