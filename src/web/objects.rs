//! Objects and activities minted here, at their ids: shown only to those
//! who may see them (404 otherwise, never 403); deleted ones answer 410.

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use super::negotiate::Representation;
use super::pages::{EntryView, MessagePage, NotePage, html_response};
use super::signed::Requester;
use super::well_known::json_response;
use crate::domain::accounts;
use crate::domain::posts::{self, Lookup};
use crate::federation::ACTIVITY_JSON;
use crate::federation::builders::build_tombstone;
use axum::http::header::VARY;

fn id_of(state: &AppState, uri: &axum::http::Uri) -> String {
    state.urls.path(uri.path())
}

/// `GET /objects/{id}`: the object as JSON, or its h-entry page (public
/// posts only: a private post has no page).
pub async fn object(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    representation: Representation,
    Requester(requester): Requester,
) -> Result<Response, WebError> {
    let id = id_of(&state, &uri);
    if representation == Representation::Html {
        return object_page(&state, &id).await;
    }
    match posts::local_post_for(&state.store, &id, requester).await? {
        Lookup::Found(post) => document(&post.document),
        Lookup::Gone { kind, deleted_at } => {
            let tombstone = build_tombstone(&id, &kind, deleted_at);
            let mut response = json_response(ACTIVITY_JSON, &tombstone)?;
            *response.status_mut() = StatusCode::GONE;
            Ok(response)
        }
        Lookup::NotFound => Err(WebError::not_found()),
    }
}

/// `GET /activities/{id}`: the activity as JSON; a browser is sent (303)
/// to the page of its object.
pub async fn activity(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    representation: Representation,
    Requester(requester): Requester,
) -> Result<Response, WebError> {
    let id = id_of(&state, &uri);
    if representation == Representation::Html {
        return match posts::local_activity_for(&state.store, &id, None).await? {
            Lookup::Found(activity) => {
                let object = activity.object_ap_id.ok_or_else(WebError::not_found)?;
                let page = if object.starts_with(&format!("{}/", state.urls.origin())) {
                    object
                } else {
                    state.urls.mirror(&object)
                };
                let mut response = (
                    StatusCode::SEE_OTHER,
                    [(axum::http::header::LOCATION, page)],
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(VARY, axum::http::HeaderValue::from_static("Accept"));
                Ok(response)
            }
            Lookup::Gone { .. } | Lookup::NotFound => Err(WebError::not_found()),
        };
    }
    match posts::local_activity_for(&state.store, &id, requester).await? {
        Lookup::Found(activity) => document(&activity.document),
        Lookup::Gone { .. } | Lookup::NotFound => Err(WebError::not_found()),
    }
}

async fn object_page(state: &AppState, id: &str) -> Result<Response, WebError> {
    match posts::local_post_for(&state.store, id, None).await? {
        Lookup::Found(post) => {
            let author = accounts::find_by_id(&state.store, post.author_id)
                .await?
                .ok_or_else(WebError::not_found)?;
            let page = NotePage {
                webmention: state.urls.webmention(),
                entry: EntryView::of(&post, &author),
            };
            let mut response = html_response(&page)?;
            response
                .headers_mut()
                .insert(VARY, axum::http::HeaderValue::from_static("Accept"));
            Ok(response)
        }
        Lookup::Gone { .. } => {
            let page = MessagePage {
                webmention: state.urls.webmention(),
                title: "Deleted",
                message: "This post was deleted by its author.",
            };
            let mut response = html_response(&page)?;
            *response.status_mut() = StatusCode::GONE;
            Ok(response)
        }
        Lookup::NotFound => Err(WebError::not_found()),
    }
}

fn document(text: &str) -> Result<Response, WebError> {
    Ok((
        [(axum::http::header::CONTENT_TYPE, ACTIVITY_JSON)],
        text.to_owned(),
    )
        .into_response())
}
