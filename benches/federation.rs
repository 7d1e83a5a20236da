//! Federation benchmarks: a plain binary (`harness = false`), not a timed
//! test. It measures, on this machine:
//!
//! 1. RSA-2048 as a reference: `openssl speed -seconds 3 rsa2048` (one
//!    core), next to our own draft-cavage signing (`sign_cavage`) and
//!    checking (`parse_signature_at` + `verify`) in a tight loop on one core.
//! 2. Inbox ingest: signed `Create{Note}` POSTs per second through the real
//!    server (HTTP on loopback, SQLite in WAL mode), sent by a peer instance
//!    whose key the receiver fetches once, over many keep-alive connections;
//!    as a fraction of openssl's verify/s on one core (target: 30 %). For
//!    scale it also times the same client against a handler that only
//!    answers 202 (loopback HTTP alone) and `federation::inbox::receive`
//!    called directly, without HTTP (concurrently, then one at a time).
//! 3. Fan-out: one public note to 10,000 followers behind 1,000 shared
//!    inboxes of a local counting sink, from the `publish_note` call until
//!    the sink has had one POST per shared inbox; deliveries per second as a
//!    fraction of openssl's sign/s on one core (target: 70 %), and the peak
//!    RSS of each run. Three runs: the shared inboxes all on one sink
//!    `host:port` (as if one server held every instance) with the default
//!    per-host cap, and again with a raised one; then each shared inbox on
//!    a host of its own (its own loopback address `127.0.X.Y`, as a fan-out
//!    to that many instances meets them) with the default cap.
//! 4. Room relay: a local member's public note addressed to an open room
//!    (FEP-1b12) of 1,000 remote members on 100 instances (shared inboxes of
//!    the same sink), from the `publish_note` call until the sink has had
//!    the room's Announce on every one of those shared inboxes: the note's
//!    `room_relay` job (which writes the Announce and its deliveries) and
//!    the 100 signed POSTs. As for the fan-out, three runs: deliveries per
//!    second as a fraction of openssl's sign/s, and the peak RSS; and when
//!    each job was queued and done. Then `ROOM_REPEATS` more room posts,
//!    one at a time: p50 and p99 of the times to their first and last POST
//!    (targets 10 ms and 200 ms), apart from the measured post, the room's
//!    first in the process (its key and statements are loaded then).
//!
//! 5. Memory over repeated fan-outs (`-- rounds`, not in a default run):
//!    the fan-out of part 3 run `ROUNDS` times in one process, each on a
//!    fresh database, printing its rate (and ratio to openssl's sign/s when
//!    `crypto` runs too), the RSS before it and its peak RSS: with the
//!    allocators set up as the server sets them (jemalloc for Rust, one
//!    glibc arena for C libraries), or with glibc's default arenas when
//!    `ESTUARY_BENCH_DEFAULT_MALLOC` is set.
//!
//! Run with `cargo bench --bench federation` (release profile); add
//! `-- crypto`, `-- fanout`, `-- room`, `-- ingest` or `-- rounds` to run one part. Load generator,
//! servers and sink all run in this process on loopback and share the
//! machine's cores; a whole run takes under two minutes on two cores.
//! `ESTUARY_DB_POOL_SIZE` and `ESTUARY_DELIVERY_CONCURRENCY`, when set in
//! the environment, reach the servers (to try other values); everything
//! else is the default, apart from the raised host cap of one fan-out run.

use std::collections::BTreeMap;
use std::future::Future;
use std::hint::black_box;
use std::ops::Range;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap as AxumHeaders, StatusCode};
use axum::routing::post;
use chrono::{NaiveDateTime, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use estuary::config::{Config, DEFAULT_DELIVERY_HOST_CAP};
use estuary::domain::accounts::{Account, NewLocalAccount, create_room, create_user};
use estuary::domain::audience::PUBLIC;
use estuary::federation::fetch::Signer;
use estuary::federation::inbox::{InboxTarget, receive};
use estuary::federation::outbox::{Draft, publish_note};
use estuary::federation::signatures::{RequestTarget, parse_signature_at, sign_cavage};
use estuary::federation::verify::SignedRequest;
use estuary::server::Server;
use estuary::web::AppState;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::json;
use tokio::sync::oneshot;
use url::Url;

/// Seconds each in-process crypto loop and each `openssl speed` test runs.
const CRYPTO_SECONDS: u64 = 3;
/// Signed Creates sent to the inbox (after one warm-up request).
const INGEST_REQUESTS: usize = 20_000;
/// More signed Creates handed to the inbox pipeline directly, without HTTP:
/// concurrently, then one at a time.
const IN_PROCESS_REQUESTS: usize = 10_000;
const SEQUENTIAL_REQUESTS: usize = 2_000;
/// Requests in flight at once (one keep-alive connection each).
const INGEST_CONNECTIONS: usize = 64;
/// The ingest phase stops taking new requests after this long.
const INGEST_TIME_LIMIT: Duration = Duration::from_secs(45);
/// Remote followers of the publishing account.
const FOLLOWERS: usize = 10_000;
/// Shared inboxes those followers are spread over (all on one sink).
const SHARED_INBOXES: usize = 1_000;
/// The per-host cap of the raised fan-out run: every sink inbox shares one
/// `host:port`, so the default cap alone would bound the run.
const RAISED_HOST_CAP: u32 = 1_000;
/// Shared inboxes per loopback address in the runs where each instance has
/// a host of its own (`127.0.X.Y`, X from 1, Y from 1 to this).
const HOSTS_PER_OCTET: usize = 250;
/// Server settings taken from the environment when set there (to try
/// other values); the defaults otherwise.
const PASSED_THROUGH: &[&str] = &[
    "ESTUARY_DB_POOL_SIZE",
    "ESTUARY_DELIVERY_CONCURRENCY",
    "ESTUARY_WRITE_BATCH_MAX",
    "ESTUARY_WRITE_BATCH_WAIT_MICROS",
];
/// A PostgreSQL server URL: when set, each instance gets a fresh database
/// of its own there instead of a SQLite file.
const BENCH_DATABASE_URL: &str = "ESTUARY_BENCH_DATABASE_URL";
/// Remote members of the room of the room-relay part, and the instances
/// (shared inboxes of the sink) they are spread over.
const ROOM_MEMBERS: usize = 1_000;
const ROOM_INSTANCES: usize = 100;
/// Room posts relayed after the measured one, one at a time, for the
/// percentiles of the time to the first and to the last POST.
const ROOM_REPEATS: usize = 100;
/// A fan-out run that has not reached every shared inbox by then failed.
const FAN_OUT_TIME_LIMIT: Duration = Duration::from_secs(60);

/// Fan-outs run one after another by `-- rounds`.
const ROUNDS: usize = 6;

/// The server's allocator (see `src/main.rs`), so the figures are its own.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    if std::env::var_os("ESTUARY_BENCH_DEFAULT_MALLOC").is_none() {
        estuary::server::limit_malloc_arenas();
    }
    // `cargo bench --bench federation -- ingest` runs one part (`crypto`,
    // `ingest`, `fanout`, `room`); cargo's own `--bench` flag is ignored.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wanted = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    let rounds = parts.iter().any(|p| p == "rounds");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let mut results = Results::default();
    if wanted("crypto") {
        eprintln!("openssl speed -seconds {CRYPTO_SECONDS} rsa2048 …");
        results.reference = openssl_speed();
        eprintln!("sign_cavage and parse_signature_at + verify, one core …");
        results.ours = Some(our_crypto());
    }
    // Fan-out and room relay first: their peak RSS is then not inflated by
    // what the ingest run allocated (the pre-signed requests) and the
    // allocator kept.
    let runs = [Scenario::Followers, Scenario::Room]
        .into_iter()
        .filter(|scenario| wanted(scenario.part()));
    let mut sink = None;
    for scenario in runs {
        let sink = sink.get_or_insert_with(|| runtime.block_on(Sink::start()));
        let variants = [
            (Spread::OneHost, None),
            (Spread::OneHost, Some(RAISED_HOST_CAP)),
            (Spread::HostEach, None),
        ];
        for (spread, cap) in variants {
            eprintln!(
                "{}, {}, host cap {} …",
                scenario.describe(),
                spread.describe(scenario),
                cap.unwrap_or(DEFAULT_DELIVERY_HOST_CAP)
            );
            let run = runtime.block_on(fan_out(sink, scenario, spread, cap));
            match scenario {
                Scenario::Followers => results.fan_outs.push(run),
                Scenario::Room => results.room_relays.push(run),
            }
        }
    }
    if wanted("ingest") {
        eprintln!("inbox ingest: {INGEST_REQUESTS} signed Creates …");
        results.ingest = Some(runtime.block_on(ingest()));
    }
    report(cores, &results);
    if rounds {
        let sink = sink.get_or_insert_with(|| runtime.block_on(Sink::start()));
        report_rounds(&runtime, sink, results.reference.map(|r| r.sign));
    }
}

/// Part 5: the same fan-out `ROUNDS` times in this process, and how its
/// memory moves from round to round.
fn report_rounds(runtime: &tokio::runtime::Runtime, sink: &Sink, ref_sign: Option<f64>) {
    let allocator = if std::env::var_os("ESTUARY_BENCH_DEFAULT_MALLOC").is_some() {
        "jemalloc; glibc malloc, default arenas (ESTUARY_BENCH_DEFAULT_MALLOC)"
    } else {
        "as the server sets them: jemalloc, one glibc arena for C libraries"
    };
    println!();
    println!(
        "repeated fan-outs ({}), {ROUNDS} rounds, allocator: {allocator}",
        Scenario::Followers.describe()
    );
    println!("  round | deliveries/s | of openssl sign/s | RSS before | peak RSS");
    for round in 1..=ROUNDS {
        eprintln!("fan-out round {round} of {ROUNDS} …");
        let run = runtime.block_on(fan_out(sink, Scenario::Followers, Spread::OneHost, None));
        let rate = run.rate().unwrap_or(0.0);
        let ratio = ref_sign.map_or("n/a".to_owned(), |sign| {
            format!("{:.1} %", 100.0 * rate / sign)
        });
        let mib = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.0} MiB"));
        println!(
            "  {round:>5} | {rate:>12.0} | {ratio:>17} | {:>10} | {:>8}",
            mib(run.rss_before),
            mib(run.peak_rss)
        );
    }
}

/// What a run measured; parts not run are empty.
#[derive(Default)]
struct Results {
    reference: Option<Reference>,
    ours: Option<OurCrypto>,
    ingest: Option<Ingest>,
    fan_outs: Vec<FanOut>,
    room_relays: Vec<FanOut>,
}

// ---------------------------------------------------------------------------
// RSA reference and our signatures

/// openssl's own RSA-2048 sign/s and verify/s on one core.
#[derive(Debug, Clone, Copy)]
struct Reference {
    sign: f64,
    verify: f64,
}

fn openssl_speed() -> Option<Reference> {
    let seconds = CRYPTO_SECONDS.to_string();
    let output = Command::new("openssl")
        .args(["speed", "-seconds", &seconds, "rsa2048"])
        .output();
    match output {
        Ok(output) if output.status.success() => {
            let parsed = parse_openssl_speed(&String::from_utf8_lossy(&output.stdout));
            if parsed.is_none() {
                eprintln!("    could not read the output of openssl speed");
            }
            parsed
        }
        Ok(output) => {
            eprintln!("    openssl speed failed: {}", output.status);
            None
        }
        Err(error) => {
            eprintln!("    cannot run openssl: {error}");
            None
        }
    }
}

/// Reads the `rsa 2048 bits` row of `openssl speed`, matching its columns
/// to the header row by name (newer versions add encrypt/decrypt columns).
fn parse_openssl_speed(text: &str) -> Option<Reference> {
    let mut header: Option<Vec<&str>> = None;
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.contains(&"sign/s") && tokens.contains(&"verify/s") {
            header = Some(tokens);
            continue;
        }
        if let (Some(header), ["rsa", "2048", "bits", values @ ..]) = (&header, &tokens[..]) {
            let column = |name: &str| -> Option<f64> {
                let at = header.iter().position(|t| *t == name)?;
                values.get(at)?.parse().ok()
            };
            return Some(Reference {
                sign: column("sign/s")?,
                verify: column("verify/s")?,
            });
        }
    }
    None
}

/// Our draft-cavage signing and checking, one core.
struct OurCrypto {
    sign: f64,
    verify: f64,
}

fn our_crypto() -> OurCrypto {
    let key = PKey::from_rsa(Rsa::generate(2048).expect("RSA key")).expect("key");
    let public = PKey::public_key_from_pem(&key.public_key_to_pem().expect("public PEM"))
        .expect("public key");
    let url = Url::parse("https://peer.example/users/bob/inbox").expect("URL");
    let key_id = "https://origin.example/users/alice#main-key";
    let body = serde_json::to_vec(&create_document(
        "https://origin.example",
        "https://origin.example/users/alice",
        "https://peer.example/users/bob",
        0,
    ))
    .expect("JSON");
    let sign = || {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
        sign_cavage(
            &Method::POST,
            &url,
            &mut headers,
            Some(&body),
            key_id,
            &key,
            Utc::now(),
        )
        .expect("sign");
        headers
    };
    let sign_rate = per_second(|| {
        black_box(sign());
    });
    let signed = sign();
    let target = RequestTarget {
        scheme: "https",
        authority: None,
        bound_to: None,
    };
    let verify_rate = per_second(|| {
        let parsed = parse_signature_at(&Method::POST, url.path(), &signed, &target)
            .expect("parse signature");
        parsed.verify(&public).expect("signature verifies");
    });
    OurCrypto {
        sign: sign_rate,
        verify: verify_rate,
    }
}

/// Runs `op` in a tight loop on this thread for [`CRYPTO_SECONDS`].
fn per_second(mut op: impl FnMut()) -> f64 {
    op();
    let limit = Duration::from_secs(CRYPTO_SECONDS).as_secs_f64();
    let start = Instant::now();
    let mut done = 0u64;
    loop {
        for _ in 0..16 {
            op();
        }
        done += 16;
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= limit {
            return done as f64 / elapsed;
        }
    }
}

// ---------------------------------------------------------------------------
// In-process instances

const ACTIVITY_JSON: &str = "application/activity+json";

/// A running server on loopback with its own database.
struct Instance {
    base_url: String,
    db_url: String,
    state: AppState,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Instance {
    /// Starts an instance whose database lives in `dir`; `extra` settings
    /// override the defaults.
    async fn start(dir: &Path, name: &str, extra: &[(&str, String)]) -> Instance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let base_url = format!("http://{addr}");
        let db_url = database_for(dir, name);
        let mut vars: Vec<(&str, String)> = vec![
            ("ESTUARY_BASE_URL", base_url.clone()),
            ("ESTUARY_BIND", addr.to_string()),
            ("DATABASE_URL", db_url.clone()),
            ("ESTUARY_CONFIG", "/dev/null".into()),
            // Peers, sink and load generator are all on loopback.
            ("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "true".into()),
        ];
        for name in PASSED_THROUGH {
            if let Ok(value) = std::env::var(name) {
                vars.push((name, value));
            }
        }
        vars.extend(extra.iter().cloned());
        let config = Config::load(|name| {
            vars.iter()
                .rev()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        })
        .expect("settings");
        let server = Server::with_listener(config, listener)
            .await
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
        Instance {
            base_url,
            db_url,
            state,
            stop,
            task,
        }
    }

    async fn add_user(&self, name: &str) -> Account {
        create_user(
            &self.state.store,
            &self.state.urls,
            NewLocalAccount {
                name: name.into(),
                ..Default::default()
            },
        )
        .await
        .expect("create user")
    }

    /// Stops the server and waits for in-flight requests and jobs.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("server task");
    }
}

/// The database of the instance `name`: a SQLite file in `dir`, or a fresh
/// PostgreSQL database `estuary_bench_NAME` on the server named by
/// `ESTUARY_BENCH_DATABASE_URL` (dropped first if an earlier run left it).
fn database_for(dir: &Path, name: &str) -> String {
    let Ok(server) = std::env::var(BENCH_DATABASE_URL) else {
        return dir.join(format!("{name}.sqlite3")).display().to_string();
    };
    let mut url = Url::parse(&server).expect("ESTUARY_BENCH_DATABASE_URL is a URL");
    let mut conn = estuary::store::ConnectionManager::new(&server)
        .open()
        .expect("connect to ESTUARY_BENCH_DATABASE_URL");
    let database = format!("estuary_bench_{name}");
    // Each on its own: neither may run inside a transaction block.
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .expect("drop the bench database");
    conn.batch_execute(&format!("CREATE DATABASE {database}"))
        .expect("create the bench database");
    url.set_path(&database);
    url.to_string()
}

/// The backend the instances run on, for the report.
fn backend_name() -> &'static str {
    if std::env::var(BENCH_DATABASE_URL).is_ok() {
        "PostgreSQL"
    } else {
        "SQLite (WAL)"
    }
}

/// Counts rows of `table` (which may end in a `WHERE` clause) in the
/// database at `db_url`.
fn count_rows(db_url: &str, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = estuary::store::ConnectionManager::new(db_url)
        .open()
        .expect("open database");
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .load(&mut conn)
        .expect("count rows");
    rows[0].n
}

/// A public Create{Note} by `actor` (on `origin`) that mentions `mentioned`,
/// shaped like what Mastodon sends; `n` makes its ids unique.
fn create_document(origin: &str, actor: &str, mentioned: &str, n: usize) -> serde_json::Value {
    let object_id = format!("{origin}/objects/bench-{n}");
    let to = [PUBLIC];
    let cc = [format!("{actor}/followers"), mentioned.to_owned()];
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": format!("{origin}/activities/bench-{n}"),
        "type": "Create",
        "actor": actor,
        "published": "2026-11-21T10:00:00Z",
        "to": to,
        "cc": cc,
        "object": {
            "id": object_id,
            "type": "Note",
            "attributedTo": actor,
            "url": object_id,
            "published": "2026-11-21T10:00:00Z",
            "to": to,
            "cc": cc,
            "sensitive": false,
            "content": format!(
                "<p><span class=\"h-card\"><a href=\"{mentioned}\" class=\"u-url mention\">\
                 @<span>alice</span></a></span> benchmark note number {n}, with a \
                 <a href=\"https://example.org/\" rel=\"nofollow noopener\">link</a> \
                 and a little <em>markup</em>.</p>"
            ),
            "tag": [{"type": "Mention", "href": mentioned, "name": "@alice"}],
        },
    })
}

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let ticks_per_second = clock_ticks();
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / ticks_per_second,
        _ => f64::NAN,
    }
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// A `kB` line of /proc/self/status (`VmRSS`, `VmHWM`), in MiB.
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS; false where the
/// kernel does not allow it.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---------------------------------------------------------------------------
// Inbox ingest

struct Ingest {
    /// Through the receiving instance's inbox.
    load: Load,
    /// The same requests and client against a handler that only answers
    /// 202: what loopback HTTP alone costs in this process.
    http_floor: Load,
    /// `federation::inbox::receive` called directly (no HTTP), concurrently
    /// and one at a time.
    pipeline: Load,
    pipeline_sequential: Load,
    activities_stored: i64,
    inbox_items: i64,
    presign: Duration,
    db_pool_size: u32,
}

/// What one load run measured.
struct Load {
    sent: usize,
    elapsed: Duration,
    cpu: f64,
    statuses: BTreeMap<u16, usize>,
    transport_errors: usize,
    latency_p50: Duration,
    latency_p99: Duration,
}

impl Load {
    fn rate(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64()
    }

    fn all_accepted(&self) -> bool {
        self.transport_errors == 0 && self.statuses.get(&202).copied() == Some(self.sent)
    }
}

/// One request signed ahead of the timed phase.
struct Presigned {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// Signs `count` Creates by `signer` (actor `actor` on `origin`) to `inbox`,
/// on every core.
fn presign(
    count: usize,
    origin: &str,
    actor: &str,
    mentioned: &str,
    inbox: &Url,
    signer: &Signer,
) -> Vec<Presigned> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let now = Utc::now();
    let chunk = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t * chunk..((t + 1) * chunk).min(count))
                        .map(|n| {
                            let body =
                                serde_json::to_vec(&create_document(origin, actor, mentioned, n))
                                    .expect("JSON");
                            let mut headers = HeaderMap::new();
                            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
                            sign_cavage(
                                &Method::POST,
                                inbox,
                                &mut headers,
                                Some(&body),
                                &signer.key_id,
                                &signer.key,
                                now,
                            )
                            .expect("sign");
                            Presigned { headers, body }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("signing thread"))
            .collect()
    })
}

async fn ingest() -> Ingest {
    let dir = tempfile::tempdir().expect("temp dir");
    let receiver = Instance::start(dir.path(), "receiver", &[]).await;
    let sender = Instance::start(dir.path(), "sender", &[]).await;
    let alice = receiver.add_user("alice").await;
    let bob = sender.add_user("bob").await;
    let signer = sender.state.fed.signer_for(&bob).await.expect("signer");
    let inbox = Url::parse(&format!("{}/users/alice/inbox", receiver.base_url)).expect("URL");

    // Requests 0.. go over HTTP, then the in-process runs take theirs, and
    // the last one is the warm-up.
    let over_http = 0..INGEST_REQUESTS;
    let in_process = over_http.end..over_http.end + IN_PROCESS_REQUESTS;
    let sequential = in_process.end..in_process.end + SEQUENTIAL_REQUESTS;
    let warm_up = sequential.end;
    let started = Instant::now();
    let presigned = Arc::new(presign(
        warm_up + 1,
        &sender.base_url,
        &bob.actor_url,
        &alice.actor_url,
        &inbox,
        &signer,
    ));
    let presign_time = started.elapsed();

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(INGEST_CONNECTIONS)
        .build()
        .expect("client");
    // The receiver fetches the sender's key once and caches it.
    let first = send(&client, &inbox, &presigned[warm_up])
        .await
        .expect("first request");
    assert_eq!(first, 202, "the warm-up request must be accepted");

    let load = drive(over_http.clone(), INGEST_CONNECTIONS, {
        let (client, inbox, presigned) = (client.clone(), inbox.clone(), presigned.clone());
        move |n| {
            let (client, inbox, presigned) = (client.clone(), inbox.clone(), presigned.clone());
            async move { send(&client, &inbox, &presigned[n]).await.ok() }
        }
    })
    .await;
    let receive_directly = {
        let (fed, presigned) = (receiver.state.fed.clone(), presigned.clone());
        let target = InboxTarget::Account(Box::new(alice.clone()));
        move |n: usize| {
            let (fed, presigned, target) = (fed.clone(), presigned.clone(), target.clone());
            async move {
                let request = &presigned[n];
                let signed = SignedRequest {
                    method: &Method::POST,
                    path_and_query: "/users/alice/inbox",
                    headers: &request.headers,
                    body: Some(&request.body),
                };
                Some(match receive(&fed, &target, signed).await {
                    Ok(_) => 202,
                    Err(_) => 500,
                })
            }
        }
    };
    let pipeline = drive(in_process, INGEST_CONNECTIONS, receive_directly.clone()).await;
    let pipeline_sequential = drive(sequential, 1, receive_directly).await;

    let db_url = receiver.db_url.clone();
    let db_pool_size = receiver.state.config.db_pool_size;
    receiver.stop().await;
    sender.stop().await;

    let floor = accept_everything().await;
    let http_floor = drive(over_http, INGEST_CONNECTIONS, move |n| {
        let (client, floor, presigned) = (client.clone(), floor.clone(), presigned.clone());
        async move { send(&client, &floor, &presigned[n]).await.ok() }
    })
    .await;
    Ingest {
        load,
        http_floor,
        pipeline,
        pipeline_sequential,
        activities_stored: count_rows(&db_url, "activities"),
        inbox_items: count_rows(&db_url, "inbox_items"),
        presign: presign_time,
        db_pool_size,
    }
}

/// Runs `request(n)` for every `n` of `range`, `concurrency` at a time;
/// each gives the HTTP status, or `None` when the request did not complete.
async fn drive<F, Fut>(range: Range<usize>, concurrency: usize, request: F) -> Load
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Option<u16>> + Send,
{
    /// What one load task saw.
    #[derive(Default)]
    struct Tally {
        sent: usize,
        statuses: BTreeMap<u16, usize>,
        transport_errors: usize,
        latencies_us: Vec<u32>,
    }

    let next = Arc::new(AtomicUsize::new(range.start));
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let deadline = start + INGEST_TIME_LIMIT;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (request, next, end) = (request.clone(), next.clone(), range.end);
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= end || Instant::now() >= deadline {
                        return tally;
                    }
                    let sent_at = Instant::now();
                    match request(n).await {
                        Some(status) => *tally.statuses.entry(status).or_default() += 1,
                        None => tally.transport_errors += 1,
                    }
                    let micros = sent_at.elapsed().as_micros();
                    tally
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    tally.sent += 1;
                }
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await.expect("load task");
        total.sent += tally.sent;
        total.transport_errors += tally.transport_errors;
        for (status, n) in tally.statuses {
            *total.statuses.entry(status).or_default() += n;
        }
        total.latencies_us.extend(tally.latencies_us);
    }
    let elapsed = start.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    total.latencies_us.sort_unstable();
    let percentile = |p: f64| {
        let at = ((total.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        Duration::from_micros(total.latencies_us.get(at).copied().unwrap_or(0).into())
    };
    Load {
        sent: total.sent,
        elapsed,
        cpu,
        statuses: total.statuses,
        transport_errors: total.transport_errors,
        latency_p50: percentile(0.5),
        latency_p99: percentile(0.99),
    }
}

async fn send(client: &reqwest::Client, url: &Url, request: &Presigned) -> reqwest::Result<u16> {
    let response = client
        .post(url.clone())
        .headers(request.headers.clone())
        .body(request.body.clone())
        .send()
        .await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

/// A server whose every POST is answered 202 after reading the body.
async fn accept_everything() -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/inbox", listener.local_addr().expect("address"));
    let app = Router::new().route(
        "/inbox",
        post(|_body: axum::body::Bytes| async { StatusCode::ACCEPTED }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("server runs");
    });
    Url::parse(&url).expect("URL")
}

// ---------------------------------------------------------------------------
// Fan-out and room relay

/// What a fan-out run publishes, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// A public note of a local author to [`FOLLOWERS`] remote followers
    /// behind [`SHARED_INBOXES`] shared inboxes.
    Followers,
    /// A local member's public note addressed to an open room of
    /// [`ROOM_MEMBERS`] remote members behind [`ROOM_INSTANCES`] shared
    /// inboxes: the room relays it to them by Announce.
    Room,
}

impl Scenario {
    /// The name that runs it alone (`cargo bench --bench federation -- room`).
    fn part(self) -> &'static str {
        match self {
            Scenario::Followers => "fanout",
            Scenario::Room => "room",
        }
    }

    fn describe(self) -> String {
        match self {
            Scenario::Followers => format!("fan-out to {FOLLOWERS} followers"),
            Scenario::Room => {
                format!("room relay to {ROOM_MEMBERS} members on {ROOM_INSTANCES} instances")
            }
        }
    }

    /// Remote accounts seeded as followers (members) of the publisher (room).
    fn followers(self) -> usize {
        match self {
            Scenario::Followers => FOLLOWERS,
            Scenario::Room => ROOM_MEMBERS,
        }
    }

    /// Shared inboxes of the sink those followers are behind: the POSTs the
    /// run waits for.
    fn inboxes(self) -> usize {
        match self {
            Scenario::Followers => SHARED_INBOXES,
            Scenario::Room => ROOM_INSTANCES,
        }
    }

    /// The type of the activity the sink counts.
    fn activity_type(self) -> &'static str {
        match self {
            Scenario::Followers => "Create",
            Scenario::Room => "Announce",
        }
    }
}

/// Where the sink's shared inboxes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spread {
    /// All on one `host:port`, as if one server held every instance: the
    /// per-host cap bounds the run.
    OneHost,
    /// Each on a host of its own (its own loopback address, one port), as
    /// a fan-out to that many instances meets them.
    HostEach,
}

impl Spread {
    fn describe(self, scenario: Scenario) -> String {
        match self {
            Spread::OneHost => "one sink host:port".to_owned(),
            Spread::HostEach => format!("{} sink hosts", scenario.inboxes()),
        }
    }
}

/// A stand-in for the followers' servers: it answers 202 to POSTs on
/// `/shared/{n}` and counts them (those of the expected activity type by
/// inbox), nothing more.
struct Sink {
    base: String,
    /// The port the sink listens on at each address of [`Sink::host_of`].
    spread_port: u16,
    state: Arc<SinkState>,
}

struct SinkState {
    /// The activity type the current run waits for.
    expected: Mutex<&'static str>,
    posts: AtomicUsize,
    unsigned: AtomicUsize,
    /// POSTs of another type than `expected`.
    other: AtomicUsize,
    seen: Vec<AtomicBool>,
    distinct: AtomicUsize,
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
}

impl Sink {
    async fn start() -> Sink {
        let state = Arc::new(SinkState {
            expected: Mutex::new(""),
            posts: AtomicUsize::new(0),
            unsigned: AtomicUsize::new(0),
            other: AtomicUsize::new(0),
            seen: (0..SHARED_INBOXES.max(ROOM_INSTANCES))
                .map(|_| AtomicBool::new(false))
                .collect(),
            distinct: AtomicUsize::new(0),
            first: Mutex::new(None),
            last: Mutex::new(None),
        });
        let app = Router::new()
            .route("/shared/{n}", post(count_post))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind sink");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let mut listeners = vec![listener];
        // One port on every address of the spread-out runs: the first
        // address picks it, and a port taken at another one is given up
        // for another try.
        let spread_port = 'tries: loop {
            let first = tokio::net::TcpListener::bind((Sink::host_of(0), 0))
                .await
                .expect("bind a sink host");
            let port = first.local_addr().expect("address").port();
            let mut spread = vec![first];
            for n in 1..SHARED_INBOXES.max(ROOM_INSTANCES) {
                match tokio::net::TcpListener::bind((Sink::host_of(n), port)).await {
                    Ok(listener) => spread.push(listener),
                    Err(_) => continue 'tries,
                }
            }
            listeners.append(&mut spread);
            break port;
        };
        for listener in listeners {
            let app = app.clone();
            tokio::spawn(async move {
                axum::serve(listener, app).await.expect("sink runs");
            });
        }
        Sink {
            base,
            spread_port,
            state,
        }
    }

    /// The loopback address of shared inbox `n` in a [`Spread::HostEach`]
    /// run: `127.0.X.Y`, [`HOSTS_PER_OCTET`] to each X.
    fn host_of(n: usize) -> std::net::Ipv4Addr {
        let (x, y) = (1 + n / HOSTS_PER_OCTET, 1 + n % HOSTS_PER_OCTET);
        std::net::Ipv4Addr::new(127, 0, x as u8, y as u8)
    }

    /// Forgets the last run; the next one waits for `expected` activities.
    fn reset(&self, expected: &'static str) {
        let state = &self.state;
        *state.expected.lock().expect("sink lock") = expected;
        state.posts.store(0, Ordering::SeqCst);
        state.unsigned.store(0, Ordering::SeqCst);
        state.other.store(0, Ordering::SeqCst);
        state.distinct.store(0, Ordering::SeqCst);
        for seen in &state.seen {
            seen.store(false, Ordering::SeqCst);
        }
        *state.first.lock().expect("sink lock") = None;
        *state.last.lock().expect("sink lock") = None;
    }
}

/// The top-level `type` of an activity.
#[derive(serde::Deserialize)]
struct ActivityType {
    #[serde(rename = "type")]
    kind: String,
}

async fn count_post(
    State(state): State<Arc<SinkState>>,
    UrlPath(n): UrlPath<usize>,
    headers: AxumHeaders,
    body: axum::body::Bytes,
) -> StatusCode {
    let now = Instant::now();
    state.posts.fetch_add(1, Ordering::SeqCst);
    if !headers.contains_key("signature") {
        state.unsigned.fetch_add(1, Ordering::SeqCst);
    }
    let expected = *state.expected.lock().expect("sink lock");
    let kind = serde_json::from_slice::<ActivityType>(&body).map(|a| a.kind);
    if kind.as_deref().ok() != Some(expected) {
        state.other.fetch_add(1, Ordering::SeqCst);
        return StatusCode::ACCEPTED;
    }
    state.first.lock().expect("sink lock").get_or_insert(now);
    *state.last.lock().expect("sink lock") = Some(now);
    if let Some(seen) = state.seen.get(n)
        && !seen.swap(true, Ordering::SeqCst)
    {
        state.distinct.fetch_add(1, Ordering::SeqCst);
    }
    StatusCode::ACCEPTED
}

struct FanOut {
    scenario: Scenario,
    spread: Spread,
    host_cap: u32,
    delivery_concurrency: usize,
    /// Until `publish_note` returned.
    published: Duration,
    /// Until the sink had its first POST of the expected type.
    first: Option<Duration>,
    /// Until the sink had one such POST on every shared inbox (None: it
    /// did not within the time limit).
    last: Option<Duration>,
    posts: usize,
    distinct: usize,
    unsigned: usize,
    other: usize,
    cpu: f64,
    rss_before: Option<f64>,
    peak_rss: Option<f64>,
    peak_is_per_run: bool,
    queue: estuary::delivery::QueueStats,
    /// The jobs of the run, as the queue recorded them.
    jobs: Vec<JobSpan>,
    seed: Duration,
    /// (first, last) POST of this run and of each repeated room post.
    relays: Vec<(Duration, Duration)>,
}

impl FanOut {
    fn rate(&self) -> Option<f64> {
        self.last
            .map(|last| self.distinct as f64 / last.as_secs_f64())
    }
}

async fn fan_out(sink: &Sink, scenario: Scenario, spread: Spread, host_cap: Option<u32>) -> FanOut {
    let dir = tempfile::tempdir().expect("temp dir");
    let extra: Vec<(&str, String)> = host_cap
        .map(|cap| ("ESTUARY_DELIVERY_HOST_CAP", cap.to_string()))
        .into_iter()
        .collect();
    let author = Instance::start(dir.path(), "author", &extra).await;
    let host_cap = author.state.config.delivery_host_cap;
    let delivery_concurrency = author.state.config.delivery_concurrency;
    let alice = author.add_user("alice").await;
    let room = match scenario {
        Scenario::Followers => None,
        Scenario::Room => Some(
            create_room(
                &author.state.store,
                &author.state.urls,
                NewLocalAccount {
                    name: "garden".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("create room"),
        ),
    };

    let started = Instant::now();
    let followee = room.as_ref().unwrap_or(&alice).id;
    // In the room, alice is a member too (local: she gets no POST).
    let local_member = room.as_ref().map(|_| (alice.id, alice.actor_url.clone()));
    let db_url = author.db_url.clone();
    let (sink_base, port) = (sink.base.clone(), sink.spread_port);
    tokio::task::spawn_blocking(move || {
        let inboxes = match spread {
            Spread::OneHost => format!("'{sink_base}/shared/' || (n % {})", scenario.inboxes()),
            Spread::HostEach => format!(
                "'http://127.0.' || (1 + (n % {inboxes}) / {HOSTS_PER_OCTET}) || '.' || \
                 (1 + (n % {inboxes}) % {HOSTS_PER_OCTET}) || ':{port}/shared/' || (n % {inboxes})",
                inboxes = scenario.inboxes()
            ),
        };
        seed_followers(
            &db_url,
            &sink_base,
            &inboxes,
            scenario,
            followee,
            local_member,
        )
    })
    .await
    .expect("seeding task");
    let seed = started.elapsed();

    let draft = match &room {
        None => Draft {
            content_html: "<p>One note for ten thousand followers.</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().expect("followers URL")],
            ..Default::default()
        },
        Some(room) => room_draft(room, "One note for the thousand members of the garden."),
    };
    let inboxes = scenario.inboxes();
    sink.reset(scenario.activity_type());
    let peak_is_per_run = reset_peak_rss();
    let rss_before = status_mib("VmRSS");
    let cpu_before = cpu_seconds();
    let clock_start = Utc::now().naive_utc();
    let start = Instant::now();
    publish_note(&author.state.fed, &alice, draft)
        .await
        .expect("publish");
    let published = start.elapsed();
    let deadline = start + FAN_OUT_TIME_LIMIT;
    while sink.state.distinct.load(Ordering::SeqCst) < inboxes && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let reached_all = sink.state.distinct.load(Ordering::SeqCst) == inboxes;
    let cpu = cpu_seconds() - cpu_before;
    // Let the workers record the last outcomes before reading the queue.
    let queue = settle_queue(&author.state.store).await;
    let peak_rss = status_mib("VmHWM");
    let clock_end = Utc::now().naive_utc();
    let mut relays: Vec<(Duration, Duration)> = Vec::new();
    // Read apart: a guard in the `if let` would be held through the loop.
    let first_post = *sink.state.first.lock().expect("sink lock");
    let last_post = *sink.state.last.lock().expect("sink lock");
    if let (Some(room), Some(first), Some(last), true) = (&room, first_post, last_post, reached_all)
    {
        relays.push((first - start, last - start));
        for n in 0..ROOM_REPEATS {
            if let Some(times) = relay_once(sink, &author, &alice, room, n).await {
                relays.push(times);
            }
        }
        settle_queue(&author.state.store).await;
    }
    let db_url = author.db_url.clone();
    author.stop().await;
    let jobs = job_spans(&db_url, clock_start, clock_end);

    let since = |at: Option<Instant>| at.map(|at| at.saturating_duration_since(start));
    let first = since(first_post);
    let last = if reached_all { since(last_post) } else { None };
    FanOut {
        scenario,
        spread,
        host_cap,
        delivery_concurrency,
        published,
        first,
        last,
        posts: sink.state.posts.load(Ordering::SeqCst),
        distinct: sink.state.distinct.load(Ordering::SeqCst),
        unsigned: sink.state.unsigned.load(Ordering::SeqCst),
        other: sink.state.other.load(Ordering::SeqCst),
        cpu,
        rss_before,
        peak_rss,
        peak_is_per_run,
        queue,
        jobs,
        seed,
        relays,
    }
}

/// A public note addressed to `room`, which relays it to its members.
fn room_draft(room: &Account, text: &str) -> Draft {
    Draft {
        content_html: format!("<p>{text}</p>"),
        to: vec![room.actor_url.clone()],
        cc: vec![PUBLIC.into()],
        ..Default::default()
    }
}

/// The queue once nothing is pending or running (or after 10 s).
async fn settle_queue(store: &estuary::store::Store) -> estuary::delivery::QueueStats {
    let settle = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = estuary::delivery::stats(store).await.expect("queue stats");
        if (stats.pending == 0 && stats.running == 0) || Instant::now() >= settle {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One more note of `alice` to `room`, after the measured run: the times
/// from the `publish_note` call to the first and to the last Announce on
/// the sink (`None` when not every instance got it in time).
async fn relay_once(
    sink: &Sink,
    author: &Instance,
    alice: &Account,
    room: &Account,
    n: usize,
) -> Option<(Duration, Duration)> {
    sink.reset(Scenario::Room.activity_type());
    let start = Instant::now();
    publish_note(
        &author.state.fed,
        alice,
        room_draft(room, &format!("Note {n} to the garden.")),
    )
    .await
    .expect("publish");
    let deadline = start + FAN_OUT_TIME_LIMIT;
    while sink.state.distinct.load(Ordering::SeqCst) < ROOM_INSTANCES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let first = (*sink.state.first.lock().expect("sink lock"))?;
    let last = (*sink.state.last.lock().expect("sink lock"))?;
    (sink.state.distinct.load(Ordering::SeqCst) == ROOM_INSTANCES)
        .then(|| (first - start, last - start))
}

/// Stores the scenario's remote accounts on the sink, follower `n` behind
/// the shared inbox that the SQL expression `shared_inbox` (of `n`) gives,
/// all accepted followers of `followee`; and
/// `local_member` (id, actor URL), if any, as one more accepted follower.
fn seed_followers(
    db_url: &str,
    sink_base: &str,
    shared_inbox: &str,
    scenario: Scenario,
    followee: i64,
    local_member: Option<(i64, String)>,
) {
    let sink_host = sink_base.trim_start_matches("http://");
    let pem = String::from_utf8(
        Rsa::generate(2048)
            .and_then(PKey::from_rsa)
            .and_then(|key: PKey<Private>| key.public_key_to_pem())
            .expect("public key"),
    )
    .expect("PEM is text");
    let last = scenario.followers() - 1;
    let local = match &local_member {
        Some((id, actor_url)) => format!(
            "INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at)
             VALUES ({id}, {followee}, '{actor_url}#follow', TRUE, CURRENT_TIMESTAMP);"
        ),
        None => String::new(),
    };
    let sql = format!(
        "BEGIN;
         WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {last})
         INSERT INTO accounts (kind, username, domain, actor_url, inbox_url, shared_inbox_url,
                               followers_url, public_key_pem, key_id, fetched_at,
                               created_at, updated_at)
         SELECT 'Person', 'follower' || n, '{sink_host}', '{sink_base}/actors/' || n,
                '{sink_base}/inbox/' || n, {shared_inbox},
                '{sink_base}/actors/' || n || '/followers', '{pem}',
                '{sink_base}/actors/' || n || '#main-key',
                CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
         FROM seq;
         INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at)
         SELECT id, {followee}, actor_url || '#follow', TRUE, CURRENT_TIMESTAMP
         FROM accounts WHERE domain = '{sink_host}';
         {local}
         COMMIT;"
    );
    let mut conn = estuary::store::ConnectionManager::new(db_url)
        .open()
        .expect("open database");
    conn.batch_execute(&sql).expect("seed followers");
    let follows = count_rows(
        db_url,
        &format!("follows WHERE followee_id = {followee} AND accepted"),
    );
    let expected = scenario.followers() + usize::from(local_member.is_some());
    assert_eq!(follows, expected as i64, "every follower is seeded");
}

/// One job of a run (every `deliver` job together), with its times from
/// the `publish_note` call.
struct JobSpan {
    kind: String,
    count: i64,
    /// When the (first) job was queued.
    queued: Duration,
    /// When the (last) job was last updated: done, if the run settled.
    done: Duration,
}

/// The jobs in the database at `db_url`, each on its own but the
/// deliveries taken together, in the order they were queued; times are
/// from `start` (the queue's clock is UTC).
fn job_spans(db_url: &str, start: NaiveDateTime, end: NaiveDateTime) -> Vec<JobSpan> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        queued: NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        done: NaiveDateTime,
    }
    // The stopped instance's last connections may still be closing (and
    // checkpointing): a few tries.
    let mut tries = 0;
    let mut conn = loop {
        match estuary::store::ConnectionManager::new(db_url).open() {
            Ok(conn) => break conn,
            Err(error) if tries < 50 => {
                tries += 1;
                eprintln!("    reading the jobs: {error}; trying again");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => panic!("open database: {error}"),
        }
    };
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT MIN(kind) AS kind, COUNT(*) AS n, MIN(created_at) AS queued, MAX(updated_at) AS done
         FROM jobs WHERE created_at <= $1
         -- One group: one kind (PostgreSQL wants it aggregated all the same).
         GROUP BY CASE WHEN kind = 'deliver' THEN 'deliver' ELSE CAST(id AS TEXT) END
         ORDER BY MIN(created_at), MIN(id)",
    )
    .bind::<diesel::sql_types::Timestamp, _>(end)
    .load(&mut conn)
    .expect("read jobs");
    let since = |at: NaiveDateTime| (at - start).to_std().unwrap_or_default();
    rows.into_iter()
        .map(|row| JobSpan {
            kind: row.kind,
            count: row.n,
            queued: since(row.queued),
            done: since(row.done),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Report

fn report(cores: usize, results: &Results) {
    let ratio = |value: f64, of: Option<f64>| match of {
        Some(of) if of > 0.0 => format!("{:.1} %", 100.0 * value / of),
        _ => "n/a".to_owned(),
    };
    let verdict = |value: f64, of: Option<f64>, target: f64| match of {
        Some(of) if of > 0.0 && value / of >= target => "met",
        Some(of) if of > 0.0 => "MISSED",
        _ => "n/a",
    };
    let ref_sign = results.reference.map(|r| r.sign);
    let ref_verify = results.reference.map(|r| r.verify);
    let row = |what: &str, rate: String, ratio: String, target: &str| {
        println!("{what:<56} {rate:>11}  {ratio:>7}  {target}");
    };

    println!();
    println!(
        "Estuary federation benchmark: {cores} core(s), {}, release build",
        openssl::version::version()
    );
    println!();
    row("", "per second".into(), "ratio".into(), "");
    println!("{}", "-".repeat(100));
    match results.reference {
        Some(r) => {
            row(
                "openssl speed rsa2048: sign (1 core)",
                format!("{:.0}", r.sign),
                "".into(),
                "reference",
            );
            row(
                "openssl speed rsa2048: verify (1 core)",
                format!("{:.0}", r.verify),
                "".into(),
                "reference",
            );
        }
        None => println!("openssl speed: not run or unavailable; ratios are n/a"),
    }
    if let Some(ours) = &results.ours {
        row(
            "sign_cavage (1 core)",
            format!("{:.0}", ours.sign),
            ratio(ours.sign, ref_sign),
            "of openssl sign/s",
        );
        row(
            "parse_signature_at + verify (1 core)",
            format!("{:.0}", ours.verify),
            ratio(ours.verify, ref_verify),
            "of openssl verify/s",
        );
    }
    if let Some(ingest) = &results.ingest {
        let rate = ingest.load.rate();
        row(
            &format!(
                "inbox ingest, {INGEST_CONNECTIONS} connections, {}",
                backend_name()
            ),
            format!("{rate:.0}"),
            ratio(rate, ref_verify),
            &format!(
                "of openssl verify/s; target 30 %: {}",
                verdict(rate, ref_verify, 0.30)
            ),
        );
        row(
            "  for scale: same client, a 202-only handler",
            format!("{:.0}", ingest.http_floor.rate()),
            ratio(ingest.http_floor.rate(), ref_verify),
            "loopback HTTP alone in this process",
        );
        row(
            &format!("  for scale: inbox::receive, {INGEST_CONNECTIONS} tasks"),
            format!("{:.0}", ingest.pipeline.rate()),
            ratio(ingest.pipeline.rate(), ref_verify),
            "the same pipeline without HTTP",
        );
        row(
            "  for scale: inbox::receive, one at a time",
            format!("{:.0}", ingest.pipeline_sequential.rate()),
            ratio(ingest.pipeline_sequential.rate(), ref_verify),
            "",
        );
    }
    for run in results.fan_outs.iter().chain(&results.room_relays) {
        let what = match run.scenario {
            Scenario::Followers => "fan-out deliveries",
            Scenario::Room => "room relay deliveries",
        };
        let label = if run.host_cap == DEFAULT_DELIVERY_HOST_CAP {
            format!("{what}, host cap {} (default)", run.host_cap)
        } else {
            format!("{what}, host cap {} (raised)", run.host_cap)
        };
        let label = match run.spread {
            Spread::OneHost => format!("{label}, 1 host"),
            Spread::HostEach => format!("{label}, {} hosts", run.scenario.inboxes()),
        };
        match run.rate() {
            Some(rate) => row(
                &label,
                format!("{rate:.0}"),
                ratio(rate, ref_sign),
                &match run.scenario {
                    Scenario::Followers => format!(
                        "of openssl sign/s; target 70 %: {}; peak RSS {}",
                        verdict(rate, ref_sign, 0.70),
                        mib(run.peak_rss)
                    ),
                    Scenario::Room => {
                        format!("of openssl sign/s; peak RSS {}", mib(run.peak_rss))
                    }
                },
            ),
            None => row(
                &label,
                "incomplete".into(),
                "".into(),
                &format!(
                    "only {} of {} inboxes within {:?}",
                    run.distinct,
                    run.scenario.inboxes(),
                    FAN_OUT_TIME_LIMIT
                ),
            ),
        }
    }

    if let Some(ingest) = &results.ingest {
        println!();
        println!(
            "Inbox ingest: signed Creates (pre-signed in {:.2} s, not timed), DB pool {}",
            ingest.presign.as_secs_f64(),
            ingest.db_pool_size
        );
        let runs = [
            ("HTTP", &ingest.load),
            ("202-only", &ingest.http_floor),
            ("receive", &ingest.pipeline),
            ("receive/1", &ingest.pipeline_sequential),
        ];
        for (what, load) in runs {
            let statuses: Vec<String> = load
                .statuses
                .iter()
                .map(|(status, n)| format!("{status}: {n}"))
                .collect();
            println!(
                "  {what:<9} {:>5} in {:5.2} s, answers {{{}}}, not completed {}; latency p50 \
                 {:.2} ms, p99 {:.2} ms; CPU {:.2} of {cores} cores, {:.0} µs per request",
                load.sent,
                load.elapsed.as_secs_f64(),
                statuses.join(", "),
                load.transport_errors,
                load.latency_p50.as_secs_f64() * 1e3,
                load.latency_p99.as_secs_f64() * 1e3,
                load.cpu / load.elapsed.as_secs_f64(),
                1e6 * load.cpu / load.sent as f64
            );
        }
        let expected =
            ingest.load.sent + ingest.pipeline.sent + ingest.pipeline_sequential.sent + 1;
        let all_accepted = runs.iter().all(|(_, load)| load.all_accepted());
        println!(
            "  (CPU is the whole process: server, load generator, sink.) Stored: {} activities \
             ({expected} expected, with the warm-up), {} inbox items; all answered 202: {}",
            ingest.activities_stored,
            ingest.inbox_items,
            if all_accepted { "yes" } else { "NO" }
        );
    }

    if let Some(run) = results.fan_outs.first() {
        println!();
        println!(
            "Fan-out: {FOLLOWERS} followers over {SHARED_INBOXES} shared inboxes (on one sink host:port, \
             or each on a loopback address of its own), delivery concurrency {}; times from the \
             publish_note call",
            run.delivery_concurrency
        );
    }
    for run in &results.fan_outs {
        report_fan_out(cores, run);
    }
    if let Some(run) = results.room_relays.first() {
        println!();
        println!(
            "Room relay: a local member's note to an open room of {ROOM_MEMBERS} remote members over \
             {ROOM_INSTANCES} shared inboxes (one sink host:port, or each its own) plus the member, relayed by \
             Announce; delivery concurrency {}; times from the publish_note call",
            run.delivery_concurrency
        );
    }
    for run in &results.room_relays {
        report_fan_out(cores, run);
    }
}

/// The lines of one fan-out or room-relay run under the table.
fn report_fan_out(cores: usize, run: &FanOut) {
    let ms = |d: Option<Duration>| {
        d.map_or("-".to_owned(), |d| {
            format!("{:.0} ms", d.as_secs_f64() * 1e3)
        })
    };
    println!(
        "  {}, host cap {}:",
        run.spread.describe(run.scenario),
        run.host_cap
    );
    println!(
        "    publish_note returned at {}, first {} at {}, last of {} inboxes at {}; \
         delivery phase alone {}",
        ms(Some(run.published)),
        run.scenario.activity_type(),
        ms(run.first),
        run.distinct,
        ms(run.last),
        match (run.first, run.last) {
            (Some(first), Some(last)) if last > first => format!(
                "{:.0}/s",
                run.distinct.saturating_sub(1) as f64 / (last - first).as_secs_f64()
            ),
            _ => "-".into(),
        }
    );
    println!(
        "    sink got {} POSTs ({} unsigned, {} not {}); queue after: pending {}, running {}, \
         retrying {}, dead {}, done {}",
        run.posts,
        run.unsigned,
        run.other,
        run.scenario.activity_type(),
        run.queue.pending,
        run.queue.running,
        run.queue.failed,
        run.queue.dead,
        run.queue.done
    );
    let jobs: Vec<String> = run
        .jobs
        .iter()
        .map(|job| {
            format!(
                "{}{} queued {}, done {}",
                job.kind,
                if job.count > 1 {
                    format!(" ×{}", job.count)
                } else {
                    String::new()
                },
                ms(Some(job.queued)),
                ms(Some(job.done))
            )
        })
        .collect();
    println!("    jobs (queue clock): {}", jobs.join("; "));
    if let [(cold_first, cold_last), warm @ ..] = run.relays.as_slice()
        && !warm.is_empty()
    {
        // The measured post is the room's first in this process: its key
        // and statements are loaded then. The ones after it are timed apart.
        let firsts: Vec<Duration> = warm.iter().map(|(first, _)| *first).collect();
        let lasts: Vec<Duration> = warm.iter().map(|(_, last)| *last).collect();
        let [first_p50, first_p99] = [50.0, 99.0].map(|q| percentile(&firsts, q));
        let [last_p50, last_p99] = [50.0, 99.0].map(|q| percentile(&lasts, q));
        let verdict = |p99: Duration, target_ms: f64| {
            if p99.as_secs_f64() * 1e3 <= target_ms {
                "met"
            } else {
                "MISSED"
            }
        };
        println!(
            "    this post (the room's first in the process): first POST {}, last {}; the {} room \
             posts after it, one at a time: first POST p50 {}, p99 {} (target 10 ms: {}); \
             last POST p50 {}, p99 {} (target 200 ms: {})",
            ms_precise(*cold_first),
            ms_precise(*cold_last),
            warm.len(),
            ms_precise(first_p50),
            ms_precise(first_p99),
            verdict(first_p99, 10.0),
            ms_precise(last_p50),
            ms_precise(last_p99),
            verdict(last_p99, 200.0),
        );
    }
    println!(
        "    process CPU {:.2} s = {:.2} of {cores} cores busy; RSS before {}, peak {} (+{}) {}; \
         seeding took {:.2} s (not timed)",
        run.cpu,
        run.last
            .map_or(f64::NAN, |last| run.cpu / last.as_secs_f64()),
        mib(run.rss_before),
        mib(run.peak_rss),
        mib(run
            .peak_rss
            .zip(run.rss_before)
            .map(|(peak, before)| peak - before)),
        if run.peak_is_per_run {
            "(VmHWM, reset before the run)"
        } else {
            "(VmHWM of the whole process)"
        },
        run.seed.as_secs_f64()
    );
}

/// The nearest-rank `q`th percentile of `values`.
fn percentile(values: &[Duration], q: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms_precise(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mib(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:.0} MiB"))
}
