//! A stand-in IndieWeb site on loopback: it serves an h-card home page and
//! one post whose HTML the test sets, advertises a Webmention endpoint and
//! records what is sent to it. The post can be made to answer 410.
//!
//! It is also a small but real site side of Private Webmention: a token
//! endpoint that mints and redeems codes, a private post readable only with
//! a token it granted, a Webmention endpoint that redeems the code of a
//! Private Webmention at the sender's token endpoint and reads the private
//! source with the token, a ticket endpoint that redeems tickets (Ticket
//! Auth), a follow post (`u-follow-of`) and a WebSub subscriber (callback).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// WebSub pushes received: (X-Hub-Signature, body).
type Pushes = Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>;

/// What the site's Webmention endpoint does with a Private Webmention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PrivateMode {
    /// Redeem the code and read the source (what a real site does).
    #[default]
    Redeem,
    /// Answer 400 to Webmentions that carry a code.
    Refuse,
    /// Accept them (202) but never redeem the code.
    Ignore,
}

/// A private note the site read: (source, target, status, HTML).
#[derive(Clone, Debug)]
pub struct Collected {
    pub source: String,
    pub target: String,
    pub status: u16,
    pub html: String,
    /// The token the site got for it.
    pub token: String,
}

#[derive(Clone, Default)]
struct SiteState {
    base: String,
    post_html: Arc<Mutex<String>>,
    gone: Arc<Mutex<bool>>,
    received: Arc<Mutex<Vec<(String, String)>>>,
    /// Private Webmentions received: the full form.
    private_received: Arc<Mutex<Vec<HashMap<String, String>>>>,
    private_mode: Arc<Mutex<PrivateMode>>,
    collected: Arc<Mutex<Vec<Collected>>>,
    /// Token endpoint: codes minted and not redeemed yet; tokens granted.
    codes: Arc<Mutex<Vec<String>>>,
    tokens: Arc<Mutex<Vec<String>>>,
    refuse_codes: Arc<Mutex<bool>>,
    /// Requests the token endpoint got.
    token_requests: Arc<Mutex<usize>>,
    /// The private post: its HTML, and whether it refuses even good tokens.
    private_html: Arc<Mutex<String>>,
    private_gone: Arc<Mutex<bool>>,
    private_always_401: Arc<Mutex<bool>>,
    /// Where the private post's 401 says the token endpoint is.
    token_endpoint: Arc<Mutex<Option<String>>>,
    /// Ticket Auth: tickets received (the form), whether to redeem them, and
    /// the tokens got for them: (resource, token).
    tickets: Arc<Mutex<Vec<HashMap<String, String>>>>,
    hold_tickets: Arc<Mutex<bool>>,
    feed_tokens: Arc<Mutex<Vec<(String, String)>>>,
    /// WebSub: whether the callback echoes challenges, and what it got.
    echo_challenges: Arc<Mutex<bool>>,
    pushes: Pushes,
}

/// The realm of the site's private pages.
pub const SITE_REALM: &str = "sam-site";

pub struct Site {
    pub base: String,
    state: SiteState,
}

impl Site {
    pub async fn start() -> Site {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = SiteState {
            base: base.clone(),
            echo_challenges: Arc::new(Mutex::new(true)),
            ..SiteState::default()
        };
        let app = Router::new()
            .route("/", get(home))
            .route("/post", get(page))
            .route("/private-post", get(private_post))
            .route("/webmention", post(record))
            .route("/token", post(token_endpoint))
            .route("/ticket", post(ticket_endpoint))
            .route("/websub-callback", get(websub_verify).post(websub_push))
            .with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Site { base, state }
    }

    pub fn post_url(&self) -> String {
        format!("{}/post", self.base)
    }

    /// The host (with port): the proxy actor's name.
    pub fn domain(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    pub fn set_post(&self, html: &str) {
        *self.state.post_html.lock().unwrap() = html.to_owned();
    }

    /// An h-entry replying to `in_reply_to` with `content` (HTML).
    pub fn reply_html(&self, in_reply_to: &str, content: &str) -> String {
        self.entry_html("/post", in_reply_to, content, &[])
    }

    /// An h-entry at `path` replying to `in_reply_to`, with person tags
    /// (`p-category h-card`) for `people`.
    pub fn entry_html(
        &self,
        path: &str,
        in_reply_to: &str,
        content: &str,
        people: &[&str],
    ) -> String {
        let tags: String = people
            .iter()
            .map(|url| format!(r#"<a class="p-category h-card" href="{url}">them</a> "#))
            .collect();
        format!(
            r#"<!doctype html><html><head><title>A reply</title></head><body>
<article class="h-entry">
  <a class="p-author h-card" href="{base}/">Sam Site</a>
  <a class="u-url" href="{base}{path}">permalink</a>
  <p>In reply to <a class="u-in-reply-to" href="{in_reply_to}">this</a></p>
  <div class="e-content">{content}</div>
  {tags}
  <time class="dt-published" datetime="2026-11-21T10:00:00Z">today</time>
</article></body></html>"#,
            base = self.base
        )
    }

    /// A follow post: an h-entry whose `u-follow-of` names `person_url`.
    pub fn follow_html(&self, person_url: &str) -> String {
        format!(
            r#"<!doctype html><html><head><title>Following</title></head><body>
<article class="h-entry">
  <a class="p-author h-card" href="{base}/">Sam Site</a>
  <a class="u-url" href="{base}/post">permalink</a>
  <p>Following <a class="u-follow-of" href="{person_url}">them</a></p>
  <time class="dt-published" datetime="2026-11-29T10:00:00Z">today</time>
</article></body></html>"#,
            base = self.base
        )
    }

    pub fn delete_post(&self) {
        *self.state.gone.lock().unwrap() = true;
    }

    pub fn callback_url(&self) -> String {
        format!("{}/websub-callback", self.base)
    }

    /// Makes the callback refuse to confirm subscriptions.
    pub fn stop_echoing(&self) {
        *self.state.echo_challenges.lock().unwrap() = false;
    }

    /// WebSub content distributions: (X-Hub-Signature, body).
    pub fn pushes(&self) -> Vec<(Option<String>, Vec<u8>)> {
        self.state.pushes.lock().unwrap().clone()
    }

    /// An h-entry replying to a room (`u-in-reply-to` = its URL).
    pub fn room_post_html(&self, room_url: &str, content: &str) -> String {
        self.reply_html(room_url, content)
    }

    /// Webmentions received: (source, target).
    pub fn received(&self) -> Vec<(String, String)> {
        self.state.received.lock().unwrap().clone()
    }

    // --- Private Webmention, receiving side --------------------------------

    pub fn set_private_mode(&self, mode: PrivateMode) {
        *self.state.private_mode.lock().unwrap() = mode;
    }

    /// The forms of the Private Webmentions received.
    pub fn private_received(&self) -> Vec<HashMap<String, String>> {
        self.state.private_received.lock().unwrap().clone()
    }

    /// The private notes the site collected with a token.
    pub fn collected(&self) -> Vec<Collected> {
        self.state.collected.lock().unwrap().clone()
    }

    // --- Ticket Auth, reading side -------------------------------------------

    /// Keep tickets without redeeming them.
    pub fn hold_tickets(&self) {
        *self.state.hold_tickets.lock().unwrap() = true;
    }

    /// The tickets received: their forms (`ticket`, `resource`, `subject`, `iss`).
    pub fn tickets(&self) -> Vec<HashMap<String, String>> {
        self.state.tickets.lock().unwrap().clone()
    }

    /// Tokens got for tickets: (resource, token).
    pub fn feed_tokens(&self) -> Vec<(String, String)> {
        self.state.feed_tokens.lock().unwrap().clone()
    }

    // --- Private Webmention, sending side ----------------------------------

    pub fn private_post_url(&self) -> String {
        format!("{}/private-post", self.base)
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }

    /// Sets the private post (readable only with a token from this site).
    pub fn set_private_post(&self, html: &str) {
        *self.state.private_html.lock().unwrap() = html.to_owned();
    }

    pub fn delete_private_post(&self) {
        *self.state.private_gone.lock().unwrap() = true;
    }

    /// The private post answers 401 even with a good token.
    pub fn refuse_every_token(&self) {
        *self.state.private_always_401.lock().unwrap() = true;
    }

    /// The token endpoint refuses every code.
    pub fn refuse_codes(&self) {
        *self.state.refuse_codes.lock().unwrap() = true;
    }

    /// Names another token endpoint in the private post's 401.
    pub fn advertise_token_endpoint(&self, url: &str) {
        *self.state.token_endpoint.lock().unwrap() = Some(url.to_owned());
    }

    /// A fresh single-use code for the private post.
    pub fn mint_code(&self) -> String {
        let code = format!("code-{}", super::random_suffix());
        self.state.codes.lock().unwrap().push(code.clone());
        code
    }

    /// How many requests the token endpoint got.
    pub fn token_requests(&self) -> usize {
        *self.state.token_requests.lock().unwrap()
    }

    /// Sends a Private Webmention about the private post to `endpoint`.
    pub async fn send_private_webmention(
        &self,
        endpoint: &str,
        target: &str,
        realm: Option<&str>,
    ) -> reqwest::Response {
        let code = self.mint_code();
        let mut form = vec![
            ("source", self.private_post_url()),
            ("target", target.to_owned()),
            ("code", code),
        ];
        if let Some(realm) = realm {
            form.push(("realm", realm.to_owned()));
        }
        reqwest::Client::new()
            .post(endpoint)
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

async fn home(State(state): State<SiteState>) -> Response {
    let html = format!(
        r#"<!doctype html><html><head><link rel="token_endpoint" href="/token"><link rel="ticket_endpoint" href="/ticket"></head><body><div class="h-card"><a class="u-url u-uid p-name" href="{0}/">Sam Site</a><img class="u-photo" src="{0}/me.jpg" alt=""></div></body></html>"#,
        state.base
    );
    let link = format!("<{}/webmention>; rel=\"webmention\"", state.base);
    (
        [("content-type", "text/html".to_owned()), ("link", link)],
        html,
    )
        .into_response()
}

async fn page(State(state): State<SiteState>) -> Response {
    if *state.gone.lock().unwrap() {
        return (StatusCode::GONE, "gone").into_response();
    }
    let html = state.post_html.lock().unwrap().clone();
    let link = format!("<{}/webmention>; rel=\"webmention\"", state.base);
    (
        [("content-type", "text/html".to_owned()), ("link", link)],
        html,
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

async fn private_post(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    if *state.private_gone.lock().unwrap() {
        return (StatusCode::GONE, "gone").into_response();
    }
    let granted = bearer(&headers).is_some_and(|t| state.tokens.lock().unwrap().contains(&t));
    if !granted || *state.private_always_401.lock().unwrap() {
        let endpoint = state
            .token_endpoint
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(format!("{}/token", state.base));
        return (
            StatusCode::UNAUTHORIZED,
            [
                ("www-authenticate", format!("Bearer realm=\"{SITE_REALM}\"")),
                ("link", format!("<{endpoint}>; rel=\"token_endpoint\"")),
            ],
            "a token is required",
        )
            .into_response();
    }
    let html = state.private_html.lock().unwrap().clone();
    ([("content-type", "text/html")], html).into_response()
}

async fn token_endpoint(
    State(state): State<SiteState>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    *state.token_requests.lock().unwrap() += 1;
    let code = form.get("code").cloned().unwrap_or_default();
    let known = {
        let mut codes = state.codes.lock().unwrap();
        let at = codes.iter().position(|c| *c == code);
        at.map(|at| codes.remove(at)).is_some()
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code")
        || !known
        || *state.refuse_codes.lock().unwrap()
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let token = format!("tok-{}", super::random_suffix());
    state.tokens.lock().unwrap().push(token.clone());
    axum::Json(serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
    .into_response()
}

async fn record(
    State(state): State<SiteState>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> StatusCode {
    let source = form.get("source").cloned().unwrap_or_default();
    let target = form.get("target").cloned().unwrap_or_default();
    let Some(code) = form.get("code").cloned() else {
        state.received.lock().unwrap().push((source, target));
        return StatusCode::ACCEPTED;
    };
    state.private_received.lock().unwrap().push(form.clone());
    let mode = *state.private_mode.lock().unwrap();
    match mode {
        PrivateMode::Refuse => return StatusCode::BAD_REQUEST,
        PrivateMode::Ignore => return StatusCode::ACCEPTED,
        PrivateMode::Redeem => {}
    }
    // As a real receiver: later, not while the sender waits.
    tokio::spawn(async move {
        if let Some(collected) = collect(&source, &target, &code).await {
            state.collected.lock().unwrap().push(collected);
        }
    });
    StatusCode::ACCEPTED
}

/// The receiving side of Private Webmention: discover the token endpoint
/// from the source's 401, redeem the code, read the source with the token.
async fn collect(source: &str, target: &str, code: &str) -> Option<Collected> {
    let client = reqwest::Client::new();
    let probe = client.get(source).send().await.ok()?;
    let links: Vec<String> = probe
        .headers()
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::to_owned)
        .collect();
    let endpoint = links
        .iter()
        .find(|l| l.contains("rel=\"token_endpoint\""))?
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    let answer: serde_json::Value = client
        .post(&endpoint)
        .form(&[("grant_type", "authorization_code"), ("code", code)])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let token = answer["access_token"].as_str()?.to_owned();
    let page = client.get(source).bearer_auth(&token).send().await.ok()?;
    let status = page.status().as_u16();
    Some(Collected {
        source: source.to_owned(),
        target: target.to_owned(),
        status,
        html: page.text().await.ok()?,
        token,
    })
}

async fn ticket_endpoint(
    State(state): State<SiteState>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> StatusCode {
    state.tickets.lock().unwrap().push(form.clone());
    if *state.hold_tickets.lock().unwrap() {
        return StatusCode::ACCEPTED;
    }
    tokio::spawn(async move {
        let (Some(ticket), Some(resource), Some(iss)) =
            (form.get("ticket"), form.get("resource"), form.get("iss"))
        else {
            return;
        };
        if let Some(token) = redeem_ticket(iss, ticket).await {
            state
                .feed_tokens
                .lock()
                .unwrap()
                .push((resource.clone(), token));
        }
    });
    StatusCode::ACCEPTED
}

/// Ticket Auth: the token endpoint the issuer names, then the ticket there.
pub async fn redeem_ticket(iss: &str, ticket: &str) -> Option<String> {
    let client = reqwest::Client::new();
    let home = client.get(iss).send().await.ok()?;
    let endpoint = home
        .headers()
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find(|l| l.contains("rel=\"token_endpoint\""))?
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    let answer: serde_json::Value = client
        .post(&endpoint)
        .form(&[("grant_type", "ticket"), ("ticket", ticket)])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    answer["access_token"].as_str().map(str::to_owned)
}

async fn websub_verify(
    State(state): State<SiteState>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    if !*state.echo_challenges.lock().unwrap() {
        return (StatusCode::OK, "no").into_response();
    }
    query
        .get("hub.challenge")
        .cloned()
        .unwrap_or_default()
        .into_response()
}

async fn websub_push(
    State(state): State<SiteState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let signature = headers
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state
        .pushes
        .lock()
        .unwrap()
        .push((signature, body.to_vec()));
    StatusCode::OK
}
