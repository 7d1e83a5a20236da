//! `GET /api/v1/timelines/home` and `/timelines/public`, paged by id.

use axum::extract::State;
use axum::response::Response;

use super::params::Params;
use super::{MaybeUser, User, paged};
use crate::domain::timelines::{self, PostView};
use crate::mastodon::convert::post_to_status;
use crate::mastodon::paging::page_query;
use crate::web::AppState;
use crate::web::error::WebError;

fn page_of(params: &Params) -> timelines::PageQuery {
    page_query(
        params.get("max_id"),
        params.get("since_id"),
        params.get("min_id"),
        params.get("limit"),
    )
}

fn render(
    state: &AppState,
    path: &str,
    views: &[PostView],
    extra: &[(String, String)],
) -> Response {
    let statuses: Vec<_> = views
        .iter()
        .map(|v| post_to_status(v, &state.urls))
        .collect();
    let ids: Vec<i64> = views.iter().map(|v| v.id).collect();
    paged(state, path, &statuses, &ids, extra)
}

/// `GET /api/v1/timelines/home`
pub async fn home(
    State(state): State<AppState>,
    user: User,
    params: Params,
) -> Result<Response, WebError> {
    let me = user.need("read:statuses")?;
    let views = timelines::home(&state.store, me, page_of(&params)).await?;
    Ok(render(&state, "/api/v1/timelines/home", &views, &[]))
}

/// `GET /api/v1/timelines/public` (`local=true` for this server's only)
pub async fn public(
    State(state): State<AppState>,
    user: MaybeUser,
    params: Params,
) -> Result<Response, WebError> {
    if let Some(user) = &user.0 {
        user.need("read:statuses")?;
    }
    let local = params.flag("local");
    let views = timelines::public(&state.store, user.viewer(), local, page_of(&params)).await?;
    let extra = if local {
        vec![("local".to_owned(), "true".to_owned())]
    } else {
        Vec::new()
    };
    Ok(render(&state, "/api/v1/timelines/public", &views, &extra))
}
