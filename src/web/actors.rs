//! Actors at their ids (`/users/NAME`, `/rooms/NAME`) and profile pages
//! (`/@NAME`), as ActivityStreams JSON or an h-card page.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::VARY;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use super::negotiate::Representation;
use super::pages::ProfilePage;
use super::well_known::{cached_json_response, json_response};
use crate::domain::accounts::AccountKind;
use crate::federation::actor::account_to_actor;
use crate::federation::actor_cache::LocalActor;

/// `GET /users/{name}`: a Person.
pub async fn user(
    State(state): State<AppState>,
    Path(name): Path<String>,
    representation: Representation,
) -> Result<Response, WebError> {
    let account = find(&state, &name, Some(AccountKind::Person)).await?;
    render(&state, &account, representation).await
}

/// `GET /rooms/{name}`: a Group.
pub async fn room(
    State(state): State<AppState>,
    Path(name): Path<String>,
    representation: Representation,
) -> Result<Response, WebError> {
    let account = find(&state, &name, Some(AccountKind::Group)).await?;
    render(&state, &account, representation).await
}

/// `GET /sites/{domain}`: the proxy actor of an IndieWeb site.
pub async fn site(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    representation: Representation,
) -> Result<Response, WebError> {
    let actor =
        super::collections::owner_actor::<{ super::collections::SITE }>(&state, &domain).await?;
    render(&state, &actor, representation).await
}

/// `GET /@{name}`: the profile page of a user or room.
pub async fn profile(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    representation: Representation,
) -> Result<Response, WebError> {
    let name = handle.strip_prefix('@').ok_or_else(WebError::not_found)?;
    let account = find(&state, name, None).await?;
    render(&state, &account, representation).await
}

/// `GET /actor`: the instance actor (an Application).
pub async fn instance(State(state): State<AppState>) -> Result<Response, WebError> {
    json_response(
        crate::federation::ACTIVITY_JSON,
        &account_to_actor(&state.fed.instance_actor),
    )
}

async fn find(
    state: &AppState,
    name: &str,
    kind: Option<AccountKind>,
) -> Result<Arc<LocalActor>, WebError> {
    let actor = state
        .fed
        .actors
        .local(&state.store, name)
        .await?
        .filter(|a| {
            a.account.kind != AccountKind::Application && kind.is_none_or(|k| k == a.account.kind)
        })
        .ok_or_else(WebError::not_found)?;
    let account = &actor.account;
    // A deleted account is gone for good; a suspended one may come back,
    // so it is only not found (a 410 would make peers forget it).
    if account.deleted_at.is_some() {
        return Err(WebError::new(
            axum::http::StatusCode::GONE,
            "this account has been deleted",
        ));
    }
    if account.suspended_at.is_some() {
        return Err(WebError::not_found());
    }
    Ok(actor)
}

/// The actor as JSON; for a browser, the profile page, or for an open room
/// its conversation (the room's `url`), which says how to join.
async fn render(
    state: &AppState,
    actor: &LocalActor,
    representation: Representation,
) -> Result<Response, WebError> {
    let account = &actor.account;
    let mut response = match representation {
        Representation::Html
            if account.kind == AccountKind::Group && !account.manually_approves_followers =>
        {
            let page_url = account
                .profile_url
                .clone()
                .unwrap_or_else(|| account.actor_url.clone());
            super::collections::room_page(state, account, page_url).await?
        }
        Representation::Html => {
            let facts = crate::domain::instance::profile_facts(&state.store, account).await?;
            ProfilePage::of(account, &state.urls, &facts).render_response()?
        }
        json => cached_json_response(
            json.content_type(),
            actor.actor_json().map_err(WebError::internal)?,
        ),
    };
    response
        .headers_mut()
        .insert(VARY, axum::http::HeaderValue::from_static("Accept"));
    Ok(response.into_response())
}
