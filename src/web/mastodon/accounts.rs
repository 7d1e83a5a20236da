//! Accounts: the signed-in one (`verify_credentials`), others by id or
//! handle (WebFinger for remote ones), their posts and follow lists,
//! relationships, and follow / unfollow / block through the same
//! operations as the ActivityPub client API.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::params::Params;
use super::{MaybeUser, User, json, not_found, paged, parse_id, unprocessable};
use crate::domain::accounts::Account;
use crate::domain::timelines::{self, AccountView};
use crate::federation::{client, outbox, resolve};
use crate::mastodon::convert::{
    account_to_mastodon, credential_account_to_mastodon, post_to_status, relationship_to_mastodon,
};
use crate::mastodon::entities::Search;
use crate::mastodon::paging::page_query;
use crate::web::AppState;
use crate::web::error::WebError;

async fn account_view(state: &AppState, id: &str) -> Result<AccountView, WebError> {
    let id = parse_id(id)?;
    timelines::accounts(&state.store, vec![id])
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// `GET /api/v1/accounts/verify_credentials`
pub async fn verify_credentials(
    State(state): State<AppState>,
    user: User,
) -> Result<Response, WebError> {
    let me = if user.0.0.scopes.allows("profile") {
        user.me()
    } else {
        user.need("read:accounts")?
    };
    let view = timelines::views_of(&state.store, vec![me.clone()])
        .await?
        .pop()
        .ok_or_else(not_found)?;
    let requests = timelines::follow_request_count(&state.store, me).await?;
    Ok(json(&credential_account_to_mastodon(
        &view,
        &state.urls,
        requests,
    )))
}

/// `GET /api/v1/accounts/:id`
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let view = account_view(&state, &id).await?;
    Ok(json(&account_to_mastodon(&view, &state.urls)))
}

/// Finds a stored account by handle, else asks its server (WebFinger).
async fn find_or_resolve(state: &AppState, acct: &str) -> Result<Option<AccountView>, WebError> {
    let acct = acct.trim().trim_start_matches('@');
    if let Some(found) = timelines::account_by_acct(&state.store, &state.urls.host(), acct).await? {
        return Ok(Some(found));
    }
    if !acct.contains('@') {
        return Ok(None);
    }
    match resolve::handle(&state.fed, acct).await {
        Ok(account) => Ok(timelines::views_of(&state.store, vec![account])
            .await?
            .pop()),
        Err(error) => {
            tracing::info!(%acct, %error, "account not resolved");
            Ok(None)
        }
    }
}

/// `GET /api/v1/accounts/lookup?acct=`
pub async fn lookup(State(state): State<AppState>, params: Params) -> Result<Response, WebError> {
    let acct = params.get("acct").ok_or_else(not_found)?;
    let view = find_or_resolve(&state, acct).await?.ok_or_else(not_found)?;
    Ok(json(&account_to_mastodon(&view, &state.urls)))
}

async fn search_accounts_for(
    state: &AppState,
    user: &MaybeUser,
    params: &Params,
) -> Result<Vec<AccountView>, WebError> {
    let q = params.get("q").unwrap_or_default().trim().to_owned();
    let resolve = params.flag("resolve") && user.0.is_some();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    if q.starts_with("https://") || q.starts_with("http://") {
        if !resolve {
            return Ok(Vec::new());
        }
        return Ok(match resolve::actor(&state.fed, &q).await {
            Ok(account) => timelines::views_of(&state.store, vec![account]).await?,
            Err(_) => Vec::new(),
        });
    }
    let found = if resolve {
        find_or_resolve(state, &q).await?
    } else {
        timelines::account_by_acct(&state.store, &state.urls.host(), q.trim_start_matches('@'))
            .await?
    };
    Ok(found.into_iter().collect())
}

/// `GET /api/v2/search?q=@user@host&resolve=true` (accounts only)
pub async fn search(
    State(state): State<AppState>,
    user: MaybeUser,
    params: Params,
) -> Result<Response, WebError> {
    if let Some(user) = &user.0 {
        user.need("read:search")?;
    }
    let wants_accounts = params.get("type").is_none_or(|t| t == "accounts");
    let accounts = if wants_accounts {
        search_accounts_for(&state, &user, &params).await?
    } else {
        Vec::new()
    };
    Ok(json(&Search {
        accounts: accounts
            .iter()
            .map(|a| account_to_mastodon(a, &state.urls))
            .collect(),
        statuses: Vec::new(),
        hashtags: Vec::new(),
    }))
}

/// `GET /api/v1/accounts/search?q=`
pub async fn search_accounts(
    State(state): State<AppState>,
    user: MaybeUser,
    params: Params,
) -> Result<Response, WebError> {
    let accounts = search_accounts_for(&state, &user, &params).await?;
    Ok(json(
        &accounts
            .iter()
            .map(|a| account_to_mastodon(a, &state.urls))
            .collect::<Vec<_>>(),
    ))
}

/// `GET /api/v1/accounts/:id/statuses`
pub async fn statuses(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, WebError> {
    let author = account_view(&state, &id).await?;
    let page = page_query(
        params.get("max_id"),
        params.get("since_id"),
        params.get("min_id"),
        params.get("limit"),
    );
    let views =
        timelines::account_posts(&state.store, user.viewer(), author.account.id, page).await?;
    let statuses: Vec<_> = views
        .iter()
        .map(|v| post_to_status(v, &state.urls))
        .collect();
    let ids: Vec<i64> = views.iter().map(|v| v.id).collect();
    Ok(paged(
        &state,
        &format!("/api/v1/accounts/{id}/statuses"),
        &statuses,
        &ids,
        &[],
    ))
}

async fn follow_list(
    state: &AppState,
    id: &str,
    params: &Params,
    followers: bool,
) -> Result<Response, WebError> {
    let account = account_view(state, id).await?;
    let page = page_query(
        params.get("max_id"),
        params.get("since_id"),
        params.get("min_id"),
        params.get("limit"),
    );
    let found = timelines::follow_list(&state.store, account.account.id, followers, page).await?;
    let entities: Vec<_> = found
        .iter()
        .map(|(_, view)| account_to_mastodon(view, &state.urls))
        .collect();
    let keys: Vec<i64> = found.iter().map(|(key, _)| *key).collect();
    let which = if followers { "followers" } else { "following" };
    let path = format!("/api/v1/accounts/{}/{which}", account.account.id);
    Ok(paged(state, &path, &entities, &keys, &[]))
}

/// `GET /api/v1/accounts/:id/followers`
pub async fn followers(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, WebError> {
    follow_list(&state, &id, &params, true).await
}

/// `GET /api/v1/accounts/:id/following`
pub async fn following(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, WebError> {
    follow_list(&state, &id, &params, false).await
}

/// `GET /api/v1/accounts/relationships?id[]=`
pub async fn relationships(
    State(state): State<AppState>,
    user: User,
    params: Params,
) -> Result<Response, WebError> {
    let me = user.need("read:follows")?;
    let ids: Vec<i64> = params
        .all("id")
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    let found = timelines::relationships(&state.store, me, ids).await?;
    Ok(json(
        &found
            .iter()
            .map(relationship_to_mastodon)
            .collect::<Vec<_>>(),
    ))
}

async fn relationship(state: &AppState, me: &Account, id: i64) -> Result<Response, WebError> {
    let found = timelines::relationships(&state.store, me, vec![id]).await?;
    Ok(json(&found.first().map(relationship_to_mastodon)))
}

/// `POST /api/v1/accounts/:id/follow`
pub async fn follow(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:follows")?;
    let target = account_view(&state, &id).await?.account;
    if target.id == me.id {
        return Err(unprocessable("You cannot follow yourself"));
    }
    if timelines::own_follow_id(&state.store, me, target.id)
        .await?
        .is_none()
    {
        outbox::follow(&state.fed, me, &target.actor_url).await?;
    }
    relationship(&state, me, target.id).await
}

/// `POST /api/v1/accounts/:id/unfollow`
pub async fn unfollow(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:follows")?;
    let target = account_view(&state, &id).await?.account;
    if let Some(follow_id) = timelines::own_follow_id(&state.store, me, target.id).await? {
        client::submit(
            &state.fed,
            me,
            json!({ "type": "Undo", "object": follow_id }),
        )
        .await?;
    }
    relationship(&state, me, target.id).await
}

/// `POST /api/v1/accounts/:id/block`
pub async fn block(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:blocks")?;
    let target = account_view(&state, &id).await?.account;
    if target.id == me.id {
        return Err(unprocessable("You cannot block yourself"));
    }
    let current = timelines::relationships(&state.store, me, vec![target.id]).await?;
    if !current.first().is_some_and(|r| r.blocking) {
        client::submit(
            &state.fed,
            me,
            json!({ "type": "Block", "object": target.actor_url }),
        )
        .await?;
    }
    relationship(&state, me, target.id).await
}

/// `POST /api/v1/accounts/:id/unblock`: the Undo of one's Block.
pub async fn unblock(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = user.need("write:blocks")?;
    let target = account_view(&state, &id).await?.account;
    if let Some(block_id) = timelines::own_block_id(&state.store, me, target.id).await? {
        client::submit(
            &state.fed,
            me,
            json!({ "type": "Undo", "object": block_id }),
        )
        .await?;
    }
    relationship(&state, me, target.id).await
}
