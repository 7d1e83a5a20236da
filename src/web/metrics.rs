//! `GET /metrics`: Prometheus text format, served only when the operator
//! turned it on (`ESTUARY_METRICS=true`); otherwise 404, like any path.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use crate::metrics::Backlog;
use crate::store::{StoreError, jobs};

pub async fn metrics(State(state): State<AppState>) -> Result<Response, WebError> {
    if !state.config.metrics {
        return Err(WebError::not_found());
    }
    let (depth, backlog) = state
        .store
        .run(|conn| {
            let depth = jobs::count_by_kind_and_status(conn)?;
            let now = chrono::Utc::now().naive_utc();
            let (oldest, max_attempts) = jobs::backlog(conn, now)?;
            let backlog = Backlog {
                oldest_age_seconds: oldest
                    .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
                    .unwrap_or(0.0),
                max_attempts: i64::from(max_attempts.unwrap_or(0)),
            };
            Ok::<_, StoreError>((depth, backlog))
        })
        .await
        .map_err(WebError::internal)?;
    let text = state.fed.metrics.render(&depth) + &backlog.render();
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
