//! Notifications: mentions, follows, follow requests, favourites and
//! reblogs, from what arrived in the account's inbox; `types[]` and
//! `exclude_types[]`; dismissing one.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::params::Params;
use super::{User, json, not_found, paged, parse_id};
use crate::domain::timelines::{self, NOTIFICATION_KINDS, PageQuery};
use crate::mastodon::convert::notification_to_mastodon;
use crate::mastodon::paging::page_query;
use crate::web::AppState;
use crate::web::error::WebError;

/// `GET /api/v1/notifications`
pub async fn list(
    State(state): State<AppState>,
    user: User,
    params: Params,
) -> Result<Response, WebError> {
    let me = user.need("read:notifications")?;
    let types = params.all("types");
    let excluded = params.all("exclude_types");
    let kinds: Vec<String> = NOTIFICATION_KINDS
        .iter()
        .filter(|k| types.is_empty() || types.contains(k))
        .filter(|k| !excluded.contains(k))
        .map(|k| (*k).to_owned())
        .collect();
    let page = page_query(
        params.get("max_id"),
        params.get("since_id"),
        params.get("min_id"),
        params.get("limit"),
    );
    let views = timelines::notifications(&state.store, me, kinds, page).await?;
    let entities: Vec<_> = views
        .iter()
        .map(|n| notification_to_mastodon(n, &state.urls))
        .collect();
    let ids: Vec<i64> = views.iter().map(|n| n.id).collect();
    let extra: Vec<(String, String)> = types
        .iter()
        .map(|t| ("types[]".to_owned(), (*t).to_owned()))
        .chain(
            excluded
                .iter()
                .map(|t| ("exclude_types[]".to_owned(), (*t).to_owned())),
        )
        .collect();
    Ok(paged(
        &state,
        "/api/v1/notifications",
        &entities,
        &ids,
        &extra,
    ))
}

/// `GET /api/v1/notifications/:id`
pub async fn show(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("read:notifications")?;
    let id = parse_id(&id)?;
    let page = PageQuery {
        max_id: Some(id + 1),
        since_id: Some(id - 1),
        min_id: None,
        limit: 1,
    };
    let kinds = NOTIFICATION_KINDS.iter().map(|k| (*k).to_owned()).collect();
    let found = timelines::notifications(&state.store, me, kinds, page)
        .await?
        .pop()
        .ok_or_else(not_found)?;
    Ok(json(&notification_to_mastodon(&found, &state.urls)))
}

/// `POST /api/v1/notifications/:id/dismiss`
pub async fn dismiss(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:notifications")?;
    timelines::dismiss(&state.store, me, parse_id(&id)?).await?;
    Ok(json(&json!({})))
}
