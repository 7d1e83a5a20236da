//! `GET /media/{token}`: images set by the operator for local accounts;
//! `GET /static/avatar.svg`: the picture of accounts without one.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::WebError;
use crate::domain::media;

const DEFAULT_AVATAR: &str = include_str!("../../static/avatar.svg");

pub async fn image(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let (content_type, bytes) = media::image(&state.store, &token)
        .await?
        .ok_or_else(WebError::not_found)?;
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=86400, immutable".to_owned()),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

pub async fn default_avatar() -> Response {
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        DEFAULT_AVATAR,
    )
        .into_response()
}
