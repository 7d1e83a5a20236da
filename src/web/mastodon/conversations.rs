//! Conversations: one per direct-message thread, with its participants,
//! its last status and whether it is unread; marking one read; hiding one
//! (until a new message arrives).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::params::Params;
use super::{User, json, not_found, paged, parse_id};
use crate::domain::timelines;
use crate::mastodon::convert::conversation_to_mastodon;
use crate::mastodon::paging::page_query;
use crate::web::AppState;
use crate::web::error::WebError;

/// `GET /api/v1/conversations` (paged by the last status's id)
pub async fn list(
    State(state): State<AppState>,
    user: User,
    params: Params,
) -> Result<Response, WebError> {
    let me = user.need("read:statuses")?;
    let page = page_query(
        params.get("max_id"),
        params.get("since_id"),
        params.get("min_id"),
        params.get("limit"),
    );
    let views = timelines::conversations(&state.store, me, page).await?;
    let entities: Vec<_> = views
        .iter()
        .map(|c| conversation_to_mastodon(c, &state.urls))
        .collect();
    let ids: Vec<i64> = views.iter().map(|c| c.last.id).collect();
    Ok(paged(&state, "/api/v1/conversations", &entities, &ids, &[]))
}

/// `POST /api/v1/conversations/:id/read`
pub async fn read(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:conversations")?;
    let view = timelines::mark_conversation(&state.store, me, parse_id(&id)?, false)
        .await?
        .ok_or_else(not_found)?;
    Ok(json(&conversation_to_mastodon(&view, &state.urls)))
}

/// `DELETE /api/v1/conversations/:id`
pub async fn delete(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:conversations")?;
    timelines::mark_conversation(&state.store, me, parse_id(&id)?, true)
        .await?
        .ok_or_else(not_found)?;
    Ok(json(&json!({})))
}
