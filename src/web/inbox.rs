//! `POST` to inboxes: the shared `/inbox` and each local actor's own.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};

use super::AppState;
use super::error::WebError;
use crate::domain::accounts::INSTANCE_ACTOR;
use crate::domain::posts::Applied;
use crate::federation::inbox::{InboxError, InboxTarget, receive};
use crate::federation::verify::SignedRequest;
use crate::metrics::INBOX_REQUESTS;

/// `POST /inbox`
pub async fn shared(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, WebError> {
    accept(&state, InboxTarget::Shared, &method, &uri, &headers, &body).await
}

/// `POST /users/{name}/inbox`, `/rooms/{name}/inbox` and
/// `/sites/{domain}/inbox` (a proxy actor's), by `KIND`.
pub async fn account<const KIND: u8>(
    State(state): State<AppState>,
    Path(name): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, WebError> {
    let owner = match super::collections::owner::<KIND>(&state, &name).await {
        Ok(owner) => owner,
        Err(error) => {
            state.fed.metrics.increment(INBOX_REQUESTS, "not_found");
            return Err(error);
        }
    };
    let target = InboxTarget::Account(Box::new(owner));
    accept(&state, target, &method, &uri, &headers, &body).await
}

/// `POST /actor/inbox`: the instance actor's inbox.
pub async fn instance(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, WebError> {
    let target = InboxTarget::Account(Box::new((*state.fed.instance_actor).clone()));
    debug_assert_eq!(state.fed.instance_actor.username, INSTANCE_ACTOR);
    accept(&state, target, &method, &uri, &headers, &body).await
}

fn is_activity_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get("content-type").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        media.as_str(),
        "application/activity+json" | "application/ld+json" | "application/json"
    )
}

async fn accept(
    state: &AppState,
    target: InboxTarget,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<StatusCode, WebError> {
    let metrics = &state.fed.metrics;
    if !is_activity_json(headers) {
        metrics.increment(INBOX_REQUESTS, "unsupported_media_type");
        return Err(WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/activity+json or application/ld+json",
        ));
    }
    if let Some(refused) = crate::federation::moderation::refusal(&state.fed, headers, body).await?
    {
        metrics.increment(INBOX_REQUESTS, refused.reason());
        return Err(WebError::new(StatusCode::FORBIDDEN, refused.message()));
    }
    let request = SignedRequest {
        method,
        path_and_query: uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/"),
        headers,
        body: Some(body),
    };
    match receive(&state.fed, &target, request).await {
        Ok(applied) => {
            let outcome = match applied {
                Applied::Stored { .. } => "accepted",
                Applied::Replay => "replay",
                Applied::Ignored => "ignored",
            };
            metrics.increment(INBOX_REQUESTS, outcome);
            Ok(StatusCode::ACCEPTED)
        }
        Err(error) => {
            let (status, outcome) = match &error {
                InboxError::BadRequest(_) | InboxError::Digest => {
                    (StatusCode::BAD_REQUEST, "bad_request")
                }
                InboxError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
                InboxError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                InboxError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error"),
            };
            metrics.increment(INBOX_REQUESTS, outcome);
            Err(match error {
                InboxError::Internal(cause) => WebError::internal(cause),
                other => WebError::new(status, other.to_string()),
            })
        }
    }
}
