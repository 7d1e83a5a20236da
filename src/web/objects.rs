//! Objects and activities minted here, at their ids: shown only to those
//! who may see them (404 otherwise, never 403); deleted ones answer 410.

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use super::signed::Requester;
use super::well_known::json_response;
use crate::domain::posts::{self, Lookup};
use crate::federation::ACTIVITY_JSON;
use crate::federation::builders::build_tombstone;

fn id_of(state: &AppState, uri: &axum::http::Uri) -> String {
    state.urls.path(uri.path())
}

/// `GET /objects/{id}`
pub async fn object(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Requester(requester): Requester,
) -> Result<Response, WebError> {
    let id = id_of(&state, &uri);
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

/// `GET /activities/{id}`
pub async fn activity(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Requester(requester): Requester,
) -> Result<Response, WebError> {
    let id = id_of(&state, &uri);
    match posts::local_activity_for(&state.store, &id, requester).await? {
        Lookup::Found(activity) => document(&activity.document),
        Lookup::Gone { .. } | Lookup::NotFound => Err(WebError::not_found()),
    }
}

fn document(text: &str) -> Result<Response, WebError> {
    Ok((
        [(axum::http::header::CONTENT_TYPE, ACTIVITY_JSON)],
        text.to_owned(),
    )
        .into_response())
}
