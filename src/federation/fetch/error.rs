//! What can go wrong with an outbound request, and how client errors map to it.

use std::error::Error as StdError;

use http::StatusCode;

use super::guard::NoAllowedAddress;

/// Why an outbound request failed. [`FetchError::is_retryable`] tells the
/// delivery queue whether to try again.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The host (a literal address, or a name that resolved only to
    /// forbidden addresses) may not be reached.
    #[error("refusing to connect to {0}: forbidden address")]
    ForbiddenAddress(String),
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    /// Could not connect, or the connection failed during the exchange.
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request timed out")]
    Timeout,
    #[error("response body too large")]
    TooLarge,
    #[error("too many redirects")]
    TooManyRedirects,
    /// The operator blocked the host's domain.
    #[error("{0} is a blocked domain")]
    Blocked(String),
    #[error("remote server answered {status}")]
    Status { status: StatusCode },
    #[error("response is not a JSON object: {0}")]
    NotJson(String),
    #[error("could not sign the request: {0}")]
    Sign(String),
    /// The HTTP client could not be built (TLS backend, user agent).
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
}

impl FetchError {
    /// Whether trying again later may succeed: network trouble, timeouts,
    /// 5xx, 408 and 429.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Dns(_) | FetchError::Connect(_) | FetchError::Timeout => true,
            FetchError::Status { status } => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
            FetchError::InvalidUrl(_)
            | FetchError::ForbiddenAddress(_)
            | FetchError::TooLarge
            | FetchError::TooManyRedirects
            | FetchError::Blocked(_)
            | FetchError::NotJson(_)
            | FetchError::Sign(_)
            | FetchError::Setup(_) => false,
        }
    }
}

/// Classifies a client error; a refusal by the guarded resolver is found in
/// the error's chain of causes.
pub(super) fn request_error(err: reqwest::Error) -> FetchError {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(&err);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<NoAllowedAddress>() {
            return FetchError::ForbiddenAddress(refused.host.clone());
        }
        cause = current.source();
    }
    if err.is_timeout() {
        FetchError::Timeout
    } else if err.is_dns() {
        FetchError::Dns(error_chain(&err))
    } else if err.is_builder() {
        FetchError::InvalidUrl(error_chain(&err))
    } else {
        FetchError::Connect(error_chain(&err))
    }
}

/// An error and its causes on one line.
pub(super) fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(current) = cause {
        let next = current.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = current.source();
    }
    text
}
