//! Statuses: posting (mentions resolved by WebFinger, hashtags, the four
//! visibilities as addressing, replies, content warnings, languages,
//! `Idempotency-Key`), reading one with its thread, deleting, favouriting
//! and boosting, each through the same operations as the ActivityPub
//! client API.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::params::Params;
use super::{MaybeUser, User, json, not_found, parse_id, refuse, unprocessable};
use crate::domain::accounts::Account;
use crate::domain::audience::PUBLIC;
use crate::domain::timelines::{self, PostView};
use crate::federation::outbox::{self, Draft};
use crate::federation::{client, resolve};
use crate::mastodon::convert::post_to_status;
use crate::mastodon::entities::Context;
use crate::mastodon::instance::MAX_STATUS_CHARS;
use crate::mastodon::text::{self, Resolved};
use crate::web::AppState;
use crate::web::error::WebError;

async fn visible(
    state: &AppState,
    viewer: Option<Account>,
    id: &str,
) -> Result<PostView, WebError> {
    let id = parse_id(id)?;
    timelines::status(&state.store, viewer, id)
        .await?
        .ok_or_else(not_found)
}

fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()))
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Everything a status asks for, checked before anything is stored.
async fn draft_of(state: &AppState, me: &Account, params: &Params) -> Result<Draft, WebError> {
    let status = params.get("status").unwrap_or_default();
    if status.trim().is_empty() {
        return Err(unprocessable("Validation failed: Text can't be blank"));
    }
    if status.chars().count() > MAX_STATUS_CHARS {
        return Err(unprocessable(format!(
            "Validation failed: Text character limit of {MAX_STATUS_CHARS} exceeded"
        )));
    }
    if !params.all("media_ids").iter().all(|m| m.is_empty()) {
        return Err(unprocessable("Media attachments are not supported"));
    }
    let visibility = params.get("visibility").unwrap_or("public");
    if !matches!(visibility, "public" | "unlisted" | "private" | "direct") {
        return Err(unprocessable("Validation failed: Visibility is not known"));
    }
    let language = params.get("language").map(str::to_owned);
    if language.as_deref().is_some_and(|l| !valid_language(l)) {
        return Err(unprocessable("Validation failed: Language is not valid"));
    }
    let parent = match params.get("in_reply_to_id") {
        Some(id) => Some(visible(state, Some(me.clone()), id).await?),
        None => None,
    };
    let parsed = text::parse(status);
    let mut mentioned: Vec<(String, Account)> = Vec::new();
    for handle in &parsed.mentions {
        let full = if handle.contains('@') {
            handle.clone()
        } else {
            format!("{handle}@{}", state.urls.host())
        };
        let account = resolve::handle(&state.fed, &full)
            .await
            .map_err(|e| unprocessable(format!("Unable to resolve @{handle}: {e}")))?;
        mentioned.push((handle.clone(), account));
    }
    let resolved: Vec<Resolved<'_>> = mentioned
        .iter()
        .map(|(written, account)| Resolved {
            written,
            url: account.profile_url.as_deref().unwrap_or(&account.actor_url),
        })
        .collect();
    let content_html = text::to_html(status, &resolved, |tag| {
        state.urls.path(&format!("/tags/{tag}"))
    });
    let mut mentions: Vec<String> = mentioned
        .iter()
        .map(|(_, a)| a.actor_url.clone())
        .filter(|url| *url != me.actor_url)
        .collect();
    // A direct or followers-only reply goes back to the one it answers.
    if let Some(parent) = &parent
        && matches!(visibility, "direct" | "private")
        && parent.author.account.id != me.id
        && !mentions.contains(&parent.author.account.actor_url)
    {
        mentions.push(parent.author.account.actor_url.clone());
    }
    let followers = me.followers_url.clone().into_iter();
    let (to, cc): (Vec<String>, Vec<String>) = match visibility {
        "public" => (vec![PUBLIC.to_owned()], followers.chain(mentions).collect()),
        "unlisted" => (
            followers.collect(),
            std::iter::once(PUBLIC.to_owned()).chain(mentions).collect(),
        ),
        "private" => (followers.chain(mentions).collect(), Vec::new()),
        _ => (mentions, Vec::new()),
    };
    let summary = params
        .get("spoiler_text")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(Draft {
        content_html,
        to,
        cc,
        in_reply_to: parent.map(|p| p.post.ap_id),
        summary,
        sensitive: params.flag("sensitive"),
        language,
        hashtags: parsed
            .hashtags
            .iter()
            .map(|t| {
                let url = state.urls.path(&format!("/tags/{}", t.to_lowercase()));
                (t.clone(), url)
            })
            .collect(),
    })
}

async fn render(state: &AppState, me: &Account, object_ap_id: &str) -> Result<Response, WebError> {
    let id = timelines::row_id_of(&state.store, object_ap_id)
        .await?
        .ok_or_else(not_found)?;
    let view = timelines::status(&state.store, Some(me.clone()), id)
        .await?
        .ok_or_else(not_found)?;
    Ok(json(&post_to_status(&view, &state.urls)))
}

/// `POST /api/v1/statuses` (JSON or form)
pub async fn create(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, WebError> {
    let me = user.need("write:statuses")?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .filter(|k| !k.is_empty() && k.len() <= 200);
    if let Some(key) = &key
        && let Some(object) = timelines::idempotent_post(&state.store, me, key).await?
    {
        return render(&state, me, &object).await;
    }
    let draft = draft_of(&state, me, &params).await?;
    let published = outbox::publish_note(&state.fed, me, draft).await?;
    if let Some(key) = &key {
        timelines::remember_idempotent_post(&state.store, me, key, &published.object_id).await?;
    }
    render(&state, me, &published.object_id).await
}

/// `GET /api/v1/statuses/:id`
pub async fn show(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    if let Some(user) = &user.0 {
        user.need("read:statuses")?;
    }
    let view = visible(&state, user.viewer(), &id).await?;
    Ok(json(&post_to_status(&view, &state.urls)))
}

/// `GET /api/v1/statuses/:id/context`
pub async fn context(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    if let Some(user) = &user.0 {
        user.need("read:statuses")?;
    }
    let (ancestors, descendants) = timelines::thread(&state.store, user.viewer(), parse_id(&id)?)
        .await?
        .ok_or_else(not_found)?;
    let convert = |views: &[PostView]| {
        views
            .iter()
            .map(|v| post_to_status(v, &state.urls))
            .collect()
    };
    Ok(json(&Context {
        ancestors: convert(&ancestors),
        descendants: convert(&descendants),
    }))
}

/// `DELETE /api/v1/statuses/:id`: the deleted status comes back (with its
/// text, as Mastodon does for "delete and redraft").
pub async fn delete(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:statuses")?;
    let view = visible(&state, Some(me.clone()), &id).await?;
    if view.post.author_id != me.id {
        return Err(refuse(
            axum::http::StatusCode::FORBIDDEN,
            "This action is not allowed",
        ));
    }
    outbox::delete_note(&state.fed, me, &view.post.ap_id).await?;
    let mut status = post_to_status(&view, &state.urls);
    status.text = Some(html_to_text(&status.content));
    Ok(json(&status))
}

fn html_to_text(html: &str) -> String {
    let spaced = html.replace("<br>", "\n").replace("</p><p>", "\n\n");
    let mut text = String::new();
    let mut in_tag = false;
    for c in spaced.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

async fn react(
    state: &AppState,
    user: &User,
    id: &str,
    scope: &str,
    kind: &str,
    undo: bool,
) -> Result<Response, WebError> {
    let me = user.need(scope)?;
    let view = visible(state, Some(me.clone()), id).await?;
    if kind == "Announce"
        && !undo
        && !matches!(
            crate::mastodon::convert::visibility_to_mastodon(
                view.post.visibility,
                &view.post.document
            ),
            "public" | "unlisted"
        )
    {
        return Err(unprocessable("This status cannot be reblogged"));
    }
    let existing = timelines::own_reaction(&state.store, me, &view.post.ap_id, kind).await?;
    match (undo, existing) {
        (false, None) => {
            client::submit(
                &state.fed,
                me,
                json!({ "type": kind, "object": view.post.ap_id }),
            )
            .await?;
        }
        (true, Some(reaction)) => {
            client::submit(
                &state.fed,
                me,
                json!({ "type": "Undo", "object": reaction }),
            )
            .await?;
        }
        _ => {}
    }
    let view = visible(state, Some(me.clone()), id).await?;
    Ok(json(&post_to_status(&view, &state.urls)))
}

/// `POST /api/v1/statuses/:id/favourite`
pub async fn favourite(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    react(&state, &user, &id, "write:favourites", "Like", false).await
}

/// `POST /api/v1/statuses/:id/unfavourite`
pub async fn unfavourite(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    react(&state, &user, &id, "write:favourites", "Like", true).await
}

/// `POST /api/v1/statuses/:id/reblog`
pub async fn reblog(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    react(&state, &user, &id, "write:statuses", "Announce", false).await
}

/// `POST /api/v1/statuses/:id/unreblog`
pub async fn unreblog(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    react(&state, &user, &id, "write:statuses", "Announce", true).await
}
