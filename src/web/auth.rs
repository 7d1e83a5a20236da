//! Bearer-token authentication of the client API (RFC 6750): a missing,
//! unknown, expired or revoked token is 401 with a `WWW-Authenticate`
//! challenge; a token lacking a scope, or used for another account, is 403.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::WebError;
use crate::domain::accounts::Account;
use crate::domain::tokens::{Authenticated, authenticate};

/// The account a valid bearer token speaks for.
#[derive(Debug, Clone)]
pub struct Bearer(pub Authenticated);

/// The bearer token of a request, if it carries one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

/// The bearer token in these request headers, if any.
pub fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(description: &str) -> WebError {
    WebError::new(StatusCode::UNAUTHORIZED, description).with_challenge(format!(
        "Bearer realm=\"estuary\", error=\"invalid_token\", error_description=\"{description}\""
    ))
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let Some(token) = bearer_token(parts) else {
            return Err(
                WebError::new(StatusCode::UNAUTHORIZED, "an access token is required")
                    .with_challenge("Bearer realm=\"estuary\""),
            );
        };
        match authenticate(&state.store, token).await? {
            Ok(authenticated) => Ok(Bearer(authenticated)),
            Err(error) => Err(unauthorized(&error.to_string())),
        }
    }
}

impl Bearer {
    /// Requires that the token was issued to `account` and grants `scope`.
    pub fn require(&self, account: &Account, scope: &str) -> Result<(), WebError> {
        if self.0.account.id != account.id {
            return Err(WebError::new(
                StatusCode::FORBIDDEN,
                "this token belongs to another account",
            ));
        }
        if !self.0.scopes.allows(scope) {
            return Err(WebError::new(
                StatusCode::FORBIDDEN,
                format!("this token lacks the {scope} scope"),
            )
            .with_challenge(format!(
                "Bearer realm=\"estuary\", error=\"insufficient_scope\", scope=\"{scope}\""
            )));
        }
        Ok(())
    }
}
