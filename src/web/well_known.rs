//! Discovery: WebFinger, host-meta and NodeInfo.

use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::HeaderValue;

use super::AppState;
use super::error::WebError;
use crate::domain::accounts;
use crate::domain::instance;
use crate::federation::actor_cache::LocalActor;
use crate::federation::nodeinfo::{CONTENT_TYPE_2_1, build_discovery, build_nodeinfo};
use crate::federation::webfinger::{JRD_JSON, ResourceQuery, parse_resource};

/// `GET /.well-known/webfinger?resource=…`
pub async fn webfinger(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let resource = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "resource")
        .map(|(_, value)| value.into_owned());
    let query =
        parse_resource(resource.as_deref()).map_err(|e| WebError::bad_request(e.to_string()))?;
    let actor = find_resource(&state, query)
        .await?
        .filter(|a| !a.account.is_hidden())
        .ok_or_else(WebError::not_found)?;
    Ok(cached_json_response(
        JRD_JSON,
        actor.jrd_json(&state.urls).map_err(WebError::internal)?,
    ))
}

async fn find_resource(
    state: &AppState,
    query: ResourceQuery,
) -> Result<Option<Arc<LocalActor>>, WebError> {
    let not_here = || WebError::bad_request("the resource is not on this instance");
    let instance_actor = || Arc::new(LocalActor::new((*state.fed.instance_actor).clone()));
    let cache = &state.fed.actors;
    match query {
        ResourceQuery::Handle { name, host } => {
            if !host.eq_ignore_ascii_case(&state.urls.host()) {
                return Err(not_here());
            }
            // The instance actor answers to `host@host`, as on Mastodon.
            if name == accounts::INSTANCE_ACTOR || name.eq_ignore_ascii_case(&host) {
                return Ok(Some(instance_actor()));
            }
            Ok(match cache.local(&state.store, &name).await? {
                Some(found) => Some(found),
                None => cache.proxy(&state.store, &name).await?,
            })
        }
        ResourceQuery::Url(url) if url == state.urls.instance_actor() => Ok(Some(instance_actor())),
        ResourceQuery::Url(url) => {
            let Some((prefix, name)) = state.urls.local_name_of(&url) else {
                return match url.starts_with(&state.urls.origin()) {
                    true => Ok(None),
                    false => Err(not_here()),
                };
            };
            let actor = match cache.local(&state.store, name).await? {
                Some(found) => Some(found),
                None => cache.proxy(&state.store, name).await?,
            };
            Ok(actor.filter(|a| prefix.is_none_or(|p| p == a.account.path_prefix())))
        }
    }
}

/// `GET /.well-known/host-meta`: the XRD pointing at WebFinger.
pub async fn host_meta(State(state): State<AppState>) -> Response {
    let template = crate::federation::actor::escape_html(&state.urls.webfinger_template());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{template}\"/>\n\
         </XRD>\n"
    );
    ([(CONTENT_TYPE, "application/xrd+xml; charset=utf-8")], body).into_response()
}

/// `GET /.well-known/nodeinfo`
pub async fn nodeinfo_discovery(State(state): State<AppState>) -> Result<Response, WebError> {
    json_response("application/json", &build_discovery(&state.urls.nodeinfo()))
}

/// `GET /nodeinfo/2.1`
pub async fn nodeinfo(State(state): State<AppState>) -> Result<Response, WebError> {
    let usage = instance::usage(&state.store).await?;
    json_response(CONTENT_TYPE_2_1, &build_nodeinfo(usage))
}

/// Serialises `value` with an explicit content type.
pub fn json_response(
    content_type: &str,
    value: &impl serde::Serialize,
) -> Result<Response, WebError> {
    let body = serde_json::to_vec(value).map_err(WebError::internal)?;
    Ok(([(CONTENT_TYPE, content_type.to_owned())], body).into_response())
}

/// A document serialised earlier, with an explicit content type.
pub fn cached_json_response(content_type: &'static str, body: Arc<[u8]>) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        Body::from(Bytes::from_owner(body)),
    )
        .into_response()
}
