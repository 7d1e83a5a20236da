//! `GET /mirror?id=…`: our h-entry page of a public post from elsewhere —
//! the source of the Webmentions we send for it. Its `u-in-reply-to` names
//! the site's own URL when the reply is to a post from a site. And
//! `GET /private/KEY`, the token-protected page of a Private Webmention.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use super::pages::{EntryView, MessagePage, NotePage, html_response};
use crate::domain::accounts::{self, Account};
use crate::domain::audience::Visibility;
use crate::domain::posts::{self, Post};
use crate::domain::site_grants::{self, PageAccess};
use crate::domain::webmentions::site_post_url;

/// The realm of the bearer challenge on private pages, sent with each
/// Private Webmention so that the site knows which token the page takes.
pub fn private_realm(state: &AppState) -> String {
    state.urls.host()
}

/// `GET /private/{key}`: a direct note handed to a site (Private
/// Webmention), for a bearer of a token granted for it only. Without a
/// live token: 401 whatever the key (the challenge names the token
/// endpoint); with a token for anything else: 404.
pub async fn private(
    State(state): State<AppState>,
    axum::extract::Path(key): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let bearer = super::auth::bearer_of(&headers);
    let mut response = match site_grants::page_for_bearer(&state.store, &key, bearer).await? {
        PageAccess::Unauthorized => {
            let error = WebError::new(StatusCode::UNAUTHORIZED, "a token is required")
                .with_challenge(format!("Bearer realm=\"{}\"", private_realm(&state)));
            error.into_response()
        }
        PageAccess::NotFound => WebError::not_found().into_response(),
        PageAccess::Granted { post, .. } if post.deleted_at.is_some() => {
            let page = MessagePage {
                webmention: state.urls.webmention(),
                title: "Deleted",
                message: "This note was deleted by its author.",
            };
            let mut response = html_response(&page)?;
            *response.status_mut() = StatusCode::GONE;
            response
        }
        PageAccess::Granted { page, post } => {
            let author = accounts::find_by_id(&state.store, post.author_id)
                .await?
                .filter(|a| !a.is_hidden())
                .ok_or_else(WebError::not_found)?;
            note_page(
                &state,
                &post,
                &author,
                state.urls.private_page(&page.page_key),
            )
            .await?
        }
    };
    let headers = response.headers_mut();
    if let Ok(link) = axum::http::HeaderValue::from_str(&format!(
        "<{}>; rel=\"token_endpoint\"",
        state.urls.token_endpoint()
    )) {
        headers.append(axum::http::header::LINK, link);
    }
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

/// The mirror of a Like or Announce of a public post: an h-entry with
/// `u-like-of` or `u-repost-of` (the site's URL when the post came from one).
async fn reaction_mirror(state: &AppState, id: &str) -> Result<Response, WebError> {
    let activity = posts::find_activity(&state.store, id)
        .await?
        .filter(|a| matches!(a.kind.as_str(), "Like" | "Announce"))
        .ok_or_else(WebError::not_found)?;
    let object = activity
        .object_ap_id
        .clone()
        .ok_or_else(WebError::not_found)?;
    let liked = posts::find_post(&state.store, &object)
        .await?
        .filter(|p| p.visibility == Visibility::Public && p.deleted_at.is_none())
        .ok_or_else(WebError::not_found)?;
    let actor = accounts::find_by_id(&state.store, activity.actor_id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let target = site_post_url(&state.store, &liked.ap_id)
        .await?
        .unwrap_or(liked.ap_id.clone());
    let like = activity.kind == "Like";
    let mut stand_in = liked.clone();
    stand_in.content = Some(
        if like {
            "<p>Liked this.</p>"
        } else {
            "<p>Reposted this.</p>"
        }
        .to_owned(),
    );
    stand_in.in_reply_to = None;
    stand_in.published = activity.published;
    stand_in.updated = None;
    stand_in.name = None;
    stand_in.document = "{}".into();
    let mut entry = EntryView::of(&stand_in, &actor);
    entry.url = state.urls.mirror(id);
    if like {
        entry.like_of = Some(target);
    } else {
        entry.repost_of = Some(target);
    }
    html_response(&NotePage {
        webmention: state.urls.webmention(),
        entry,
    })
}

#[derive(Debug, Deserialize)]
pub struct MirrorQuery {
    id: String,
}

pub async fn mirror(
    State(state): State<AppState>,
    Query(query): Query<MirrorQuery>,
) -> Result<Response, WebError> {
    let Some(post) = posts::find_shown_post(&state.store, &query.id).await? else {
        return reaction_mirror(&state, &query.id).await;
    };
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
    note_page(&state, &post, &author, state.urls.mirror(&post.ap_id)).await
}

/// The h-entry page of `post` at `url`; a reply to a site's post names that
/// post, as the site knows it.
async fn note_page(
    state: &AppState,
    post: &Post,
    author: &Account,
    url: String,
) -> Result<Response, WebError> {
    let mut entry = EntryView::of(post, author);
    entry.url = url;
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
