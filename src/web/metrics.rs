//! `GET /metrics`: Prometheus text format, served only when the operator
//! turned it on (`ESTUARY_METRICS=true`); otherwise 404, like any path.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use crate::store::{StoreError, jobs};

pub async fn metrics(State(state): State<AppState>) -> Result<Response, WebError> {
    if !state.config.metrics {
        return Err(WebError::not_found());
    }
    let depth = state
        .store
        .run(|conn| Ok::<_, StoreError>(jobs::count_by_kind_and_status(conn)?))
        .await
        .map_err(WebError::internal)?;
    let text = state.fed.metrics.render(&depth);
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
