//! The one error type of the HTTP layer: a status, a message safe to show
//! the caller, and the internal cause, which is logged and never sent.
//!
//! Policy: 4xx carry a precise public message and are logged at `info`;
//! 5xx say only "internal error" and log the cause at `error`, except when
//! the cause is the database being unavailable: that is a 503 with
//! `Retry-After`, so clients and peers come back instead of giving up.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::DomainError;

type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub public: String,
    pub cause: Option<Cause>,
    /// A `WWW-Authenticate` challenge (401 and 403 of bearer auth).
    pub challenge: Option<String>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl WebError {
    pub fn new(status: StatusCode, public: impl Into<String>) -> Self {
        WebError {
            status,
            public: public.into(),
            cause: None,
            challenge: None,
            retry_after: None,
        }
    }

    /// Adds a `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Self {
        self.challenge = Some(challenge.into());
        self
    }

    /// Adds a `Retry-After` header.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(public: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, public)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    pub fn not_acceptable() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "acceptable types: application/activity+json, application/ld+json, text/html",
        )
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        WebError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            public: "internal error".into(),
            cause: Some(cause.into()),
            challenge: None,
            retry_after: None,
        }
    }
}

impl From<DomainError> for WebError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::InvalidName(_) | DomainError::NameTaken(_) | DomainError::Password(_) => {
                WebError::bad_request(error.to_string())
            }
            DomainError::NoSuchUser(_) | DomainError::NoSuchObject(_) => WebError::not_found(),
            DomainError::NotOwner | DomainError::NotMember(_) => {
                WebError::new(StatusCode::FORBIDDEN, error.to_string())
            }
            DomainError::Conflict(_) => WebError::new(StatusCode::CONFLICT, error.to_string()),
            DomainError::Key(_) | DomainError::Store(_) | DomainError::CorruptDocument(_) => {
                WebError::internal(error)
            }
        }
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
const OUTAGE_RETRY_AFTER_SECS: u64 = 5;

/// Whether `cause`, or any error it came from, is the database being
/// unavailable.
fn is_outage(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(cause);
    while let Some(error) = next {
        if let Some(store) = error.downcast_ref::<crate::store::StoreError>()
            && store.is_outage()
        {
            return true;
        }
        if let Some(crate::domain::DomainError::Store(store)) =
            error.downcast_ref::<crate::domain::DomainError>()
            && store.is_outage()
        {
            return true;
        }
        if let Some(query) = error.downcast_ref::<diesel::result::Error>()
            && crate::store::query_is_outage(query)
        {
            return true;
        }
        if error.is::<r2d2::Error>() || error.is::<crate::store::ConnectError>() {
            return true;
        }
        next = error.source();
    }
    false
}

impl IntoResponse for WebError {
    fn into_response(mut self) -> Response {
        if self.status == StatusCode::INTERNAL_SERVER_ERROR
            && self.cause.as_deref().is_some_and(|cause| is_outage(cause))
        {
            self.status = StatusCode::SERVICE_UNAVAILABLE;
            self.public = "the database is unavailable; try again later".into();
            self.retry_after.get_or_insert(OUTAGE_RETRY_AFTER_SECS);
        }
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, cause = ?self.cause, "request failed");
        } else {
            tracing::info!(status = %self.status, reason = ?self.public, "request refused");
        }
        let mut response = (self.status, Json(json!({ "error": self.public }))).into_response();
        if let Some(challenge) = self.challenge
            && let Ok(value) = axum::http::HeaderValue::from_str(&challenge)
        {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}
