//! `POST /token`: the token endpoint of Private Webmention and Ticket Auth.
//! A site exchanges the code it was sent (`grant_type=authorization_code`)
//! for a bearer token that reads the one private page the code was made
//! for, or a ticket (`grant_type=ticket`) for one that reads a members-only
//! room's feed, or a followed person's feed with their followers-only
//! posts. Every refusal is OAuth's `invalid_grant`, whatever the cause.

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::WebError;
use crate::domain::site_grants::{self, GrantType};

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    ticket: Option<String>,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

pub async fn token(
    State(state): State<AppState>,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let (grant_type, code) = match form.grant_type.as_deref() {
        Some("authorization_code") => (GrantType::Code, form.code),
        Some("ticket") => (GrantType::Ticket, form.ticket),
        _ => {
            return Ok(oauth_error(
                "unsupported_grant_type",
                "grant_type must be authorization_code or ticket",
            ));
        }
    };
    let Some(code) = code.filter(|c| !c.is_empty()) else {
        return Ok(oauth_error("invalid_request", "code or ticket is required"));
    };
    match site_grants::redeem(&state.store, grant_type, &code).await? {
        Ok(redeemed) => Ok((
            [(CACHE_CONTROL, "no-store")],
            Json(json!({
                "access_token": redeemed.access_token,
                "token_type": "Bearer",
                "expires_in": redeemed.expires_in,
                "scope": "read",
                "me": redeemed.site_url,
            })),
        )
            .into_response()),
        Err(refused) => {
            tracing::info!(reason = %refused, "token endpoint refused a code");
            Ok(oauth_error(
                "invalid_grant",
                "the code or ticket is unknown, expired or used",
            ))
        }
    }
}
