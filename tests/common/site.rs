//! A stand-in IndieWeb site on loopback: it serves an h-card home page and
//! one post whose HTML the test sets, advertises a Webmention endpoint and
//! records what is sent to it. The post can be made to answer 410.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// WebSub pushes received: (X-Hub-Signature, body).
type Pushes = Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>;

#[derive(Clone, Default)]
struct SiteState {
    base: String,
    post_html: Arc<Mutex<String>>,
    gone: Arc<Mutex<bool>>,
    private_notes: Arc<Mutex<bool>>,
    received: Arc<Mutex<Vec<(String, String)>>>,
    /// WebSub: whether the callback echoes challenges, and what it got.
    echo_challenges: Arc<Mutex<bool>>,
    pushes: Pushes,
}

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
            .route("/webmention", post(record))
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
        format!(
            r#"<!doctype html><html><head><title>A reply</title></head><body>
<article class="h-entry">
  <a class="p-author h-card" href="{base}/">Sam Site</a>
  <a class="u-url" href="{base}/post">permalink</a>
  <p>In reply to <a class="u-in-reply-to" href="{in_reply_to}">this</a></p>
  <div class="e-content">{content}</div>
  <time class="dt-published" datetime="2026-11-21T10:00:00Z">today</time>
</article></body></html>"#,
            base = self.base
        )
    }

    /// Declares on the home page that the site accepts private notes.
    pub fn accept_private_notes(&self) {
        *self.state.private_notes.lock().unwrap() = true;
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
}

async fn home(State(state): State<SiteState>) -> Response {
    let declaration = if *state.private_notes.lock().unwrap() {
        r#"<link rel="private-notes" href="/">"#
    } else {
        ""
    };
    let html = format!(
        r#"<!doctype html><html><head>{declaration}</head><body><div class="h-card"><a class="u-url u-uid p-name" href="{0}/">Sam Site</a><img class="u-photo" src="{0}/me.jpg" alt=""></div></body></html>"#,
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

async fn record(
    State(state): State<SiteState>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> StatusCode {
    let source = form.get("source").cloned().unwrap_or_default();
    let target = form.get("target").cloned().unwrap_or_default();
    state.received.lock().unwrap().push((source, target));
    StatusCode::ACCEPTED
}

async fn websub_verify(
    State(state): State<SiteState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
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
    headers: axum::http::HeaderMap,
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
