//! The Webmention endpoint (W3C Recommendation): synchronous checks, then
//! 202 with a status URL; verification happens in the queue.

use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::WebError;
use crate::domain::accounts;
use crate::domain::posts::{self, Lookup};
use crate::domain::webmentions;

#[derive(Debug, Deserialize)]
pub struct MentionForm {
    source: Option<String>,
    target: Option<String>,
    /// Private Webmention: a code to redeem at the source's token endpoint.
    code: Option<String>,
    realm: Option<String>,
}

/// Longest `code` or `realm` accepted.
const MAX_CODE_BYTES: usize = 1024;

fn web_url(text: &str) -> Option<url::Url> {
    url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Whether `target` is a page of this instance: a public post, or an
/// actor's page.
async fn is_local_page(state: &AppState, target: &str) -> Result<bool, WebError> {
    if !target.starts_with(&format!("{}/", state.urls.origin())) {
        return Ok(false);
    }
    if let Some((_, name)) = state.urls.local_name_of(target) {
        let found = match accounts::find_local(&state.store, name).await? {
            Some(found) => Some(found),
            None => accounts::find_proxy(&state.store, name).await?,
        };
        return Ok(found.is_some());
    }
    Ok(matches!(
        posts::local_post_for(&state.store, target, None).await?,
        Lookup::Found(_)
    ))
}

/// `POST /webmention`
pub async fn receive(
    State(state): State<AppState>,
    Form(form): Form<MentionForm>,
) -> Result<Response, WebError> {
    let (Some(source), Some(target)) = (form.source, form.target) else {
        return Err(WebError::bad_request("source and target are required"));
    };
    let (Some(source_url), Some(_)) = (web_url(&source), web_url(&target)) else {
        return Err(WebError::bad_request(
            "source and target must be http(s) URLs",
        ));
    };
    if source == target {
        return Err(WebError::bad_request("source and target are the same"));
    }
    let private = match form.code.filter(|c| !c.is_empty()) {
        Some(code) if code.len() > MAX_CODE_BYTES => {
            return Err(WebError::bad_request("the code is too long"));
        }
        Some(code) => Some(webmentions::PrivateCode {
            code,
            realm: form
                .realm
                .filter(|r| !r.is_empty() && r.len() <= MAX_CODE_BYTES),
        }),
        None => None,
    };
    // A private mention may name a page only its readers see (a private
    // page, a direct note): which one exists is verification's business,
    // never told here.
    let on_this_instance = target.starts_with(&format!("{}/", state.urls.origin()));
    if !(is_local_page(&state, &target).await? || private.is_some() && on_this_instance) {
        return Err(WebError::bad_request(
            "the target is not a page of this instance",
        ));
    }
    let rate_key = webmentions::rate_key(&source_url);
    let limits = webmentions::ReceiveLimits {
        per_minute: i64::from(state.config.webmention_rate_per_minute),
        max_queued: i64::from(state.config.webmention_queue_max),
    };
    match webmentions::receive(&state.store, &source, &target, &rate_key, private, limits).await? {
        Ok(mention) => {
            state.fed.wake.notify_one();
            let status_url = state.urls.path(&format!("/webmention/{}", mention.token));
            Ok((
                StatusCode::ACCEPTED,
                [(LOCATION, status_url.clone())],
                Json(json!({ "status": mention.status.as_str(), "location": status_url })),
            )
                .into_response())
        }
        Err(webmentions::RateLimited::Site) => Err(WebError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many Webmentions from this site; try again in a minute",
        )
        .with_retry_after(60)),
        Err(webmentions::RateLimited::Queue) => Err(WebError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many Webmentions are waiting for verification; try again later",
        )
        .with_retry_after(300)),
    }
}

/// `GET /webmention/{token}`: queued, verified, rejected or deleted, and why.
pub async fn status(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let mention = webmentions::by_token(&state.store, &token)
        .await?
        .ok_or_else(WebError::not_found)?;
    Ok(Json(json!({
        "source": mention.source,
        "target": mention.target,
        "status": mention.status.as_str(),
        "reason": mention.reason,
        "object": mention.object_ap_id,
    }))
    .into_response())
}
