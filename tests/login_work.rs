//! The login form does the same work whoever is named: one argon2
//! verification for a wrong password, for an account without a password
//! and for no account at all, so their answers take the same time. Counted,
//! not timed (timings on a shared machine prove nothing); this file holds a
//! single test so that no other test runs argon2 in this process meanwhile.

mod common;

use common::TestServer;
use estuary::domain::oauth::{argon2_verifications, s256};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn login(server: &TestServer, client_id: &str, username: &str, password: &str, n: u8) -> u16 {
    let form = [
        ("response_type", "code".to_owned()),
        ("client_id", client_id.to_owned()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("scope", "read".to_owned()),
        ("state", "xyz".to_owned()),
        (
            "code_challenge",
            s256("a-verifier-of-forty-three-characters-at-least"),
        ),
        ("code_challenge_method", "S256".to_owned()),
        ("username", username.to_owned()),
        ("password", password.to_owned()),
    ];
    server
        .client
        .post(server.url("/oauth/authorize"))
        .header("X-Forwarded-For", format!("192.0.2.{n}"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_login_runs_one_argon2_verification() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    server.add_user("bob").await; // no password
    estuary::domain::oauth::set_password(&server.state.store, "alice", "correct horse".into())
        .await
        .unwrap();
    let registered: Value = server
        .client
        .post(server.url("/oauth/register"))
        .json(&json!({ "client_name": "Test App", "redirect_uris": [REDIRECT] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let long = "x".repeat(10_000);
    let cases = [
        ("alice", "wrong", 401),
        ("bob", "wrong", 401),
        ("nobody", "wrong", 401),
        ("alice", long.as_str(), 401),
        ("alice", "correct horse", 200),
    ];
    for (n, (username, password, status)) in cases.into_iter().enumerate() {
        let before = argon2_verifications();
        let answered = login(&server, &client_id, username, password, n as u8).await;
        assert_eq!(answered, status, "{username}");
        assert_eq!(
            argon2_verifications() - before,
            1,
            "{username} with a {}-byte password: one argon2 verification",
            password.len()
        );
    }
}
