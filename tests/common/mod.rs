//! Test harness: a fresh database per test (a SQLite file, or a PostgreSQL
//! schema when `ESTUARY_TEST_DATABASE_URL` names a PostgreSQL database), and
//! the real server bound to port 0 on loopback.
#![allow(dead_code)]

pub mod cli;
pub mod masto;
pub mod sink;
pub mod site;

use std::net::SocketAddr;
use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use estuary::config::Config;
use estuary::server::Server;
use estuary::web::AppState;
use tokio::sync::oneshot;

/// The variable that switches the suite to PostgreSQL.
pub const PG_VAR: &str = "ESTUARY_TEST_DATABASE_URL";

/// A database of one test's own, removed when dropped.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var(PG_VAR).ok().filter(|url| !url.is_empty()) {
            Some(admin_url) => {
                let schema = format!("t_{}", random_suffix());
                let mut conn = PgConnection::establish(&admin_url).expect("connect to PostgreSQL");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
                TestDb {
                    url,
                    dir,
                    pg_schema: Some((admin_url, schema)),
                }
            }
            None => TestDb {
                url: dir.path().join("estuary.sqlite3").display().to_string(),
                dir,
                pg_schema: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_schema.is_some()
    }

    /// Runs SQL directly against this test's database (assertions about
    /// stored rows, or breaking the database on purpose).
    pub fn execute(&self, sql: &str) {
        let mut conn = estuary::store::ConnectionManager::new(&self.url)
            .open()
            .expect("open test database");
        conn.batch_execute(sql).expect("execute SQL");
    }

    /// Counts rows of a table.
    pub fn count(&self, table: &str) -> i64 {
        use diesel::QueryableByName;
        use diesel::sql_types::BigInt;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl;
        let mut conn = estuary::store::ConnectionManager::new(&self.url)
            .open()
            .expect("open test database");
        let rows: Vec<Count> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .load(&mut conn)
            .expect("count rows");
        rows[0].n
    }

    /// Values of one text column, in id order.
    pub fn texts(&self, sql: &str) -> Vec<Option<String>> {
        use diesel::QueryableByName;
        use diesel::sql_types::{Nullable, Text};
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            v: Option<String>,
        }
        use diesel::RunQueryDsl;
        let mut conn = estuary::store::ConnectionManager::new(&self.url)
            .open()
            .expect("open test database");
        let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).expect("query");
        rows.into_iter().map(|r| r.v).collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, schema)) = &self.pg_schema
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

pub fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    openssl::rand::rand_bytes(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Settings for a test instance: loopback, the given database, defaults
/// otherwise.
pub fn test_config(db_url: &str, base_url: &str) -> Config {
    let vars = [
        ("ESTUARY_BASE_URL", base_url.to_owned()),
        ("ESTUARY_BIND", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", db_url.to_owned()),
        ("ESTUARY_CONFIG", "/dev/null".to_owned()),
        ("ESTUARY_DB_POOL_SIZE", "4".to_owned()),
        // Test instances talk to each other over loopback.
        ("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "true".to_owned()),
        ("ESTUARY_FETCH_TIMEOUT_SECS", "5".to_owned()),
        // Some tests read counters (off by default: tests/hostile.rs).
        ("ESTUARY_METRICS", "true".to_owned()),
    ];
    Config::load(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("test config")
}

/// A running instance; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base_url: String,
    pub state: AppState,
    pub db: TestDb,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(TestDb::new(), |_| {}).await
    }

    /// Starts on `db`, letting the caller adjust the settings first.
    pub async fn start_with(db: TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(db, None, adjust).await
    }

    /// Starts on `store`, a pool over `db` that the caller opened (to watch
    /// its statements).
    pub async fn start_on_store(
        db: TestDb,
        store: estuary::store::Store,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        Self::start_on(db, Some(store), adjust).await
    }

    async fn start_on(
        db: TestDb,
        store: Option<estuary::store::Store>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        // Server logs show with a failing test (`RUST_LOG` to choose).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base_url = format!("http://{addr}");
        let mut config = test_config(&db.url, &base_url);
        adjust(&mut config);
        let server = match store {
            Some(store) => Server::with_store(config, listener, store).await,
            None => Server::with_listener(config, listener).await,
        }
        .expect("server starts");
        let state = server.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        TestServer {
            addr,
            base_url,
            state,
            db,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `host:port` of this instance, the domain of its handles.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub async fn get(&self, path: &str, accept: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        request.send().await.expect("request")
    }

    /// Creates a local user through the library, as `estuary user add` does.
    pub async fn add_user(&self, name: &str) -> estuary::domain::accounts::Account {
        estuary::domain::accounts::create_user(
            &self.state.store,
            &self.state.urls,
            estuary::domain::accounts::NewLocalAccount {
                name: name.into(),
                display_name: Some(format!("{name} display")),
                summary: Some(format!("About {name}")),
                ..Default::default()
            },
        )
        .await
        .expect("create user")
    }

    pub fn fed(&self) -> &estuary::federation::ctx::Federation {
        &self.state.fed
    }

    /// A local account by name.
    pub async fn account(&self, name: &str) -> estuary::domain::accounts::Account {
        estuary::domain::accounts::find_local(&self.state.store, name)
            .await
            .unwrap()
            .expect("account exists")
    }

    /// The activities in a local account's inbox, newest first.
    pub async fn inbox(&self, name: &str) -> Vec<serde_json::Value> {
        let account = self.account(name).await;
        estuary::domain::posts::inbox_of(&self.state.store, account.id, 0, 1000)
            .await
            .unwrap()
            .items
            .iter()
            .map(|a| serde_json::from_str(&a.document).unwrap())
            .collect()
    }

    /// Makes `follower` (a remote account already stored) an accepted
    /// follower of local `name`.
    pub async fn add_follower(&self, name: &str, follower_actor_url: &str) {
        let followee = self.account(name).await;
        let follower =
            estuary::domain::accounts::find_by_actor_url(&self.state.store, follower_actor_url)
                .await
                .unwrap()
                .expect("follower stored");
        self.db.execute(&format!(
            "INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at) \
             VALUES ({}, {}, '{}#follow', TRUE, CURRENT_TIMESTAMP)",
            follower.id, followee.id, follower.actor_url
        ));
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Validates `document` against `schema/<name>`; panics with every error.
pub fn assert_schema(name: &str, document: &serde_json::Value) {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "schema", name]
        .iter()
        .collect();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file"))
            .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{document:#}");
}

/// The longest a change made by another process (the command line, SQL
/// run by a test) may take to reach what a server caches: its refresh
/// interval, plus time for one read of the generation on a busy machine.
pub const CACHE_BOUND: std::time::Duration =
    std::time::Duration::from_millis(estuary::config::DEFAULT_CACHE_REFRESH_MS + 750);

/// Waits until `check` returns true, within [`CACHE_BOUND`]; panics
/// otherwise. Returns how long it took.
pub async fn within_cache_bound<F, Fut>(what: &str, mut check: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < CACHE_BOUND,
            "{what}: not seen within {CACHE_BOUND:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until `check` returns true, polling; panics after `seconds`.
pub async fn wait_until<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A signer for a local account of `server` (to act as that account in
/// requests to another instance).
pub async fn signer_of(server: &TestServer, name: &str) -> estuary::federation::fetch::Signer {
    let account = server.account(name).await;
    server.fed().signer_for(&account).await.unwrap()
}

/// A GET signed (draft-cavage) by `signer`.
pub async fn signed_get(
    url: &str,
    signer: &estuary::federation::fetch::Signer,
) -> reqwest::Response {
    let parsed = url::Url::parse(url).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("accept", "application/activity+json".parse().unwrap());
    estuary::federation::signatures::sign_cavage(
        &http::Method::GET,
        &parsed,
        &mut headers,
        None,
        &signer.key_id,
        &signer.key,
        chrono::Utc::now(),
    )
    .unwrap();
    reqwest::Client::new()
        .get(url)
        .headers(headers)
        .send()
        .await
        .unwrap()
}

/// A POST of `body` signed (draft-cavage) by `signer` at `now`.
pub fn signed_post_headers(
    url: &str,
    body: &[u8],
    signer: &estuary::federation::fetch::Signer,
    now: chrono::DateTime<chrono::Utc>,
) -> http::HeaderMap {
    let parsed = url::Url::parse(url).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/activity+json".parse().unwrap());
    estuary::federation::signatures::sign_cavage(
        &http::Method::POST,
        &parsed,
        &mut headers,
        Some(body),
        &signer.key_id,
        &signer.key,
        now,
    )
    .unwrap();
    headers
}

pub async fn post_with(url: &str, headers: http::HeaderMap, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Local `who` on `server` follows `followee_url`; waits until accepted.
pub async fn follow_and_wait(server: &TestServer, who: &str, followee_url: &str) {
    let account = server.account(who).await;
    estuary::federation::outbox::follow(server.fed(), &account, followee_url)
        .await
        .unwrap();
    wait_until(15, "the follow to be accepted", || async {
        estuary::domain::follows::following(&server.state.store, account.id)
            .await
            .unwrap()
            .iter()
            .any(|f| f.actor_url == followee_url)
    })
    .await;
}

/// `count` delivery actions to inboxes on `host`, for queue tests.
pub fn deliveries(host: &str, count: usize) -> Vec<estuary::domain::actions::Action> {
    (0..count)
        .map(|n| estuary::domain::actions::Action::Deliver {
            activity: "https://a.example/activities/1".into(),
            sender_id: 1,
            inbox: format!("https://{host}/inbox/{n}"),
        })
        .collect()
}
