//! The `Requester` extractor: who signed a GET, if anyone. An absent
//! signature is an anonymous reader; a present one must verify (401).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::AppState;
use super::error::WebError;
use crate::federation::verify::{SignedRequest, verify_request};

/// The actor id of the verified signer of a request, or `None`.
#[derive(Debug, Clone)]
pub struct Requester(pub Option<String>);

impl FromRequestParts<AppState> for Requester {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let signed = parts.headers.contains_key("signature")
            || parts.headers.contains_key("signature-input")
            || parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Signature "));
        if !signed {
            return Ok(Requester(None));
        }
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let request = SignedRequest {
            method: &parts.method,
            path_and_query,
            headers: &parts.headers,
            body: None,
        };
        match verify_request(&state.fed, request).await {
            Ok(key) => Ok(Requester(Some(key.owner.actor_url))),
            Err(error) => Err(WebError::new(StatusCode::UNAUTHORIZED, error.to_string())),
        }
    }
}
