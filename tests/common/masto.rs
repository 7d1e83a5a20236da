//! Signing in to the Mastodon client API as an app does: register with
//! `/api/v1/apps`, walk the login and consent pages, read the code from the
//! out-of-band page, exchange it.

use serde_json::{Value, json};

use super::TestServer;

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Creates a local user with a password.
pub async fn add_user_with_password(server: &TestServer, name: &str) {
    server.add_user(name).await;
    estuary::domain::oauth::set_password(&server.state.store, name, format!("{name} pass"))
        .await
        .unwrap();
}

/// `(client_id, client_secret)` of a new app.
pub async fn register_app(server: &TestServer, scopes: &str) -> (String, String) {
    let response = server
        .client
        .post(server.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Test Client"),
            ("redirect_uris", OOB),
            ("scopes", scopes),
            ("website", "https://app.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let app: Value = response.json().await.unwrap();
    (
        app["client_id"].as_str().unwrap().to_owned(),
        app["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// Logs in on the pages and returns the code shown out of band.
pub async fn authorization_code(
    server: &TestServer,
    client_id: &str,
    name: &str,
    scopes: &str,
) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", OOB),
        ("scope", scopes),
    ];
    let page = server
        .client
        .get(server.url("/oauth/authorize/"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the login page");
    let mut form: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
    form.push(("username", name.into()));
    form.push(("password", format!("{name} pass")));
    let consent = server
        .client
        .post(server.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 200, "the consent page");
    let html = consent.text().await.unwrap();
    let marker = r#"name="consent" value=""#;
    let start = html.find(marker).expect("consent form") + marker.len();
    let consent_token = html[start..].split('"').next().unwrap().to_owned();
    let shown = server
        .client
        .post(server.url("/oauth/authorize/consent"))
        .form(&[("consent", consent_token.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200, "the out-of-band page");
    let html = shown.text().await.unwrap();
    assert!(html.contains("Your authorization code"), "{html}");
    let start = html.find("<p>").expect("the code") + 3;
    html[start..]
        .split("</p>")
        .next()
        .unwrap()
        .trim()
        .to_owned()
}

/// A token for local user `name` with `scopes`, as an app gets one.
pub async fn sign_in(server: &TestServer, name: &str, scopes: &str) -> String {
    let (client_id, client_secret) = register_app(server, scopes).await;
    let code = authorization_code(server, &client_id, name, scopes).await;
    let response = server
        .client
        .post(server.url("/oauth/token"))
        .json(&json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": OOB,
            "scope": scopes,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// GET an API path with a token; returns (status, JSON).
pub async fn get(server: &TestServer, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = server.client.get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// POST JSON to an API path with a token; returns (status, JSON).
pub async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> (u16, Value) {
    let response = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Checks every Mastodon entity in a document against its schema.
pub fn assert_entities(kind: &str, value: &Value) {
    let schema = format!("mastodon-{kind}.schema.json");
    match value {
        Value::Array(items) => items.iter().for_each(|i| super::assert_schema(&schema, i)),
        other => super::assert_schema(&schema, other),
    }
}

/// GETs `path` until `done` holds of the JSON (at most `seconds`); returns it.
pub async fn get_until(
    server: &TestServer,
    token: &str,
    path: &str,
    seconds: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let (_, body) = get(server, Some(token), path).await;
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting on {path}: {body:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
