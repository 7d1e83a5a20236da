//! `GET /mirror?id=…`: our h-entry page of a public post from elsewhere —
//! the source of the Webmentions we send for it. Its `u-in-reply-to` names
//! the site's own URL when the reply is to a post from a site.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use super::pages::{EntryView, MessagePage, NotePage, html_response};
use crate::domain::accounts;
use crate::domain::audience::Visibility;
use crate::domain::posts;
use crate::domain::webmentions::{self, site_post_url};

/// `GET /private/{token}`: a private note, for the one site given the token.
pub async fn private(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let post = webmentions::private_page(&state.store, &token)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(WebError::not_found)?;
    let author = accounts::find_by_id(&state.store, post.author_id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let mut entry = EntryView::of(&post, &author);
    entry.url = state.urls.path(&format!("/private/{token}"));
    let mut response = html_response(&NotePage {
        webmention: state.urls.webmention(),
        entry,
    })?;
    let headers = response.headers_mut();
    headers.insert(
        "x-robots-tag",
        axum::http::HeaderValue::from_static("noindex, nofollow"),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct MirrorQuery {
    id: String,
}

pub async fn mirror(
    State(state): State<AppState>,
    Query(query): Query<MirrorQuery>,
) -> Result<Response, WebError> {
    let post = posts::find_post(&state.store, &query.id)
        .await?
        .filter(|p| p.visibility == Visibility::Public)
        .ok_or_else(WebError::not_found)?;
    if post.deleted_at.is_some() {
        let page = MessagePage {
            webmention: state.urls.webmention(),
            title: "Deleted",
            message: "This post was deleted by its author.",
        };
        let mut response = html_response(&page)?;
        *response.status_mut() = StatusCode::GONE;
        return Ok(response);
    }
    let author = accounts::find_by_id(&state.store, post.author_id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let mut entry = EntryView::of(&post, &author);
    entry.url = state.urls.mirror(&post.ap_id);
    if let Some(parent) = &post.in_reply_to
        && let Some(site_url) = site_post_url(&state.store, parent).await?
    {
        entry.in_reply_to = Some(site_url);
    }
    html_response(&NotePage {
        webmention: state.urls.webmention(),
        entry,
    })
}
