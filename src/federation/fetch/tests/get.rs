//! `get_json`: the address guard, signing, redirects, size and time limits.

use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::net::TcpListener;
use url::Url;

use super::server::{Reply, TestServer, json, object_of_len, redirect, reply, settle};
use super::{USER_AGENT, assert_signed, fetcher, signer};
use crate::federation::fetch::{ACCEPT_ACTIVITY, FetchError, FetchLimits, Fetcher};

#[tokio::test]
async fn literal_loopback_is_refused_without_contact() {
    let server = TestServer::start(|_| json("{}")).await;
    let fetcher = fetcher(false);

    let err = fetcher
        .get_json(&server.url("/users/bob"), Some(&signer()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::ForbiddenAddress(host) if host == "127.0.0.1"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let err = fetcher
        .post_activity(&server.url("/inbox"), b"{}".to_vec(), &signer())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress(_)), "{err:?}");

    settle().await;
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn name_resolving_to_loopback_is_refused_without_contact() {
    let server = TestServer::start(|_| json("{}")).await;
    let fetcher = fetcher(false);

    let err = fetcher
        .get_json(&server.localhost_url("/users/bob"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::ForbiddenAddress(host) if host == "localhost"),
        "{err:?}"
    );
    let err = fetcher
        .post_activity(&server.localhost_url("/inbox"), b"{}".to_vec(), &signer())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::ForbiddenAddress(host) if host == "localhost"),
        "{err:?}"
    );

    settle().await;
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn signed_get_returns_the_object() {
    let server =
        TestServer::start(|_| json(r#"{"id":"https://remote.test/users/bob","type":"Person"}"#))
            .await;

    let value = fetcher(true)
        .get_json(&server.url("/users/bob?x=1#main-key"), Some(&signer()))
        .await
        .unwrap();
    assert_eq!(value["type"], "Person");

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.target, "/users/bob?x=1");
    assert_eq!(request.header("accept"), Some(ACCEPT_ACTIVITY));
    assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    assert_eq!(request.header("host"), Some(server.host().as_str()));
    assert!(request.header("date").is_some());
    assert_signed(request, "(request-target) host date");
}

#[tokio::test]
async fn localhost_is_reachable_when_private_addresses_are_allowed() {
    let server = TestServer::start(|_| json(r#"{"ok":true}"#)).await;
    let value = fetcher(true)
        .get_json(&server.localhost_url("/"), None)
        .await
        .unwrap();
    assert_eq!(value["ok"], true);
}

#[tokio::test]
async fn unsigned_get_sends_no_signature() {
    let server = TestServer::start(|_| json("{}")).await;
    fetcher(true)
        .get_json(&server.url("/"), None)
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].header("signature"), None);
    assert_eq!(seen[0].header("accept"), Some(ACCEPT_ACTIVITY));
}

#[tokio::test]
async fn body_must_be_a_json_object() {
    let server = TestServer::start(|seen| match seen.target.as_str() {
        "/array" => json("[1,2]"),
        "/string" => json("\"hi\""),
        _ => json("<html>not json</html>"),
    })
    .await;
    let fetcher = fetcher(true);
    for path in ["/array", "/string", "/html"] {
        let err = fetcher.get_json(&server.url(path), None).await.unwrap_err();
        assert!(matches!(err, FetchError::NotJson(_)), "{path}: {err:?}");
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn error_statuses_are_reported() {
    let server = TestServer::start(|seen| match seen.target.as_str() {
        "/gone" => reply("410 Gone", &[], b"{}"),
        "/busy" => reply("503 Service Unavailable", &[], b""),
        "/slow-down" => reply("429 Too Many Requests", &[("Retry-After", "5")], b""),
        _ => reply("404 Not Found", &[], b"nothing"),
    })
    .await;
    let fetcher = fetcher(true);
    for (path, code, retryable) in [
        ("/gone", 410, false),
        ("/busy", 503, true),
        ("/slow-down", 429, true),
        ("/missing", 404, false),
    ] {
        let err = fetcher.get_json(&server.url(path), None).await.unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{path}");
        match err {
            FetchError::Status { status } => assert_eq!(status.as_u16(), code, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
}

/// `/hops/N` redirects to `/hops/N-1` (with a changing status and both
/// relative and absolute `Location`s); `/hops/0` answers.
async fn redirect_chain_server() -> TestServer {
    TestServer::start(|seen| {
        let n: usize = seen
            .target
            .strip_prefix("/hops/")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if n == 0 {
            return json(r#"{"type":"Note"}"#);
        }
        let status = [
            "301 Moved Permanently",
            "302 Found",
            "303 See Other",
            "307 Temporary Redirect",
            "308 Permanent Redirect",
        ][n % 5];
        let location = if n.is_multiple_of(2) {
            format!("/hops/{}", n - 1)
        } else {
            format!(
                "http://{}/hops/{}#frag",
                seen.header("host").unwrap(),
                n - 1
            )
        };
        redirect(status, &location)
    })
    .await
}

#[tokio::test]
async fn redirects_are_followed_and_each_hop_is_signed_for_itself() {
    let server = redirect_chain_server().await;
    let value = fetcher(true)
        .get_json(&server.url("/hops/3"), Some(&signer()))
        .await
        .unwrap();
    assert_eq!(value["type"], "Note");

    let seen = server.seen();
    let targets: Vec<&str> = seen.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(targets, ["/hops/3", "/hops/2", "/hops/1", "/hops/0"]);
    for request in &seen {
        assert_eq!(request.method, "GET");
        assert_signed(request, "(request-target) host date");
    }
}

#[tokio::test]
async fn redirects_stop_after_the_limit() {
    let server = redirect_chain_server().await;
    let fetcher = fetcher(true);

    // Five redirects is the default limit: still fine.
    fetcher
        .get_json(&server.url("/hops/5"), None)
        .await
        .unwrap();

    let before = server.seen().len();
    let err = fetcher
        .get_json(&server.url("/hops/6"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects), "{err:?}");
    // The sixth redirect is not followed.
    assert_eq!(server.seen().len() - before, 6);
}

#[tokio::test]
async fn redirect_to_another_scheme_is_refused() {
    let server = TestServer::start(|seen| {
        redirect(
            "302 Found",
            &format!("ftp://{}/file", seen.header("host").unwrap()),
        )
    })
    .await;
    let err = fetcher(true)
        .get_json(&server.url("/start"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::InvalidUrl(_)), "{err:?}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn redirect_without_location_is_a_status() {
    let server = TestServer::start(|_| reply("302 Found", &[], b"")).await;
    let err = fetcher(true)
        .get_json(&server.url("/"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status } if status == StatusCode::FOUND),
        "{err:?}"
    );
}

#[tokio::test]
async fn body_size_is_capped_while_streaming() {
    let limit = FetchLimits::default().max_json_bytes;
    let server = TestServer::start(move |seen| match seen.target.as_str() {
        "/huge" => Reply::Chunked(vec![b' '; 2 * 1024 * 1024]),
        "/exact" => Reply::Chunked(object_of_len(limit)),
        "/one-over" => Reply::Chunked(object_of_len(limit + 1)),
        _ => reply("200 OK", &[], &object_of_len(limit + 1)),
    })
    .await;
    let fetcher = fetcher(true);

    let err = fetcher
        .get_json(&server.url("/huge"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge), "{err:?}");

    let value = fetcher.get_json(&server.url("/exact"), None).await.unwrap();
    assert_eq!(value["pad"].as_str().unwrap().len(), limit - 10);

    let err = fetcher
        .get_json(&server.url("/one-over"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge), "{err:?}");

    // Announced by Content-Length: refused before reading.
    let err = fetcher
        .get_json(&server.url("/declared"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn silent_server_times_out() {
    let server = TestServer::start(|_| Reply::Silent).await;
    let limits = FetchLimits {
        connect_timeout: Duration::from_millis(300),
        total_timeout: Duration::from_millis(300),
        ..FetchLimits::default()
    };
    let fetcher = Fetcher::new(true, limits, USER_AGENT).unwrap();

    let started = Instant::now();
    let err = fetcher.get_json(&server.url("/"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let err = fetcher
        .post_activity(&server.url("/inbox"), b"{}".to_vec(), &signer())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn refused_connection_is_a_retryable_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = Url::parse(&format!("http://{addr}/")).unwrap();
    let err = fetcher(true).get_json(&url, None).await.unwrap_err();
    assert!(matches!(err, FetchError::Connect(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn unresolvable_name_is_a_dns_error() {
    // A 70-character label cannot be looked up at all, and `.invalid` never resolves.
    let url = Url::parse(&format!("http://{}.invalid/", "a".repeat(70))).unwrap();
    let err = fetcher(false).get_json(&url, None).await.unwrap_err();
    assert!(matches!(err, FetchError::Dns(_)), "{err:?}");
    assert!(err.is_retryable());
}
