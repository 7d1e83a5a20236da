//! Outboxes, followers and following as paged OrderedCollections.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::error::WebError;
use super::negotiate::Representation;
use super::pages::{EntryView, FeedPage, JoinHelp, html_response};
use super::signed::Requester;
use super::well_known::json_response;
use crate::domain::accounts::{Account, AccountKind};
use crate::domain::follows;
use crate::domain::posts;
use crate::domain::site_grants::{self, FeedAccess};
use crate::federation::ACTIVITY_JSON;
use crate::federation::actor_cache::LocalActor;
use crate::federation::builders::{build_collection_page, build_ordered_collection};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::response::IntoResponse;

/// Items per collection page.
pub const PAGE_SIZE: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

impl PageQuery {
    /// The 1-based page asked for, `None` for the collection itself.
    pub fn number(&self) -> Result<Option<i64>, WebError> {
        match &self.page {
            None => Ok(None),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(Some(n)),
                _ if text == "true" => Ok(Some(1)),
                _ => Err(WebError::bad_request("page must be a number from 1")),
            },
        }
    }
}

/// Which local actors a route serves.
pub const USER: u8 = 0;
pub const ROOM: u8 = 1;
pub const SITE: u8 = 2;

/// The local owner of a collection: a user, a room or a site's proxy.
pub async fn owner<const KIND: u8>(state: &AppState, name: &str) -> Result<Account, WebError> {
    Ok(owner_actor::<KIND>(state, name).await?.account.clone())
}

/// [`owner`] with its cached documents.
pub async fn owner_actor<const KIND: u8>(
    state: &AppState,
    name: &str,
) -> Result<Arc<LocalActor>, WebError> {
    let cache = &state.fed.actors;
    let found = match KIND {
        SITE => cache.proxy(&state.store, name).await?,
        _ => cache.local(&state.store, name).await?,
    };
    let kind = if KIND == ROOM {
        AccountKind::Group
    } else {
        AccountKind::Person
    };
    found
        .filter(|a| a.account.kind == kind && (a.account.site_url.is_some() == (KIND == SITE)))
        .filter(|a| !a.account.is_hidden())
        .ok_or_else(WebError::not_found)
}

pub fn render_page(
    collection_id: &str,
    page: Option<i64>,
    total: i64,
    items: Vec<Value>,
) -> Result<Response, WebError> {
    let document = match page {
        None => build_ordered_collection(collection_id, total, &format!("{collection_id}?page=1")),
        Some(n) => {
            let next = (n * PAGE_SIZE < total).then(|| format!("{collection_id}?page={}", n + 1));
            let prev = (n > 1).then(|| format!("{collection_id}?page={}", n - 1));
            let mut page = build_collection_page(
                &format!("{collection_id}?page={n}"),
                collection_id,
                items,
                next,
                prev,
            );
            page["totalItems"] = total.into();
            page
        }
    };
    json_response(ACTIVITY_JSON, &document)
}

/// `GET /{users|rooms}/{name}/outbox`: what the reader may see, as an
/// OrderedCollection or, for a browser, an h-feed of the public posts.
pub async fn outbox<const KIND: u8>(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
    representation: Representation,
    requester: Result<Requester, WebError>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let account = owner::<KIND>(&state, &name).await?;
    let page = query.number()?;
    // A browser or a site reads the h-feed; the bearer token of a site
    // that follows the person (Ticket Auth) shows the followers-only posts.
    if representation == Representation::Html {
        let followers = account.kind == AccountKind::Person
            && reads_followers_feed(&state, &account, &headers).await?;
        return feed_page(&state, &account, page.unwrap_or(1), followers).await;
    }
    let Requester(requester) = requester?;
    let offset = (page.unwrap_or(1) - 1) * PAGE_SIZE;
    let found = posts::outbox_for(&state.store, &account, requester, offset, PAGE_SIZE).await?;
    let items = found
        .items
        .iter()
        .map(|a| serde_json::from_str::<Value>(&a.document).unwrap_or(Value::Null))
        .map(|mut v| {
            if let Some(map) = v.as_object_mut() {
                map.remove("@context");
            }
            v
        })
        .collect();
    let id = account.outbox_url.clone().unwrap_or_default();
    render_page(&id, page, found.total, items)
}

/// `GET /{users|rooms}/{name}/followers`
pub async fn followers<const KIND: u8>(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let account = owner::<KIND>(&state, &name).await?;
    let all = follows::followers(&state.store, account.id).await?;
    let id = account.followers_url.clone().unwrap_or_default();
    actor_page(&id, query.number()?, all)
}

/// `GET /{users|rooms}/{name}/following`
pub async fn following<const KIND: u8>(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let account = owner::<KIND>(&state, &name).await?;
    let all = follows::following(&state.store, account.id).await?;
    let id = account.following_url.clone().unwrap_or_default();
    actor_page(&id, query.number()?, all)
}

fn actor_page(id: &str, page: Option<i64>, all: Vec<Account>) -> Result<Response, WebError> {
    let total = all.len() as i64;
    let offset = ((page.unwrap_or(1) - 1) * PAGE_SIZE) as usize;
    let items = all
        .into_iter()
        .skip(offset)
        .take(PAGE_SIZE as usize)
        .map(|a| Value::String(a.actor_url))
        .collect();
    render_page(id, page, total, items)
}

fn strip_context(document: &str) -> Value {
    let mut value = serde_json::from_str::<Value>(document).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("@context");
    }
    value
}

/// `GET /objects/{id}/replies`: the replies the reader may see.
pub async fn replies(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    Requester(requester): Requester,
) -> Result<Response, WebError> {
    let object_id = state.urls.path(&format!("/objects/{id}"));
    let found = posts::replies_for(&state.store, &object_id, requester).await?;
    let items: Vec<Value> = found.iter().map(|p| strip_context(&p.document)).collect();
    paged(&format!("{object_id}/replies"), query.number()?, items)
}

/// `GET /contexts/{id}`: a conversation, as the reader may see it.
pub async fn context(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    Requester(requester): Requester,
) -> Result<Response, WebError> {
    let context_id = state.urls.path(&format!("/contexts/{id}"));
    let found = posts::context_for(&state.store, &context_id, requester).await?;
    let items: Vec<Value> = found.iter().map(|p| strip_context(&p.document)).collect();
    paged(&context_id, query.number()?, items)
}

fn paged(id: &str, page: Option<i64>, all: Vec<Value>) -> Result<Response, WebError> {
    let total = all.len() as i64;
    let offset = ((page.unwrap_or(1) - 1) * PAGE_SIZE) as usize;
    let items = all
        .into_iter()
        .skip(offset)
        .take(PAGE_SIZE as usize)
        .collect();
    render_page(id, page, total, items)
}

/// A room's page: its conversation as an h-feed, oldest first, with its
/// hub. A members-only room has no public page.
pub(super) async fn room_page(
    state: &AppState,
    room: &Account,
    self_url: String,
) -> Result<Response, WebError> {
    if room.manually_approves_followers {
        return Err(WebError::not_found());
    }
    let posts = crate::rooms::relay::room_posts(&state.fed, room).await?;
    let members = crate::rooms::membership::member_count(&state.store, room.id).await?;
    let [atom_url, feed_url] = crate::rooms::websub::topics_of(room);
    let view = FeedPage {
        webmention: state.urls.webmention(),
        name: room.shown_name().to_owned(),
        handle: format!("@{}@{}", room.username, state.urls.host()),
        profile_url: room
            .profile_url
            .clone()
            .unwrap_or_else(|| room.actor_url.clone()),
        atom_url,
        entries: posts
            .iter()
            .map(|(post, author)| EntryView::of(post, author))
            .collect(),
        prev_url: None,
        next_url: None,
        feed_url,
        summary: room.summary.clone(),
        member_count: Some(members),
        hub_url: Some(state.urls.path("/websub")),
        join: Some(JoinHelp::of(room, &state.urls, self_url.clone())),
        self_url,
    };
    let mut response = html_response(&view)?;
    response
        .headers_mut()
        .insert(VARY, axum::http::HeaderValue::from_static("Accept"));
    Ok(response)
}

/// Whether the request's bearer token reads the person's followers-only
/// posts (a site that follows them, by Ticket Auth). No token: the public
/// feed; a token that is unknown, expired or revoked: 401; one for anything
/// else: 404.
async fn reads_followers_feed(
    state: &AppState,
    account: &Account,
    headers: &axum::http::HeaderMap,
) -> Result<bool, WebError> {
    let bearer = super::auth::bearer_of(headers);
    match site_grants::feed_for_bearer(&state.store, account.id, bearer).await? {
        FeedAccess::Public => Ok(false),
        FeedAccess::Followers => Ok(true),
        FeedAccess::Unauthorized => Err(WebError::new(
            StatusCode::UNAUTHORIZED,
            "the token is unknown, expired or revoked",
        )
        .with_challenge(format!(
            "Bearer realm=\"{}\", error=\"invalid_token\"",
            state.urls.host()
        ))),
        FeedAccess::NotFound => Err(WebError::not_found()),
    }
}

/// A feed for one reader only is never cached by anyone else.
fn private_to_reader(mut response: Response) -> Response {
    response.headers_mut().insert(
        CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    response
}

async fn feed_page(
    state: &AppState,
    account: &Account,
    page: i64,
    followers: bool,
) -> Result<Response, WebError> {
    if account.kind == AccountKind::Group {
        let self_url = account.outbox_url.clone().unwrap_or_default();
        return room_page(state, account, self_url).await;
    }
    let (offset, limit) = ((page - 1) * PAGE_SIZE, PAGE_SIZE);
    let found = posts::posts_of(&state.store, account.id, followers, offset, limit).await?;
    let feed_url = account.outbox_url.clone().unwrap_or_default();
    let page_url = |n: i64| format!("{feed_url}?page={n}");
    let view = FeedPage {
        webmention: state.urls.webmention(),
        name: account.shown_name().to_owned(),
        handle: format!("@{}@{}", account.username, state.urls.host()),
        profile_url: account
            .profile_url
            .clone()
            .unwrap_or_else(|| account.actor_url.clone()),
        atom_url: state.urls.atom_feed(&account.actor_url),
        entries: found
            .items
            .iter()
            .map(|post| EntryView::of(post, account))
            .collect(),
        prev_url: (page > 1).then(|| page_url(page - 1)),
        next_url: (page * PAGE_SIZE < found.total).then(|| page_url(page + 1)),
        feed_url,
        summary: None,
        member_count: None,
        hub_url: Some(state.urls.path("/websub")),
        self_url: account.outbox_url.clone().unwrap_or_default(),
        join: None,
    };
    let mut response = html_response(&view)?;
    response
        .headers_mut()
        .insert(VARY, axum::http::HeaderValue::from_static("Accept"));
    Ok(if followers {
        private_to_reader(response)
    } else {
        response
    })
}

/// `GET /{users|rooms}/{name}/feed.atom`: the public posts as Atom. A
/// members-only room's feed is for the bearer of a token from a ticket
/// (Ticket Auth) whose site is still a member; anyone else gets 404. A
/// person's feed read with a token from a ticket, by a site that still
/// follows them, has their followers-only posts too.
pub async fn atom<const KIND: u8>(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let account = owner::<KIND>(&state, &name).await?;
    if account.kind == AccountKind::Group {
        let bearer = super::auth::bearer_of(&headers);
        if account.manually_approves_followers
            && !site_grants::reads_feed(&state.store, account.id, bearer).await?
        {
            return Err(WebError::not_found());
        }
        let xml = crate::rooms::websub::room_atom(&state.fed, &account).await?;
        return Ok(([(CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response());
    }
    let followers = reads_followers_feed(&state, &account, &headers).await?;
    let xml =
        crate::indieweb::atom::person_atom_for(&state.store, &state.urls, &account, followers)
            .await?;
    let response = ([(CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response();
    Ok(if followers {
        private_to_reader(response)
    } else {
        response
    })
}
