//! `GET /healthz`: 200 while the database answers and accepts writes, 503
//! (with `Retry-After`) otherwise.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{HeaderName, RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;

/// How long the health check waits for the database.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn healthz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database unavailable");
            unavailable().into_response()
        }
        Err(_) => {
            tracing::warn!("health check: database did not answer in time");
            unavailable().into_response()
        }
    }
}

fn unavailable() -> (StatusCode, [(HeaderName, &'static str); 1], Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(RETRY_AFTER, "5")],
        Json(json!({ "status": "unavailable" })),
    )
}
