//! What apps ask for at start-up and may get empty (lists, filters,
//! announcements, custom emojis, markers, trends, bookmarks, favourites,
//! mutes), and the two that are real here: blocks and follow requests.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{User, json};
use crate::domain::timelines;
use crate::mastodon::convert::account_to_mastodon;
use crate::web::AppState;
use crate::web::error::WebError;

pub async fn empty_list() -> Response {
    json(&json!([]))
}

pub async fn empty_object() -> Response {
    json(&json!({}))
}

/// `GET /api/v1/preferences`
pub async fn preferences(user: User) -> Result<Response, WebError> {
    user.need("read:accounts")?;
    Ok(json(&json!({
        "posting:default:visibility": "public",
        "posting:default:sensitive": false,
        "posting:default:language": null,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false
    })))
}

async fn account_list(state: &AppState, user: &User, blocks: bool) -> Result<Response, WebError> {
    let me = user.need(if blocks {
        "read:blocks"
    } else {
        "read:follows"
    })?;
    let found = timelines::blocks_or_requests(&state.store, me, blocks).await?;
    Ok(json(
        &found
            .iter()
            .map(|a| account_to_mastodon(a, &state.urls))
            .collect::<Vec<_>>(),
    ))
}

/// `GET /api/v1/blocks`
pub async fn blocks(State(state): State<AppState>, user: User) -> Result<Response, WebError> {
    account_list(&state, &user, true).await
}

/// `GET /api/v1/follow_requests`
pub async fn follow_requests(
    State(state): State<AppState>,
    user: User,
) -> Result<Response, WebError> {
    account_list(&state, &user, false).await
}
