//! The `Requester` extractor: who is reading. A signed GET names a server's
//! actor, a bearer token a local user (with the `read` scope); neither is
//! an anonymous reader. A signature or token that is present must be valid
//! (401).

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
        if super::auth::bearer_token(parts).is_some() {
            let bearer = super::auth::Bearer::from_request_parts(parts, state).await?;
            let account = bearer.0.account.clone();
            bearer.require(&account, "read")?;
            return Ok(Requester(Some(account.actor_url)));
        }
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
            Err(error) => Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                error.public_message(),
            )),
        }
    }
}
