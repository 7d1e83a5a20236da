//! `post_activity`: signed deliveries, statuses and Retry-After.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::StatusCode;

use super::server::{Reply, TestServer, redirect, reply};
use super::{USER_AGENT, assert_signed, fetcher, signer};
use crate::federation::ACTIVITY_JSON;
use crate::federation::fetch::PostOutcome;

#[tokio::test]
async fn post_activity_is_signed_with_digest_and_content_type() {
    let server = TestServer::start(|_| reply("202 Accepted", &[], b"")).await;
    let body = br#"{"type":"Create","id":"https://estuary.test/activities/1"}"#.to_vec();

    let outcome = fetcher(true)
        .post_activity(&server.url("/users/bob/inbox"), body.clone(), &signer())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        PostOutcome {
            status: StatusCode::ACCEPTED,
            retry_after: None
        }
    );

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/users/bob/inbox");
    assert_eq!(request.body, body);
    assert_eq!(request.header("content-type"), Some(ACTIVITY_JSON));
    assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    let digest = format!("SHA-256={}", BASE64.encode(openssl::sha::sha256(&body)));
    assert_eq!(request.header("digest"), Some(digest.as_str()));
    assert_signed(request, "(request-target) host date digest content-type");
}

#[tokio::test]
async fn post_activity_reports_status_and_retry_after() {
    let in_five_minutes = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(300));
    let server = TestServer::start(move |seen| match seen.target.as_str() {
        "/limited" => reply(
            "429 Too Many Requests",
            &[("Retry-After", "120")],
            b"slow down",
        ),
        "/maintenance" => reply(
            "503 Service Unavailable",
            &[("Retry-After", &in_five_minutes)],
            b"",
        ),
        "/moved" => redirect("301 Moved Permanently", "/elsewhere"),
        "/chatty" => Reply::Chunked(vec![b'x'; 1024 * 1024]),
        _ => reply("503 Service Unavailable", &[], b"down"),
    })
    .await;
    let fetcher = fetcher(true);
    let post = async |path: &str| {
        fetcher
            .post_activity(&server.url(path), b"{}".to_vec(), &signer())
            .await
    };

    let limited = post("/limited").await.unwrap();
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.retry_after, Some(Duration::from_secs(120)));

    let maintenance = post("/maintenance").await.unwrap();
    assert_eq!(maintenance.status, StatusCode::SERVICE_UNAVAILABLE);
    let wait = maintenance.retry_after.unwrap();
    assert!(
        wait > Duration::from_secs(290) && wait <= Duration::from_secs(300),
        "{wait:?}"
    );

    let down = post("/down").await.unwrap();
    assert_eq!(
        down,
        PostOutcome {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None
        }
    );

    // Deliveries never follow redirects.
    let before = server.seen().len();
    let moved = post("/moved").await.unwrap();
    assert_eq!(moved.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(server.seen().len() - before, 1);

    // A long response body is cut short, not an error.
    assert_eq!(post("/chatty").await.unwrap().status, StatusCode::OK);
}
