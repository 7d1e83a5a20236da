//! The OAuth 2 flow end to end with a real HTTP client: register, authorize
//! with PKCE (login, consent), exchange the code, post, revoke, refused.

mod common;

use common::TestServer;
use estuary::domain::oauth::s256;
use serde_json::{Value, json};

const REDIRECT: &str = "https://app.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

async fn server_with_alice() -> TestServer {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    estuary::domain::oauth::set_password(&server.state.store, "alice", "correct horse".into())
        .await
        .unwrap();
    server
}

async fn register(server: &TestServer) -> String {
    let response = server
        .client
        .post(server.url("/oauth/register"))
        .json(&json!({ "client_name": "Test App", "redirect_uris": [REDIRECT] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("client_secret").is_none(), "a public client");
    body["client_id"].as_str().unwrap().to_owned()
}

fn authorize_params(client_id: &str, scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", scope.into()),
        ("state", "xyz".into()),
        ("code_challenge", s256(VERIFIER)),
        ("code_challenge_method", "S256".into()),
    ]
}

/// Hidden `consent` value of the consent page.
fn consent_token(html: &str) -> String {
    let marker = r#"name="consent" value=""#;
    let start = html.find(marker).expect("consent form") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Logs in and consents; returns the `code` from the redirect.
async fn authorize(server: &TestServer, client_id: &str, scope: &str) -> String {
    let params = authorize_params(client_id, scope);
    let login_page = server
        .client
        .get(server.url("/oauth/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(login_page.status(), 200);
    let html = login_page.text().await.unwrap();
    assert!(html.contains("Test App") && html.contains(r#"name="password""#));

    let mut form = params.clone();
    form.push(("username", "alice".into()));
    form.push(("password", "correct horse".into()));
    let consent_page = server
        .client
        .post(server.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(consent_page.status(), 200);
    assert_eq!(consent_page.headers()["x-frame-options"], "DENY");
    let html = consent_page.text().await.unwrap();
    assert!(html.contains("Allow Test App?"));

    let decision = server
        .client
        .post(server.url("/oauth/authorize/consent"))
        .form(&[
            ("consent", consent_token(&html)),
            ("decision", "allow".into()),
        ])
        .send()
        .await
        .unwrap();
    assert!(decision.status().is_redirection());
    let location = url::Url::parse(decision.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "xyz");
    query["code"].clone()
}

async fn exchange(
    server: &TestServer,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    server
        .client
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

async fn post_note(server: &TestServer, token: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/users/alice/outbox"))
        .bearer_auth(token)
        .json(&json!({ "type": "Note", "content": "<p>from the app</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"] }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn register_authorize_exchange_post_revoke() {
    let server = server_with_alice().await;
    let metadata: Value = server
        .get("/.well-known/oauth-authorization-server", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], server.base_url);
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata["registration_endpoint"],
        server.url("/oauth/register")
    );

    let client_id = register(&server).await;
    let code = authorize(&server, &client_id, "read write").await;
    let response = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "read write");
    assert!(token["expires_in"].as_i64().unwrap() > 0);
    let access = token["access_token"].as_str().unwrap();

    assert_eq!(post_note(&server, access).await.status(), 201);
    let stored = server.db.texts("SELECT token_hash AS v FROM tokens");
    assert!(
        stored.iter().all(|h| h.as_deref() != Some(access)),
        "stored hashed"
    );

    let revoked = server
        .client
        .post(server.url("/oauth/revoke"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let refused = post_note(&server, access).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_wrong_verifier_and_a_reused_code_are_refused() {
    let server = server_with_alice().await;
    let client_id = register(&server).await;

    let code = authorize(&server, &client_id, "read write").await;
    let wrong = exchange(&server, &client_id, &code, &"x".repeat(43)).await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let code = authorize(&server, &client_id, "read write").await;
    let first = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(first.status(), 200);
    let access = first.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // Reusing a code revokes what it gave (RFC 6749 §4.1.2).
    assert_eq!(post_note(&server, &access).await.status(), 401);
}

#[tokio::test]
async fn a_read_token_cannot_post() {
    let server = server_with_alice().await;
    let client_id = register(&server).await;
    let code = authorize(&server, &client_id, "read").await;
    let token: Value = exchange(&server, &client_id, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let before = server.db.count("activities");
    let refused = post_note(&server, access).await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    assert_eq!(server.db.count("activities"), before);
    let inbox = server
        .client
        .get(server.url("/users/alice/inbox"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 200);
}

#[tokio::test]
async fn unregistered_redirects_wrong_passwords_and_refusals() {
    let server = server_with_alice().await;
    let client_id = register(&server).await;

    // A redirect URI that was not registered: an error page, no redirect.
    let mut params = authorize_params(&client_id, "read");
    params[2].1 = "https://evil.example/steal".into();
    let response = server
        .client
        .get(server.url("/oauth/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());

    // An unknown client: the same.
    let params = authorize_params("no-such-client", "read");
    let response = server
        .client
        .get(server.url("/oauth/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // No PKCE: sent back to the client with an error.
    let mut params = authorize_params(&client_id, "read");
    params.retain(|(k, _)| !k.starts_with("code_challenge"));
    let response = server
        .client
        .get(server.url("/oauth/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=invalid_request")
    );

    // A wrong password: the form again, 401, no grant.
    let mut form = authorize_params(&client_id, "read");
    form.push(("username", "alice".into()));
    form.push(("password", "wrong".into()));
    let response = server
        .client
        .post(server.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("wrong"));
    assert_eq!(server.db.count("oauth_grants"), 0);

    // Denying consent sends access_denied back.
    let mut form = authorize_params(&client_id, "read");
    form.push(("username", "alice".into()));
    form.push(("password", "correct horse".into()));
    let html = server
        .client
        .post(server.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = consent_token(&html);
    let denied = server
        .client
        .post(server.url("/oauth/authorize/consent"))
        .form(&[("consent", consent.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    assert!(
        denied.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=access_denied")
    );
    // The consent cannot be turned around afterwards.
    let late = server
        .client
        .post(server.url("/oauth/authorize/consent"))
        .form(&[("consent", consent.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 400);

    // Registering a plain-http, non-loopback redirect is refused.
    let response = server
        .client
        .post(server.url("/oauth/register"))
        .json(&json!({ "redirect_uris": ["http://app.example/cb"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_redirect_uri"
    );
}

#[tokio::test]
async fn user_passwd_reads_the_password_from_stdin() {
    let db = common::TestDb::new();
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_estuary"))
            .args(args)
            .current_dir(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(run(&["user", "add", "alice"], "").status.success());
    let set = run(&["user", "passwd", "alice"], "s3cret words\n");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let hash = db.texts("SELECT password_hash AS v FROM accounts WHERE username = 'alice'");
    let hash = hash[0].clone().unwrap();
    assert!(hash.starts_with("$argon2"), "{hash}");
    assert!(!hash.contains("s3cret"));
    let empty = run(&["user", "passwd", "alice"], "\n");
    assert!(!empty.status.success());
    let nobody = run(&["user", "passwd", "nobody"], "x\n");
    assert!(!nobody.status.success());
    assert_eq!(String::from_utf8_lossy(&nobody.stderr).lines().count(), 1);
}

/// Posts the login form as `username`/`password` from `address` (sent as
/// `X-Forwarded-For`, which the server believes from a loopback peer).
async fn try_login(
    server: &TestServer,
    client_id: &str,
    username: &str,
    password: &str,
    address: &str,
) -> reqwest::Response {
    let mut form = authorize_params(client_id, "read");
    form.push(("username", username.into()));
    form.push(("password", password.into()));
    server
        .client
        .post(server.url("/oauth/authorize"))
        .header("X-Forwarded-For", address)
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_address() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.login_max_failures = 3;
    })
    .await;
    server.add_user("alice").await;
    server.add_user("bob").await;
    estuary::domain::oauth::set_password(&server.state.store, "alice", "correct horse".into())
        .await
        .unwrap();
    let client_id = register(&server).await;

    for n in 0..3 {
        let response = try_login(&server, &client_id, "alice", "wrong", "203.0.113.1").await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    let throttled = try_login(&server, &client_id, "alice", "wrong", "203.0.113.1").await;
    assert_eq!(throttled.status(), 429);
    let wait: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    // Per account: even the right password from elsewhere waits now.
    let elsewhere = try_login(
        &server,
        &client_id,
        "alice",
        "correct horse",
        "198.51.100.9",
    )
    .await;
    assert_eq!(elsewhere.status(), 429);
    // Per address: that address cannot move on to another account.
    let other_account = try_login(&server, &client_id, "bob", "guess", "203.0.113.1").await;
    assert_eq!(other_account.status(), 429);
    // Another address and account are not affected.
    let fresh = try_login(&server, &client_id, "bob", "guess", "198.51.100.9").await;
    assert_eq!(fresh.status(), 401);
    assert_eq!(server.db.count("oauth_grants"), 0, "no grant was made");
}
