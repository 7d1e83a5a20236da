//! A stand-in remote server on loopback: it serves actor documents whose
//! inboxes it hosts, records every POST (and the method and path of every
//! request of any kind), and answers with a status (and delay) the test
//! chooses.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

/// What the sink answers to POSTs.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub status: u16,
    pub retry_after: Option<String>,
    pub delay: Duration,
}

/// One POST the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn activity_id(&self) -> String {
        let value: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        value["id"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Clone)]
struct SinkState {
    base: String,
    shared_inboxes: usize,
    public_pem: String,
    received: Arc<Mutex<Vec<Received>>>,
    /// `METHOD /path` of every request that reached the sink.
    requests: Arc<Mutex<Vec<String>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    /// POSTs being answered now, and the most there ever were at once.
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    most_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

pub struct Sink {
    pub base: String,
    state: SinkState,
    key: std::sync::Arc<openssl::pkey::PKey<openssl::pkey::Private>>,
}

impl Sink {
    /// Starts a sink; actors `0..` get shared inboxes `n % shared_inboxes`
    /// (none when 0).
    pub async fn start(shared_inboxes: usize) -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let key =
            openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let public_pem = String::from_utf8(key.public_key_to_pem().unwrap()).unwrap();
        let state = SinkState {
            base: base.clone(),
            shared_inboxes,
            public_pem,
            received: Arc::default(),
            requests: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour {
                status: 202,
                retry_after: None,
                delay: Duration::ZERO,
            })),
            in_flight: Arc::default(),
            most_in_flight: Arc::default(),
        };
        let app = Router::new()
            .route("/actors/{n}", get(actor))
            .route("/inbox/{n}", post(record))
            .route("/shared/{n}", post(record))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                log_request,
            ))
            .with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Sink {
            base,
            state,
            key: std::sync::Arc::new(key),
        }
    }

    pub fn actor_url(&self, n: usize) -> String {
        format!("{}/actors/{n}", self.base)
    }

    /// A signer for actor `n` (all the sink's actors share one key).
    pub fn signer(&self, n: usize) -> estuary::federation::fetch::Signer {
        estuary::federation::fetch::Signer {
            key_id: format!("{}#main-key", self.actor_url(n)),
            key: self.key.clone(),
        }
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// `METHOD /path` of every request so far, whatever it was.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The most POSTs the sink was answering at once (it answers them
    /// all concurrently, each after the behaviour's delay).
    pub fn most_at_once(&self) -> usize {
        self.state
            .most_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// `host:port` of the sink: the domain its actors live on.
    pub fn host(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }
}

async fn log_request(
    State(state): State<SinkState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    state
        .requests
        .lock()
        .unwrap()
        .push(format!("{} {}", request.method(), request.uri().path()));
    next.run(request).await
}

async fn actor(State(state): State<SinkState>, Path(n): Path<usize>) -> Response {
    let id = format!("{}/actors/{n}", state.base);
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": format!("sink{n}"),
        "inbox": format!("{}/inbox/{n}", state.base),
        "followers": format!("{id}/followers"),
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": state.public_pem},
    });
    if state.shared_inboxes > 0 {
        doc["endpoints"] =
            json!({"sharedInbox": format!("{}/shared/{}", state.base, n % state.shared_inboxes)});
    }
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn record(
    State(state): State<SinkState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use std::sync::atomic::Ordering;
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let behaviour = state.behaviour.lock().unwrap().clone();
    if !behaviour.delay.is_zero() {
        tokio::time::sleep(behaviour.delay).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    state.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let status = StatusCode::from_u16(behaviour.status).unwrap();
    match behaviour.retry_after {
        Some(after) => (status, [("retry-after", after)]).into_response(),
        None => status.into_response(),
    }
}
