//! The Mastodon client API: one file per resource group; each handler
//! extracts, makes one domain or federation call, and renders entities
//! from `crate::mastodon`. Errors are `{"error": "..."}` with the status
//! Mastodon uses (401, 403, 404, 422, 429).

mod accounts;
mod apps;
mod conversations;
mod instance;
mod notifications;
pub mod params;
mod reports;
mod statuses;
mod stubs;
mod timelines;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, LINK};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Serialize;

use super::AppState;
use super::auth::Bearer;
use super::error::WebError;
use crate::domain::accounts::Account;
use crate::federation::client::SubmitError;
use crate::federation::outbox::PublishError;

/// The API's routes (merged into the application's router).
pub fn routes() -> Router<AppState> {
    let routes: Vec<(&str, MethodRouter<AppState>)> = vec![
        ("/api/v1/instance", get(instance::v1)),
        ("/api/v2/instance", get(instance::v2)),
        ("/api/v1/instance/peers", get(stubs::empty_list)),
        ("/api/v1/instance/rules", get(stubs::empty_list)),
        ("/api/v1/instance/activity", get(stubs::empty_list)),
        (
            crate::mastodon::convert::DEFAULT_AVATAR_PATH,
            get(instance::avatar),
        ),
        ("/api/v1/apps", post(apps::create)),
        (
            "/api/v1/accounts/verify_credentials",
            get(accounts::verify_credentials),
        ),
        ("/api/v1/accounts/lookup", get(accounts::lookup)),
        (
            "/api/v1/accounts/relationships",
            get(accounts::relationships),
        ),
        ("/api/v1/accounts/search", get(accounts::search_accounts)),
        ("/api/v1/accounts/{id}", get(accounts::show)),
        ("/api/v1/accounts/{id}/statuses", get(accounts::statuses)),
        ("/api/v1/accounts/{id}/followers", get(accounts::followers)),
        ("/api/v1/accounts/{id}/following", get(accounts::following)),
        ("/api/v1/accounts/{id}/follow", post(accounts::follow)),
        ("/api/v1/accounts/{id}/unfollow", post(accounts::unfollow)),
        ("/api/v1/accounts/{id}/block", post(accounts::block)),
        ("/api/v1/accounts/{id}/unblock", post(accounts::unblock)),
        ("/api/v2/search", get(accounts::search)),
        ("/api/v1/statuses", post(statuses::create)),
        (
            "/api/v1/statuses/{id}",
            get(statuses::show).delete(statuses::delete),
        ),
        ("/api/v1/statuses/{id}/context", get(statuses::context)),
        ("/api/v1/statuses/{id}/favourite", post(statuses::favourite)),
        (
            "/api/v1/statuses/{id}/unfavourite",
            post(statuses::unfavourite),
        ),
        ("/api/v1/statuses/{id}/reblog", post(statuses::reblog)),
        ("/api/v1/statuses/{id}/unreblog", post(statuses::unreblog)),
        ("/api/v1/timelines/home", get(timelines::home)),
        ("/api/v1/timelines/public", get(timelines::public)),
        ("/api/v1/notifications", get(notifications::list)),
        ("/api/v1/notifications/{id}", get(notifications::show)),
        (
            "/api/v1/notifications/{id}/dismiss",
            post(notifications::dismiss),
        ),
        ("/api/v1/conversations", get(conversations::list)),
        (
            "/api/v1/conversations/{id}",
            axum::routing::delete(conversations::delete),
        ),
        ("/api/v1/conversations/{id}/read", post(conversations::read)),
        ("/api/v1/reports", post(reports::create)),
        ("/api/v1/preferences", get(stubs::preferences)),
        ("/api/v1/lists", get(stubs::empty_list)),
        ("/api/v1/filters", get(stubs::empty_list)),
        ("/api/v2/filters", get(stubs::empty_list)),
        ("/api/v1/announcements", get(stubs::empty_list)),
        ("/api/v1/custom_emojis", get(stubs::empty_list)),
        (
            "/api/v1/markers",
            get(stubs::empty_object).post(stubs::empty_object),
        ),
        ("/api/v1/follow_requests", get(stubs::follow_requests)),
        ("/api/v1/trends", get(stubs::empty_list)),
        ("/api/v1/trends/tags", get(stubs::empty_list)),
        ("/api/v1/trends/statuses", get(stubs::empty_list)),
        ("/api/v1/trends/links", get(stubs::empty_list)),
        ("/api/v1/bookmarks", get(stubs::empty_list)),
        ("/api/v1/favourites", get(stubs::empty_list)),
        ("/api/v1/mutes", get(stubs::empty_list)),
        ("/api/v1/blocks", get(stubs::blocks)),
        ("/api/v1/followed_tags", get(stubs::empty_list)),
        ("/api/v1/suggestions", get(stubs::empty_list)),
        ("/api/v2/suggestions", get(stubs::empty_list)),
    ];
    // Clients differ on a trailing slash (Mastodon.py asks for
    // `/api/v1/instance/`): every path answers both ways.
    routes
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router
                .route(path, handler.clone())
                .route(&format!("{path}/"), handler)
        })
}

/// A Mastodon-shaped refusal.
pub fn refuse(status: StatusCode, message: impl Into<String>) -> WebError {
    WebError::new(status, message)
}

pub fn unprocessable(message: impl Into<String>) -> WebError {
    refuse(StatusCode::UNPROCESSABLE_ENTITY, message)
}

pub fn not_found() -> WebError {
    refuse(StatusCode::NOT_FOUND, "Record not found")
}

/// A numeric id from the path (anything else names nothing: 404).
pub fn parse_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(not_found)
}

/// The signed-in account of a request, with the scopes of its token.
pub struct User(pub Bearer);

impl User {
    pub fn me(&self) -> &Account {
        &self.0.0.account
    }

    /// Requires a scope (or its parent: `read` covers `read:statuses`).
    pub fn need(&self, scope: &str) -> Result<&Account, WebError> {
        if !self.0.0.scopes.allows(scope) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "This action is outside the authorized scopes",
            ));
        }
        Ok(self.me())
    }
}

impl FromRequestParts<AppState> for User {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        Ok(User(Bearer::from_request_parts(parts, state).await?))
    }
}

/// A signed-in account if the request carries a token (401 if it is bad).
pub struct MaybeUser(pub Option<User>);

impl MaybeUser {
    pub fn viewer(&self) -> Option<Account> {
        self.0.as_ref().map(|u| u.me().clone())
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if parts.headers.get(AUTHORIZATION).is_none() {
            return Ok(MaybeUser(None));
        }
        Ok(MaybeUser(Some(
            User::from_request_parts(parts, state).await?,
        )))
    }
}

/// A JSON response.
pub fn json(value: &impl Serialize) -> Response {
    axum::Json(value).into_response()
}

/// A JSON list with Mastodon's `Link` header for the next and previous
/// pages.
pub fn paged(
    state: &AppState,
    path: &str,
    value: &impl Serialize,
    ids: &[i64],
    extra: &[(String, String)],
) -> Response {
    let mut response = json(value);
    if let Some(link) = crate::mastodon::paging::link_header(&state.urls.path(path), ids, extra)
        && let Ok(value) = HeaderValue::from_str(&link)
    {
        response.headers_mut().insert(LINK, value);
    }
    response
}

impl From<SubmitError> for WebError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::Invalid(message) => unprocessable(message),
            SubmitError::Forbidden(message) => refuse(StatusCode::FORBIDDEN, message),
            SubmitError::Internal(error) => error.into(),
        }
    }
}

impl From<PublishError> for WebError {
    fn from(error: PublishError) -> Self {
        SubmitError::from(error).into()
    }
}
