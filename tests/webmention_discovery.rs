//! Webmention discovery and sending against the webmention.rocks suite,
//! replayed from `tests/fixtures/webmention-rocks/` by a local HTTP
//! server that answers each path with its recorded response (absolute
//! `https://webmention.rocks/` URLs rewritten to the local server) and
//! records every request, so the test sees where each Webmention went.
//!
//! Also: the update and delete cases as they concern a sender, the send
//! outcomes, and `Fetcher::get_page` / `post_form` on their own.

use std::collections::HashMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use estuary::federation::fetch::{ACCEPT_HTML, FetchError, FetchLimits, Fetcher, FormOutcome};
use estuary::indieweb::discovery::{SendOutcome, discover, resend_targets, send};
use http::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

const ROCKS: &str = "https://webmention.rocks/";

fn fixtures_dir() -> PathBuf {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webmention-rocks"
    ));
    assert!(
        dir.join("manifest.json").is_file(),
        "the webmention.rocks fixtures are missing: expected \
         tests/fixtures/webmention-rocks/manifest.json in the crate ({})",
        dir.display()
    );
    dir.to_path_buf()
}

fn manifest() -> Value {
    let text = fs::read_to_string(fixtures_dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).expect("manifest.json is not JSON")
}

fn fetcher() -> Fetcher {
    Fetcher::new(true, FetchLimits::default(), "test").unwrap()
}

// ---------------------------------------------------------------------------
// The replay server.

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    /// Path and query, as on the request line.
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    /// Responses set by a test for a path, whatever the method; they win
    /// over the fixtures.
    pages: HashMap<String, Vec<u8>>,
    /// Case 23's one-time keys as handed out, (step 2 key, endpoint key).
    minted: Vec<(String, String)>,
    /// One-time URLs already used.
    spent: Vec<String>,
    /// Requests a correct sender would not have made.
    violations: Vec<String>,
}

struct Rocks {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Rocks {
    async fn start() -> Rocks {
        let fixtures = fixtures_dir();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}/");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (fixtures, base, state) = (fixtures.clone(), base.clone(), shared.clone());
                tokio::spawn(async move {
                    if let Some((mut stream, request)) = read_request(stream).await {
                        let response = respond(&fixtures, &base, &state, &request);
                        state.lock().unwrap().requests.push(request);
                        let _ = stream.write_all(&response).await;
                        let _ = stream.shutdown().await;
                    }
                });
            }
        });
        Rocks { addr, state }
    }

    fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    /// A webmention.rocks URL from the manifest, pointed at this server, with
    /// case 23's placeholders replaced by the keys last handed out.
    fn local(&self, rocks_url: &str) -> Url {
        let mut text = rewrite(rocks_url, &self.base());
        if let Some((key1, key2)) = self.state.lock().unwrap().minted.last() {
            text = text
                .replace("ONETIMEKEY1", key1)
                .replace("ONETIMEKEY2", key2);
        }
        Url::parse(&text).unwrap()
    }

    fn set_page(&self, path: &str, response: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .pages
            .insert(path.to_owned(), response);
    }

    fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    fn posts_since(&self, mark: usize) -> Vec<Request> {
        self.requests()
            .into_iter()
            .skip(mark)
            .filter(|r| r.method == "POST")
            .collect()
    }

    fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }
}

fn rewrite(text: &str, base: &str) -> String {
    text.replace(ROCKS, base)
}

/// A whole response with a correct Content-Length, closing the connection.
fn raw(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn html_page(status: &str, body: &str) -> Vec<u8> {
    raw(
        status,
        &[("Content-Type", "text/html; charset=UTF-8")],
        body.as_bytes(),
    )
}

/// A recorded `.http` response as served here: URLs rewritten, framing
/// replaced by our own Content-Length (rewriting changes the length).
fn replay(fixture: &[u8], base: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture.to_vec()).expect("fixture is not UTF-8");
    let text = rewrite(&text, base);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("fixture has no end of head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().trim_start_matches("HTTP/1.1 ");
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name, value.trim()))
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("connection")
        })
        .collect();
    raw(status, &headers, body.as_bytes())
}

fn respond(fixtures: &Path, base: &str, state: &Mutex<State>, request: &Request) -> Vec<u8> {
    let mut state = state.lock().unwrap();
    if let Some(page) = state.pages.get(request.path()) {
        return page.clone();
    }
    let fixture = |name: &str| fs::read(fixtures.join(name)).unwrap();
    let segments: Vec<&str> = request.path().trim_start_matches('/').split('/').collect();
    if request.method == "POST" {
        // An endpoint: accepted. Case 23's endpoints work once.
        if let ["test", "23", "page", "webmention-endpoint", key] = segments[..] {
            if state.spent.iter().any(|s| s == request.path()) {
                state
                    .violations
                    .push(format!("second POST to {}", request.target));
                return raw("400 Bad Request", &[], b"expired");
            }
            if !state.minted.iter().any(|(_, k)| k == key) {
                state
                    .violations
                    .push(format!("POST to unknown {}", request.target));
                return raw("400 Bad Request", &[], b"unknown key");
            }
            state.spent.push(request.path().to_owned());
        }
        return match segments[..] {
            ["update" | "delete", ..] => raw(
                "201 Created",
                &[("Location", &format!("{base}response/1"))],
                b"",
            ),
            _ => raw("202 Accepted", &[], b"queued"),
        };
    }
    match segments[..] {
        ["test", "23", "page"] => {
            // Each view of the redirect hands out fresh one-time keys.
            let n = state.minted.len() + 1;
            let (key1, key2) = (format!("step{n}"), format!("endpoint{n}"));
            state.minted.push((key1.clone(), key2));
            let text = String::from_utf8(fixture("discovery-23-step1-redirect.http")).unwrap();
            replay(text.replace("ONETIMEKEY1", &key1).as_bytes(), base)
        }
        ["test", "23", "page", key1] => {
            let Some(key2) = state
                .minted
                .iter()
                .find(|(k, _)| k == key1)
                .map(|(_, k)| k.clone())
            else {
                return raw("404 Not Found", &[], b"");
            };
            if state.spent.iter().any(|s| s == request.path()) {
                state
                    .violations
                    .push(format!("second GET of {}", request.target));
                return raw("410 Gone", &[], b"this URL was already used");
            }
            state.spent.push(request.path().to_owned());
            let text = String::from_utf8(fixture("discovery-23-step2-page.http")).unwrap();
            replay(text.replace("ONETIMEKEY2", &key2).as_bytes(), base)
        }
        ["test", n] => match n.parse::<u32>() {
            Ok(n @ 1..=23) => replay(&fixture(&format!("discovery-{n:02}.http")), base),
            _ => raw("404 Not Found", &[], b""),
        },
        ["update", n @ ("1" | "2")] => replay(&fixture(&format!("update-{n}.http")), base),
        ["update", n @ ("1" | "2"), "part", part @ ("1" | "2")] => {
            let text =
                fs::read_to_string(fixtures.join(format!("update-{n}-part-{part}.html"))).unwrap();
            html_page("200 OK", &rewrite(&text, base))
        }
        ["delete", "1"] => replay(&fixture("delete-1.http"), base),
        _ => raw("404 Not Found", &[], b""),
    }
}

async fn read_request(mut stream: TcpStream) -> Option<(TcpStream, Request)> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = Request {
        method,
        target,
        headers,
        body,
    };
    Some((stream, request))
}

/// Path and query of a URL, as a request line carries them.
fn request_target(url: &Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

/// Checks one POST: where it went and that its form is exactly
/// `source` and `target`.
fn check_post(post: &Request, endpoint: &Url, source: &Url, target: &Url) -> Result<(), String> {
    if post.target != request_target(endpoint) {
        return Err(format!(
            "POST went to {}, expected {}",
            post.target,
            request_target(endpoint)
        ));
    }
    let content_type = post.header("content-type").unwrap_or_default();
    if content_type != "application/x-www-form-urlencoded" {
        return Err(format!("POST Content-Type {content_type:?}"));
    }
    let expected = vec![
        ("source".to_owned(), source.to_string()),
        ("target".to_owned(), target.to_string()),
    ];
    if post.form() != expected {
        return Err(format!(
            "POST form {:?}, expected {expected:?}",
            post.form()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The 23 discovery cases.

/// Discovers the case's endpoint, then sends a Webmention and checks where
/// it went.
async fn run_discovery_case(rocks: &Rocks, fetcher: &Fetcher, case: &Value) -> Result<(), String> {
    let num = case["num"].as_u64().unwrap();
    let target_text = case
        .get("target_to_send")
        .unwrap_or(&case["url"])
        .as_str()
        .unwrap();
    let target = rocks.local(target_text);
    let source = rocks.url(&format!("/source/discovery-{num}"));
    let expected = |rocks: &Rocks| rocks.local(case["expected_endpoint"].as_str().unwrap());
    let forbidden = |rocks: &Rocks| -> Vec<Url> {
        case["must_not_send_to"]
            .as_array()
            .unwrap()
            .iter()
            .map(|url| rocks.local(url.as_str().unwrap()))
            .collect()
    };

    let found = discover(fetcher, &target)
        .await
        .map_err(|err| format!("discover failed: {err}"))?
        .ok_or("discover found no endpoint")?;
    if forbidden(rocks).contains(&found) {
        return Err(format!("discovered {found}, which must not be sent to"));
    }
    if found != expected(rocks) {
        return Err(format!("discovered {found}, expected {}", expected(rocks)));
    }

    let mark = rocks.requests().len();
    let outcome = send(fetcher, &source, &target)
        .await
        .map_err(|err| format!("send failed: {err}"))?;
    let posts = rocks.posts_since(mark);
    for post in &posts {
        if let Some(bad) = forbidden(rocks)
            .iter()
            .find(|bad| post.target == request_target(bad))
        {
            return Err(format!("sent to {bad}, which must not be sent to"));
        }
    }
    let [post] = &posts[..] else {
        return Err(format!("{} POSTs, expected one", posts.len()));
    };
    check_post(post, &expected(rocks), &source, &target)?;
    let sent = SendOutcome::Sent {
        status: StatusCode::ACCEPTED,
        location: None,
    };
    if outcome != sent {
        return Err(format!("send outcome {outcome:?}"));
    }
    Ok(())
}

#[tokio::test]
async fn webmention_rocks_discovery() {
    let manifest = manifest();
    let cases = manifest["discovery"]
        .as_array()
        .expect("no discovery cases");
    assert_eq!(
        cases.len(),
        23,
        "the manifest should list 23 discovery cases"
    );
    let rocks = Rocks::start().await;
    let fetcher = fetcher();

    let mut passed = 0;
    let mut failures = Vec::new();
    for case in cases {
        match run_discovery_case(&rocks, &fetcher, case).await {
            Ok(()) => passed += 1,
            Err(why) => failures.push(format!(
                "#{} {}: {why}",
                case["num"],
                case["name"].as_str().unwrap_or_default()
            )),
        }
    }
    println!("webmention.rocks discovery: {passed}/{}", cases.len());
    for failure in &failures {
        println!("  FAILED {failure}");
    }
    assert_eq!(rocks.violations(), Vec::<String>::new());
    assert_eq!(passed, 23, "failures:\n{}", failures.join("\n"));

    // Every page was asked for as HTML.
    for request in rocks.requests().iter().filter(|r| r.method == "GET") {
        assert_eq!(
            request.header("accept"),
            Some(ACCEPT_HTML),
            "{}",
            request.target
        );
    }
    // Case 23 was discovered twice (discover, then send): two fresh sets of
    // keys, each step URL fetched once and each endpoint posted to once.
    let state = rocks.state.lock().unwrap();
    assert_eq!(state.minted.len(), 2);
    assert!(state.spent.contains(&"/test/23/page/step2".to_owned()));
    assert!(
        state
            .spent
            .contains(&"/test/23/page/webmention-endpoint/endpoint2".to_owned())
    );
}

// ---------------------------------------------------------------------------
// Update and delete: what a sender must do.

/// A source post (ours) linking to `targets`.
fn source_post(targets: &[&Url]) -> Vec<u8> {
    let links: String = targets
        .iter()
        .map(|t| format!("<a href=\"{t}\">{t}</a> "))
        .collect();
    html_page(
        "200 OK",
        &format!("<div class=\"h-entry\"><div class=\"e-content\">{links}</div></div>"),
    )
}

/// Sends for every target and checks each went, in order, to its endpoint
/// with a 201 and the receiver's Location.
async fn send_all(
    rocks: &Rocks,
    fetcher: &Fetcher,
    source: &Url,
    targets: &[Url],
    endpoints: &[&str],
) {
    let mark = rocks.requests().len();
    for target in targets {
        let outcome = send(fetcher, source, target).await.unwrap();
        assert_eq!(
            outcome,
            SendOutcome::Sent {
                status: StatusCode::CREATED,
                location: Some(format!("{}response/1", rocks.base())),
            },
            "{target}"
        );
    }
    let posts = rocks.posts_since(mark);
    assert_eq!(posts.len(), targets.len());
    for ((post, target), endpoint) in posts.iter().zip(targets).zip(endpoints) {
        check_post(post, &rocks.url(endpoint), source, target).unwrap();
    }
}

/// Update #1: a link is added. After the update the sender re-sends to the
/// URL it already mentioned and sends to the new one; each goes to the
/// endpoint that target advertises (a `<link>` in the body of /update/1, a
/// bare stub page for /update/1/part/2).
#[tokio::test]
async fn update_1_resends_to_old_and_new_links() {
    let case = &manifest()["update"][0];
    assert_eq!(case["fixture"], "update-1.http");
    let rocks = Rocks::start().await;
    let fetcher = fetcher();
    let source = rocks.url("/source/update-1");
    let page = rocks.url("/update/1");
    let part_2 = rocks.url("/update/1/part/2");
    let page_endpoint = "/update/1/part/1/webmention?key=ONETIMEKEY";
    let part_2_endpoint = "/update/1/part/2/webmention?key=ONETIMEKEY";

    rocks.set_page(source.path(), source_post(&[&page]));
    send_all(
        &rocks,
        &fetcher,
        &source,
        std::slice::from_ref(&page),
        &[page_endpoint],
    )
    .await;

    rocks.set_page(source.path(), source_post(&[&page, &part_2]));
    let targets = resend_targets(std::slice::from_ref(&page), &[page.clone(), part_2.clone()]);
    assert_eq!(targets, [page.clone(), part_2.clone()]);
    send_all(
        &rocks,
        &fetcher,
        &source,
        &targets,
        &[page_endpoint, part_2_endpoint],
    )
    .await;

    // /update/1/part/1 is not a target: nothing was sent for it.
    assert!(
        rocks
            .requests()
            .iter()
            .all(|r| r.target != "/update/1/part/1")
    );
    assert_eq!(rocks.violations(), Vec::<String>::new());
}

/// Update #2: a link is removed. After the update the sender sends again to
/// both URLs, the removed one included, so its receiver can drop the mention.
#[tokio::test]
async fn update_2_resends_to_the_removed_link() {
    let case = &manifest()["update"][1];
    assert_eq!(case["fixture"], "update-2.http");
    let rocks = Rocks::start().await;
    let fetcher = fetcher();
    let source = rocks.url("/source/update-2");
    let page = rocks.url("/update/2");
    let part_2 = rocks.url("/update/2/part/2");
    let endpoints = [
        "/update/2/part/1/webmention?key=ONETIMEKEY",
        "/update/2/part/2/webmention?key=ONETIMEKEY",
    ];

    let before = [page.clone(), part_2.clone()];
    rocks.set_page(source.path(), source_post(&[&page, &part_2]));
    send_all(&rocks, &fetcher, &source, &before, &endpoints).await;

    let after = [page.clone()];
    rocks.set_page(source.path(), source_post(&[&page]));
    let targets = resend_targets(&before, &after);
    assert_eq!(targets, before);
    send_all(&rocks, &fetcher, &source, &targets, &endpoints).await;
    assert_eq!(rocks.violations(), Vec::<String>::new());
}

/// Delete #1: after the source is deleted it answers 410, and the sender
/// sends the same source/target pair again to the target's endpoint (a
/// `<link>` in its head). The receiver, fetching the source, must see the
/// 410 — `get_page` hands it back rather than failing.
#[tokio::test]
async fn delete_1_resends_after_the_source_answers_410() {
    let case = &manifest()["delete"][0];
    assert_eq!(case["fixture"], "delete-1.http");
    let rocks = Rocks::start().await;
    let fetcher = fetcher();
    let source = rocks.url("/source/delete-1");
    let target = rocks.url("/delete/1");
    let endpoint = ["/delete/1/webmention?key=ONETIMEKEY"];

    rocks.set_page(source.path(), source_post(&[&target]));
    send_all(
        &rocks,
        &fetcher,
        &source,
        std::slice::from_ref(&target),
        &endpoint,
    )
    .await;

    rocks.set_page(source.path(), html_page("410 Gone", "<p>deleted</p>"));
    send_all(
        &rocks,
        &fetcher,
        &source,
        std::slice::from_ref(&target),
        &endpoint,
    )
    .await;

    let seen_by_receiver = fetcher.get_page(&source, 1024 * 1024, 20).await.unwrap();
    assert_eq!(seen_by_receiver.status, StatusCode::GONE);
    assert_eq!(seen_by_receiver.body, b"<p>deleted</p>");
}

// ---------------------------------------------------------------------------
// Send outcomes other than success.

#[tokio::test]
async fn send_without_endpoint_posts_nothing() {
    let rocks = Rocks::start().await;
    rocks.set_page("/plain", html_page("200 OK", "<p>no endpoint</p>"));
    let outcome = send(&fetcher(), &rocks.url("/s"), &rocks.url("/plain"))
        .await
        .unwrap();
    assert_eq!(outcome, SendOutcome::NoEndpoint);
    assert!(rocks.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn refusing_endpoint_reports_status_and_retry_after() {
    let rocks = Rocks::start().await;
    rocks.set_page(
        "/busy",
        raw("200 OK", &[("Link", "</busy/wm>; rel=webmention")], b""),
    );
    rocks.set_page(
        "/busy/wm",
        raw("429 Too Many Requests", &[("Retry-After", "120")], b"later"),
    );
    rocks.set_page(
        "/moved",
        raw("200 OK", &[("Link", "</moved/wm>; rel=webmention")], b""),
    );
    rocks.set_page(
        "/moved/wm",
        raw("307 Temporary Redirect", &[("Location", "/elsewhere")], b""),
    );
    let fetcher = fetcher();
    let source = rocks.url("/s");

    let outcome = send(&fetcher, &source, &rocks.url("/busy")).await.unwrap();
    assert_eq!(
        outcome,
        SendOutcome::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(120)),
        }
    );
    // A redirecting endpoint is not followed.
    let outcome = send(&fetcher, &source, &rocks.url("/moved")).await.unwrap();
    assert_eq!(
        outcome,
        SendOutcome::Refused {
            status: StatusCode::TEMPORARY_REDIRECT,
            retry_after: None,
        }
    );
    assert!(rocks.requests().iter().all(|r| r.path() != "/elsewhere"));
}

#[tokio::test]
async fn target_that_is_not_2xx_is_an_error() {
    let rocks = Rocks::start().await;
    let gone_with_endpoint = raw("410 Gone", &[("Link", "</wm>; rel=webmention")], b"");
    rocks.set_page("/gone", gone_with_endpoint);
    rocks.set_page("/down", raw("503 Service Unavailable", &[], b""));
    let fetcher = fetcher();

    for (path, status, retryable) in [
        ("/gone", 410, false),
        ("/down", 503, true),
        ("/none", 404, false),
    ] {
        let err = discover(&fetcher, &rocks.url(path)).await.unwrap_err();
        assert!(
            matches!(err, FetchError::Status { status: s } if s.as_u16() == status),
            "{path}: {err:?}"
        );
        assert_eq!(err.is_retryable(), retryable, "{path}");
    }
    assert!(rocks.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let rocks = Rocks::start().await;
    let guarded = Fetcher::new(false, FetchLimits::default(), "test").unwrap();
    let target = rocks.url("/test/1");

    let err = discover(&guarded, &target).await.unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress(_)), "{err:?}");
    let err = send(&guarded, &rocks.url("/s"), &target).await.unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress(_)), "{err:?}");
    let err = guarded
        .post_form(&rocks.url("/test/1/webmention"), &[("source", "x")])
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress(_)), "{err:?}");
    let localhost = Url::parse(&format!("http://localhost:{}/test/1", rocks.addr.port())).unwrap();
    let err = guarded.get_page(&localhost, 1024, 5).await.unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress(_)), "{err:?}");

    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(rocks.requests().is_empty(), "{:?}", rocks.requests());
}

// ---------------------------------------------------------------------------
// `get_page` and `post_form` on their own.

#[tokio::test]
async fn get_page_follows_relative_redirects_to_the_final_url() {
    let rocks = Rocks::start().await;
    let absolute = rocks.url("/d/e").to_string();
    rocks.set_page(
        "/a/b",
        raw("301 Moved Permanently", &[("Location", "c?x=1#frag")], b""),
    );
    rocks.set_page("/a/c", raw("303 See Other", &[("Location", "../d/")], b""));
    rocks.set_page(
        "/d/",
        raw("308 Permanent Redirect", &[("Location", &absolute)], b""),
    );
    rocks.set_page(
        "/d/e",
        raw(
            "200 OK",
            &[("Content-Type", "text/html"), ("X-Mark", "final")],
            b"<p>here</p>",
        ),
    );

    let page = fetcher()
        .get_page(&rocks.url("/a/b#top"), 1024, 3)
        .await
        .unwrap();
    assert_eq!(page.final_url, rocks.url("/d/e"));
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["x-mark"], "final");
    assert_eq!(page.body, b"<p>here</p>");
    let targets: Vec<String> = rocks.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/a/b", "/a/c?x=1", "/d/", "/d/e"]);
}

#[tokio::test]
async fn get_page_stops_after_max_redirects() {
    let rocks = Rocks::start().await;
    rocks.set_page("/loop", raw("302 Found", &[("Location", "/loop")], b""));
    let err = fetcher()
        .get_page(&rocks.url("/loop"), 1024, 3)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects), "{err:?}");
    assert_eq!(rocks.requests().len(), 4);

    // Zero redirects allowed: the first one is already too many.
    let err = fetcher()
        .get_page(&rocks.url("/loop"), 1024, 0)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects), "{err:?}");
}

#[tokio::test]
async fn get_page_returns_error_pages_and_cuts_long_bodies() {
    let rocks = Rocks::start().await;
    rocks.set_page(
        "/missing",
        html_page("404 Not Found", "<p>no such page</p>"),
    );
    let long: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    rocks.set_page(
        "/long",
        raw("200 OK", &[("Content-Type", "text/html")], &long),
    );
    // A redirect without Location is a page like any other.
    rocks.set_page("/odd", raw("302 Found", &[], b"nowhere"));
    let fetcher = fetcher();

    let page = fetcher
        .get_page(&rocks.url("/missing"), 1024, 5)
        .await
        .unwrap();
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.body, b"<p>no such page</p>");

    let page = fetcher
        .get_page(&rocks.url("/long"), 70_000, 5)
        .await
        .unwrap();
    assert_eq!(page.body.len(), 70_000);
    assert_eq!(page.body, long[..70_000]);
    let page = fetcher
        .get_page(&rocks.url("/long"), 1 << 20, 5)
        .await
        .unwrap();
    assert_eq!(page.body, long);

    let page = fetcher.get_page(&rocks.url("/odd"), 1024, 5).await.unwrap();
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.body, b"nowhere");
}

#[tokio::test]
async fn post_form_encodes_pairs_and_reports_the_answer() {
    let rocks = Rocks::start().await;
    rocks.set_page(
        "/endpoint",
        raw(
            "201 Created",
            &[("Location", "/status/7"), ("Retry-After", "30")],
            b"created",
        ),
    );
    let source = "https://site.example/a b?x=1&y=é#frag";
    let outcome = fetcher()
        .post_form(
            &rocks.url("/endpoint?keep=this#not-sent"),
            &[("source", source), ("target", "t=1&2")],
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        FormOutcome {
            status: StatusCode::CREATED,
            location: Some("/status/7".into()),
            retry_after: Some(Duration::from_secs(30)),
        }
    );
    let requests = rocks.requests();
    let [post] = &requests[..] else {
        panic!("{requests:?}")
    };
    assert_eq!(post.method, "POST");
    assert_eq!(post.target, "/endpoint?keep=this");
    assert_eq!(
        post.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        post.form(),
        [
            ("source".to_owned(), source.to_owned()),
            ("target".to_owned(), "t=1&2".to_owned())
        ]
    );
}
