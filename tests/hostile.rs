//! Hostile input over real HTTP (issue 11): every request here is one an
//! attacker would send. Each test checks the status, that nothing was
//! stored, and that the server still answers `/healthz` afterwards.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use common::{TestServer, post_with, signed_post_headers, signer_of, wait_until};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};
use serde_json::{Value, json};

/// What the attacker's server answers at one path.
#[derive(Clone)]
struct Reply {
    /// Seconds to wait before answering.
    delay: u64,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

type Pages = Arc<Mutex<HashMap<String, Reply>>>;

/// A web server the attacker controls: it answers whatever the test sets
/// per path (pages, redirects), 404 otherwise.
struct Attacker {
    base: String,
    pages: Pages,
}

impl Attacker {
    async fn start() -> Attacker {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let pages = Pages::default();
        let app = Router::new().fallback(serve).with_state(pages.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Attacker { base, pages }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn page(&self, path: &str, html: &str) {
        self.set(
            path,
            Reply {
                delay: 0,
                status: 200,
                headers: vec![("content-type", "text/html; charset=utf-8".into())],
                body: html.to_owned(),
            },
        );
    }

    fn redirect(&self, path: &str, to: &str) {
        self.set(
            path,
            Reply {
                delay: 0,
                status: 302,
                headers: vec![("location", to.to_owned())],
                body: String::new(),
            },
        );
    }

    /// A page that takes `seconds` to answer.
    fn slow_page(&self, path: &str, seconds: u64) {
        self.set(
            path,
            Reply {
                delay: seconds,
                status: 200,
                headers: vec![("content-type", "text/html".into())],
                body: "<p>slow</p>".into(),
            },
        );
    }

    fn set(&self, path: &str, reply: Reply) {
        self.pages.lock().unwrap().insert(path.to_owned(), reply);
    }
}

async fn serve(State(pages): State<Pages>, uri: Uri) -> Response {
    let found = pages.lock().unwrap().get(uri.path()).cloned();
    let Some(reply) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    tokio::time::sleep(std::time::Duration::from_secs(reply.delay)).await;
    let mut headers = HeaderMap::new();
    for (name, value) in reply.headers {
        headers.insert(name, value.parse().unwrap());
    }
    (
        StatusCode::from_u16(reply.status).unwrap(),
        headers,
        reply.body,
    )
        .into_response()
}

/// The server still answers.
async fn assert_healthy(server: &TestServer) {
    let response = server.get("/healthz", None).await;
    assert_eq!(response.status(), 200, "/healthz after the attack");
}

async fn alice_public_note(server: &TestServer) -> String {
    let alice = server.account("alice").await;
    publish_note(
        server.fed(),
        &alice,
        Draft {
            content_html: "<p>Rivers meet here.</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .object_id
}

async fn send_webmention(server: &TestServer, source: &str, target: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/webmention"))
        .form(&[("source", source), ("target", target)])
        .send()
        .await
        .unwrap()
}

/// Waits for a received mention to leave the queue; returns its status.
async fn settled(server: &TestServer, response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 202, "the mention is queued");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let status = || async {
        server
            .client
            .get(&location)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    wait_until(20, "the mention to be verified or rejected", || async {
        status().await["status"] != "queued"
    })
    .await;
    status().await
}

/// Rows that an attack must not add to.
fn counts(server: &TestServer) -> [i64; 4] {
    ["accounts", "objects", "activities", "inbox_items"].map(|t| server.db.count(t))
}

// 1. The mf2 bomb.

/// Issue 11, case 1: nested h-cards, each the value of two properties.
fn doubling_page(depth: usize, target: &str) -> String {
    let mut html = format!(
        r#"<!doctype html><div class="h-entry"><a class="u-in-reply-to" href="{target}">re</a><div class="e-content">hi</div>"#
    );
    for _ in 0..depth {
        html.push_str(r#"<div class="h-card p-author e-x">a"#);
    }
    html.push_str(&"</div>".repeat(depth + 1));
    html
}

#[tokio::test]
async fn an_mf2_bomb_sent_as_a_webmention_is_rejected_and_the_server_stays_up() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let attacker = Attacker::start().await;
    attacker.page("/bomb", &doubling_page(40, &note));
    let before = counts(&server);

    let started = std::time::Instant::now();
    let status = settled(
        &server,
        send_webmention(&server, &attacker.url("/bomb"), &note).await,
    )
    .await;
    assert_eq!(status["status"], "rejected", "{status}");
    assert!(
        status["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("microformats items"),
        "{status}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(counts(&server), before, "no proxy actor, no post");
    assert_eq!(
        server
            .db
            .count("jobs WHERE status IN ('pending', 'running', 'retrying')"),
        0,
        "nothing left to retry"
    );
    assert_healthy(&server).await;
}

// 3. javascript: links.

#[tokio::test]
async fn javascript_urls_in_a_remote_create_are_not_stored_or_linked() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let bob = signer_of(&b, "bob").await;
    let n = common::random_suffix();
    let actor = b.url("/users/bob");
    let object_id = b.url(&format!("/objects/{n}"));
    let to = json!([PUBLIC, a.url("/users/alice")]);
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": b.url(&format!("/activities/{n}")),
        "type": "Create",
        "actor": actor,
        "to": to,
        "object": {
            "id": object_id,
            "type": "Note",
            "attributedTo": actor,
            "content": "<p>click me</p>",
            "url": "javascript:alert(document.cookie)",
            "inReplyTo": "javascript:alert(2)",
            "to": to,
            "published": "2026-11-21T10:00:00Z"
        }
    });
    let inbox = a.url("/users/alice/inbox");
    let body = serde_json::to_vec(&activity).unwrap();
    let response = post_with(
        &inbox,
        signed_post_headers(&inbox, &body, &bob, Utc::now()),
        body,
    )
    .await;
    assert_eq!(response.status(), 202);
    let stored = estuary::domain::posts::find_post(&a.state.store, &object_id)
        .await
        .unwrap()
        .expect("the note itself is kept");
    assert_eq!(stored.url, None);
    assert_eq!(stored.in_reply_to, None);

    let page = a.get(&format!("/mirror?id={object_id}"), None).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("click me"));
    assert!(!html.contains("javascript:"), "{html}");
    assert_healthy(&a).await;
}

#[tokio::test]
async fn a_javascript_in_reply_to_from_a_local_client_is_refused() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let token = estuary::domain::tokens::issue_token(&server.state.store, "alice")
        .await
        .unwrap();
    let before = counts(&server);
    let response = server
        .client
        .post(server.url("/users/alice/outbox"))
        .bearer_auth(&token)
        .header("content-type", "application/activity+json")
        .json(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Note",
            "content": "hello",
            "to": [PUBLIC],
            "inReplyTo": "javascript:alert(1)"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("inReplyTo"), "{body}");
    assert_eq!(counts(&server), before);
    assert_healthy(&server).await;
}

#[tokio::test]
async fn a_javascript_in_reply_to_in_a_sites_h_entry_is_not_stored() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let attacker = Attacker::start().await;
    attacker.page(
        "/post",
        &format!(
            r#"<!doctype html><article class="h-entry">
<a class="p-author h-card" href="/">Mallory</a>
<a class="u-in-reply-to" href="javascript:alert(1)">x</a>
<a class="u-url" href="javascript:alert(3)">permalink</a>
<div class="e-content">see <a href="{note}">this</a></div></article>"#
        ),
    );
    let status = settled(
        &server,
        send_webmention(&server, &attacker.url("/post"), &note).await,
    )
    .await;
    assert_eq!(status["status"], "verified", "{status}");
    let stored = server.db.texts(
        "SELECT COALESCE(in_reply_to, '') || ' ' || COALESCE(url, '') AS v FROM objects \
         WHERE content LIKE '%see%'",
    );
    assert_eq!(stored.len(), 1);
    let stored = stored[0].clone().unwrap();
    assert!(!stored.contains("javascript:"), "{stored}");
    assert_healthy(&server).await;
}

#[tokio::test]
async fn every_html_page_has_a_content_security_policy() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    for path in ["/@alice", "/users/alice", "/no-such-page"] {
        let response = server.get(path, Some("text/html")).await;
        if response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"))
        {
            let csp = response.headers()["content-security-policy"]
                .to_str()
                .unwrap();
            assert!(csp.contains("script-src 'none'"), "{path}: {csp}");
        }
    }
    let profile = server.get("/@alice", Some("text/html")).await;
    assert!(profile.headers().contains_key("content-security-policy"));
}

// 4. Signatures bound to this server.

/// Signs `method url` as `signer` with draft-cavage (`rfc9421 = false`) or
/// RFC 9421, for the URL's host, and sends it to `to` instead (same path),
/// keeping the signed `Host` header: a replay of a request made for
/// another server.
async fn replay(
    method: http::Method,
    signed_for: &str,
    to: &str,
    body: Option<Vec<u8>>,
    signer: &estuary::federation::fetch::Signer,
    rfc9421: bool,
) -> reqwest::Response {
    let url = url::Url::parse(signed_for).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("accept", "application/activity+json".parse().unwrap());
    if body.is_some() {
        headers.insert("content-type", "application/activity+json".parse().unwrap());
    }
    let sign = if rfc9421 {
        estuary::federation::signatures::sign_rfc9421
    } else {
        estuary::federation::signatures::sign_cavage
    };
    sign(
        &method,
        &url,
        &mut headers,
        body.as_deref(),
        &signer.key_id,
        &signer.key,
        Utc::now(),
    )
    .unwrap();
    headers.insert("host", url.authority().parse().unwrap());
    let mut request = reqwest::Client::new().request(method, to).headers(headers);
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.unwrap()
}

/// `url` with its authority swapped for `evil.example`.
fn on_evil_host(url: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_host(Some("evil.example")).unwrap();
    parsed.set_port(None).unwrap();
    parsed.to_string()
}

#[tokio::test]
async fn a_signed_post_made_for_another_host_is_refused_here() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let bob = signer_of(&b, "bob").await;
    let inbox = a.url("/users/alice/inbox");
    let before = counts(&a);
    for rfc9421 in [false, true] {
        let n = common::random_suffix();
        let actor = b.url("/users/bob");
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": b.url(&format!("/activities/{n}")),
            "type": "Create",
            "actor": actor,
            "to": [a.url("/users/alice")],
            "object": {
                "id": b.url(&format!("/objects/{n}")),
                "type": "Note",
                "attributedTo": actor,
                "content": "<p>meant for evil.example</p>",
                "to": [a.url("/users/alice")],
            }
        });
        let body = serde_json::to_vec(&activity).unwrap();
        let response = replay(
            http::Method::POST,
            &on_evil_host(&inbox),
            &inbox,
            Some(body.clone()),
            &bob,
            rfc9421,
        )
        .await;
        assert_eq!(response.status(), 401, "rfc9421: {rfc9421}");
        // The same request signed for this server is accepted.
        let response = replay(
            http::Method::POST,
            &inbox,
            &inbox,
            Some(body),
            &bob,
            rfc9421,
        )
        .await;
        assert_eq!(response.status(), 202, "rfc9421: {rfc9421}");
    }
    assert_eq!(a.inbox("alice").await.len(), 2, "only the two good ones");
    assert!(counts(&a)[1] == before[1] + 2);
    assert_healthy(&a).await;
}

#[tokio::test]
async fn a_followers_signed_get_made_for_another_host_does_not_read_a_direct_post() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let alice = a.account("alice").await;
    let bob_url = b.url("/users/bob");
    let published = publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>for bob only</p>".into(),
            to: vec![bob_url.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let bob = signer_of(&b, "bob").await;
    let object = published.object_id;
    for rfc9421 in [false, true] {
        let stolen = replay(
            http::Method::GET,
            &on_evil_host(&object),
            &object,
            None,
            &bob,
            rfc9421,
        )
        .await;
        assert_eq!(stolen.status(), 401, "rfc9421: {rfc9421}");
        let body = stolen.text().await.unwrap();
        assert!(!body.contains("for bob only"), "{body}");
        let own = replay(http::Method::GET, &object, &object, None, &bob, rfc9421).await;
        assert_eq!(own.status(), 200, "rfc9421: {rfc9421}");
    }
    assert_healthy(&a).await;
}

// 5. A site impersonated through an open redirect.

#[tokio::test]
async fn a_source_redirecting_to_another_site_speaks_for_that_site_only() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let victim = Attacker::start().await;
    let attacker = Attacker::start().await;
    attacker.page(
        "/reply",
        &format!(
            r#"<!doctype html><article class="h-entry">
<a class="p-author h-card" href="{victim}/">The Victim</a>
<a class="u-url" href="{victim}/official">permalink</a>
<div class="e-content">Victim endorses <a href="{note}">this</a></div></article>"#,
            victim = victim.base
        ),
    );
    victim.redirect("/go", &attacker.url("/reply"));

    let status = settled(
        &server,
        send_webmention(&server, &victim.url("/go"), &note).await,
    )
    .await;
    assert_eq!(status["status"], "verified", "{status}");
    let sites = server
        .db
        .texts("SELECT site_url AS v FROM accounts WHERE site_url IS NOT NULL");
    assert_eq!(
        sites,
        [Some(format!("{}/", attacker.base))],
        "not the victim's"
    );
    let urls = server
        .db
        .texts("SELECT url AS v FROM objects WHERE content LIKE '%endorses%'");
    assert_eq!(
        urls,
        [Some(attacker.url("/reply"))],
        "no claim on the victim's URL"
    );
    assert_healthy(&server).await;
}

// 6. The Webmention rate limit and the queue cap.

#[tokio::test]
async fn subdomains_and_ports_of_one_site_share_its_rate_limit() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.webmention_rate_per_minute = 3;
    })
    .await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let before = server.db.count("webmentions");
    for (what, source) in [
        ("subdomains", "http://s{n}.flood.example/post" as &str),
        ("ports", "http://ports.example:{n}/post"),
    ] {
        for n in 1..=3 {
            let source = source.replace("{n}", &(8000 + n).to_string());
            let response = send_webmention(&server, &source, &note).await;
            assert_eq!(response.status(), 202, "{what} {n}");
        }
        let source = source.replace("{n}", "9999");
        let refused = send_webmention(&server, &source, &note).await;
        assert_eq!(refused.status(), 429, "{what}");
        assert_eq!(refused.headers()["retry-after"], "60");
    }
    assert_eq!(
        server.db.count("webmentions"),
        before + 6,
        "no row for the refused"
    );
    // Another site is not affected.
    let other = send_webmention(&server, "http://calm.example/post", &note).await;
    assert_eq!(other.status(), 202);
    assert_healthy(&server).await;
}

#[tokio::test]
async fn the_verification_queue_has_a_global_cap() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.webmention_queue_max = 2;
    })
    .await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let slow = Attacker::start().await;
    for n in 0..3 {
        slow.slow_page(&format!("/slow{n}"), 5);
    }
    for n in 0..2 {
        let response = send_webmention(&server, &slow.url(&format!("/slow{n}")), &note).await;
        assert_eq!(response.status(), 202, "{n}");
    }
    let full = send_webmention(&server, &slow.url("/slow2"), &note).await;
    assert_eq!(full.status(), 503);
    assert!(full.headers().contains_key("retry-after"));
    assert_eq!(server.db.count("webmentions"), 2);
    assert_healthy(&server).await;
}

// 7. A client dribbling its headers.

#[tokio::test]
async fn a_connection_dribbling_header_lines_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.header_read_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = std::time::Instant::now();
    let dribble = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await;
        for n in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if writer
                .write_all(format!("X-Dribble-{n}: a\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let mut buffer = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        reader.read_to_end(&mut buffer),
    )
    .await;
    assert!(closed.is_ok(), "the connection is still open after 10 s");
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "closed after {took:?}"
    );
    let answer = String::from_utf8_lossy(&buffer);
    assert!(!answer.contains("200 OK"), "{answer}");
    dribble.abort();
    assert_healthy(&server).await;
}

// 8. Log injection and secrets in logs.

/// Everything logged on this thread while the guard lives.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// The server runs on this test's (single) thread, so a thread-local
// subscriber sees its request logs and its jobs.
#[tokio::test(flavor = "current_thread")]
async fn foreign_newlines_cannot_forge_log_lines_and_capability_tokens_are_not_logged() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start().await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let private = server.get("/private/SECRET-CAPABILITY-TOKEN", None).await;
    assert_eq!(private.status(), 401);

    // URL parsing drops the newline, so the mention is accepted; the raw
    // value is what a careless log line would print.
    let forged = "http://127.0.0.1:9/a\nERROR forged: admin logged in";
    let response = send_webmention(&server, forged, &note).await;
    let status = settled(&server, response).await;
    assert_eq!(status["status"], "rejected", "{status}");
    let register = server
        .client
        .post(server.url("/oauth/register"))
        .json(&json!({"client_name": "x\nERROR forged: register", "redirect_uris": ["javascript:x\nERROR forged: uri"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 400);

    let text = logs.text();
    assert!(
        text.contains("webmention"),
        "the mention was logged: {text}"
    );
    for line in text.lines() {
        assert!(!line.starts_with("ERROR forged"), "a forged line: {line}");
    }
    assert!(!text.contains("SECRET-CAPABILITY-TOKEN"), "{text}");
    assert!(text.contains("/private/…"), "{text}");
    assert_healthy(&server).await;
}

// 9. Characters XML forbids in a feed.

#[tokio::test]
async fn a_post_with_characters_xml_forbids_leaves_the_feed_valid() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let alice = server.account("alice").await;
    publish_note(
        server.fed(),
        &alice,
        Draft {
            content_html: "<p>one\u{FFFF}two\u{FFFE}three\u{1}four\u{1B}five</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let feed = server.get("/users/alice/feed.atom", None).await;
    assert_eq!(feed.status(), 200);
    let xml = feed.text().await.unwrap();
    assert!(xml.contains("onetwothreefourfive"), "{xml}");
    let bad: Vec<char> = xml
        .chars()
        .filter(|&c| !estuary::indieweb::atom::is_xml_char(c))
        .collect();
    assert!(bad.is_empty(), "characters XML 1.0 forbids: {bad:?}");
    assert_healthy(&server).await;
}

// 10. The SQLite file, /metrics, and what a 401 tells.

#[cfg(unix)]
#[test]
fn the_sqlite_file_and_its_new_folder_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    // Always SQLite: this is about the file the single binary creates.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("estuary.sqlite3");
    let store = estuary::store::Store::open(
        path.to_str().unwrap(),
        estuary::store::PoolSettings {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(10),
        },
    )
    .unwrap();
    store.migrate().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "the database holds private keys");
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    for suffix in ["-wal", "-shm"] {
        let side = path.with_file_name(format!("estuary.sqlite3{suffix}"));
        if side.exists() {
            assert_eq!(mode(&side) & 0o077, 0, "{suffix}");
        }
    }
}

#[tokio::test]
async fn metrics_are_off_unless_turned_on() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.metrics = false;
    })
    .await;
    assert_eq!(server.get("/metrics", None).await.status(), 404);
    assert_healthy(&server).await;
    let config = common::test_config("unused", "http://localhost:8080");
    let defaults = estuary::config::Config::load(|name| match name {
        "ESTUARY_CONFIG" => Some("/dev/null".into()),
        _ => None,
    })
    .unwrap();
    assert!(!defaults.metrics, "off by default");
    assert!(config.metrics, "the test harness turns them on");
}

#[tokio::test]
async fn a_401_does_not_tell_how_fetching_the_key_failed() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let mut ghost = signer_of(&b, "bob").await;
    // A key id on a port where nothing listens: our fetch of it fails.
    let actor = "http://127.0.0.1:9/users/ghost";
    ghost.key_id = format!("{actor}#main-key");
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "http://127.0.0.1:9/activities/1",
        "type": "Create",
        "actor": actor,
        "object": {"id": "http://127.0.0.1:9/objects/1", "type": "Note", "content": "x"}
    });
    let inbox = a.url("/users/alice/inbox");
    let body = serde_json::to_vec(&activity).unwrap();
    let before = counts(&a);
    let response = post_with(
        &inbox,
        signed_post_headers(&inbox, &body, &ghost, Utc::now()),
        body,
    )
    .await;
    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    assert!(text.contains("signing key"), "{text}");
    for detail in ["127.0.0.1", "refused", "connect", "error sending"] {
        assert!(!text.to_lowercase().contains(detail), "{detail} in {text}");
    }
    assert_eq!(counts(&a), before);
    assert_healthy(&a).await;
}

// 11. The earlier bad-input cases, together: each answered with its status,
// none stores anything, and the server answers afterwards.

#[tokio::test]
async fn bad_requests_of_every_kind_are_refused_and_change_nothing() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.max_body_bytes = 64 * 1024;
    })
    .await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let token = estuary::domain::tokens::issue_token(&server.state.store, "alice")
        .await
        .unwrap();
    let before = (
        counts(&server),
        server.db.count("webmentions"),
        server.db.count("jobs"),
    );
    let activity = r#"{"type":"Create","actor":"https://x.example/u","id":"https://x.example/1"}"#;
    let big = "x".repeat(128 * 1024);
    let json_type = "application/activity+json";
    // (method, path, content type, body, bearer, expected status)
    let cases: Vec<(&str, String, &str, String, bool, u16)> = vec![
        (
            "POST",
            "/users/alice/inbox".into(),
            json_type,
            activity.into(),
            false,
            401,
        ),
        (
            "POST",
            "/inbox".into(),
            json_type,
            activity.into(),
            false,
            401,
        ),
        (
            "POST",
            "/users/alice/inbox".into(),
            "text/plain",
            activity.into(),
            false,
            415,
        ),
        (
            "POST",
            "/users/alice/inbox".into(),
            json_type,
            big.clone(),
            false,
            413,
        ),
        (
            "POST",
            "/users/nobody/inbox".into(),
            json_type,
            activity.into(),
            false,
            404,
        ),
        (
            "POST",
            "/users/alice/outbox".into(),
            json_type,
            "{}".into(),
            false,
            401,
        ),
        (
            "POST",
            "/users/alice/outbox".into(),
            json_type,
            "not json".into(),
            true,
            400,
        ),
        (
            "POST",
            "/users/alice/outbox".into(),
            json_type,
            r#"{"type":"Note","content":"x","to":["acct:nobody@nowhere.invalid\nERROR x"]}"#.into(),
            true,
            400,
        ),
        (
            "GET",
            "/.well-known/webfinger".into(),
            "",
            String::new(),
            false,
            400,
        ),
        (
            "GET",
            "/.well-known/webfinger?resource=acct:%0Aalice".into(),
            "",
            String::new(),
            false,
            400,
        ),
        (
            "GET",
            "/.well-known/webfinger?resource=acct:nobody@elsewhere.example".into(),
            "",
            String::new(),
            false,
            400,
        ),
        (
            "GET",
            format!(
                "/.well-known/webfinger?resource=acct:nobody@{}",
                server.host()
            ),
            "",
            String::new(),
            false,
            404,
        ),
        (
            "POST",
            "/webmention".into(),
            "application/x-www-form-urlencoded",
            "source=ftp://x.example/&target=x".into(),
            false,
            400,
        ),
        (
            "POST",
            "/webmention".into(),
            "application/x-www-form-urlencoded",
            format!("source={note}&target={note}"),
            false,
            400,
        ),
        (
            "POST",
            "/webmention".into(),
            "application/x-www-form-urlencoded",
            "source=javascript:alert(1)//&target=x".into(),
            false,
            400,
        ),
        (
            "POST",
            "/webmention".into(),
            "application/x-www-form-urlencoded",
            big.clone(),
            false,
            413,
        ),
        (
            "POST",
            "/oauth/token".into(),
            "application/x-www-form-urlencoded",
            "grant_type=authorization_code&code=x&code_verifier=y".into(),
            false,
            400,
        ),
        (
            "POST",
            "/oauth/register".into(),
            "application/json",
            r#"{"client_name":"x","redirect_uris":["javascript:alert(1)"]}"#.into(),
            false,
            400,
        ),
        (
            "GET",
            "/objects/does-not-exist".into(),
            "",
            String::new(),
            false,
            404,
        ),
        (
            "GET",
            "/private/not-a-token".into(),
            "",
            String::new(),
            false,
            401,
        ),
        (
            "GET",
            "/webmention/not-a-token".into(),
            "",
            String::new(),
            false,
            404,
        ),
        (
            "GET",
            "/mirror?id=javascript:alert(1)".into(),
            "",
            String::new(),
            false,
            404,
        ),
    ];
    for (method, path, content_type, body, bearer, expected) in cases {
        let mut request = server
            .client
            .request(method.parse().unwrap(), server.url(&path))
            .body(body);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        if bearer {
            request = request.bearer_auth(&token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
    }
    let after = (
        counts(&server),
        server.db.count("webmentions"),
        server.db.count("jobs"),
    );
    assert_eq!(after, before, "nothing was stored");
    assert_healthy(&server).await;
}

// Found by fuzzing (12): a source page with `<base href>` panicked the
// verification job.

#[tokio::test]
async fn a_source_with_a_base_element_is_verified() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let note = alice_public_note(&server).await;
    let site = Attacker::start().await;
    site.page(
        "/post",
        &format!(
            r#"<!doctype html><head><base href="/notes/"></head><article class="h-entry">
<a class="p-author h-card" href="/">Sam</a>
<div class="e-content">a reply to <a href="{note}">this</a></div></article>"#
        ),
    );
    let status = settled(
        &server,
        send_webmention(&server, &site.url("/post"), &note).await,
    )
    .await;
    assert_eq!(status["status"], "verified", "{status}");
    assert_healthy(&server).await;
}
