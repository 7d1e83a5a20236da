//! HTTP: axum routes and extractors only. Each handler extracts (and
//! verifies), makes one domain call, and renders.

mod actors;
pub mod auth;
mod client;
pub mod client_address;
mod collections;
pub mod error;
mod health;
mod home;
mod inbox;
pub mod mastodon;
mod media;
mod metrics;
mod mirror;
pub mod negotiate;
mod oauth;
mod objects;
mod pages;
pub mod rate_limit;
pub mod serve;
pub mod signed;
mod token;
mod webmention;
mod websub;
mod well_known;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::Config;
use crate::federation::ctx::Federation;
use crate::store::Store;
use crate::urls::Urls;

/// What every handler may use: a handle, cheap to clone (axum clones the
/// state for every extractor that asks for it, on every request).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The contents of [`AppState`].
pub struct Shared {
    pub store: Store,
    pub urls: Urls,
    pub config: Arc<Config>,
    pub fed: Federation,
    /// The login form's limits (argon2 slots, failure counts).
    pub logins: crate::domain::logins::LoginGuard,
    /// The Mastodon API's request limit.
    pub api_limits: Arc<rate_limit::RateLimiter>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config, fed: Federation) -> Self {
        AppState(Arc::new(Shared {
            urls: fed.urls.clone(),
            store: fed.store.clone(),
            logins: crate::domain::logins::LoginGuard::new(
                config.login_concurrency,
                config.login_max_failures,
            ),
            api_limits: Arc::new(rate_limit::RateLimiter::new(
                config.api_rate_limit,
                rate_limit::WINDOW,
            )),
            config: Arc::new(config),
            fed,
        }))
    }
}

/// The `Content-Security-Policy` of every HTML page: no scripts at all,
/// the pages' own inline styles, images and media from the web. Should a
/// foreign link or markup get past the sanitizer, it still cannot run.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; \
img-src http: https: data:; media-src http: https:; base-uri 'none'; object-src 'none'";

/// Every HTML page advertises the Webmention endpoint in a `Link` header
/// (the templates carry the matching `<link rel="webmention">`) and gets
/// [`PAGE_CSP`] unless it set a stricter policy of its own.
async fn advertise_webmention(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    let is_html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html
        && !response
            .headers()
            .contains_key(axum::http::header::CONTENT_SECURITY_POLICY)
    {
        response.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(PAGE_CSP),
        );
    }
    if is_html
        && let Ok(value) = axum::http::HeaderValue::from_str(&format!(
            "<{}>; rel=\"webmention\"",
            state.urls.webmention()
        ))
    {
        response
            .headers_mut()
            .append(axum::http::header::LINK, value);
    }
    response
}

/// Path prefixes whose next segment is a secret (a capability URL or a
/// status token): request logs show `…` instead.
const SECRET_PATHS: &[&str] = &["/private/", "/webmention/"];

/// A request path fit for the logs: capability tokens hidden, and no
/// query (which may carry codes and tokens).
pub fn loggable_path(path: &str) -> String {
    for prefix in SECRET_PATHS {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or_default();
            return format!("{prefix}…{tail}");
        }
    }
    path.to_owned()
}

/// The span of one request in the logs: method and redacted path, each an
/// escaped field.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::span!(
        Level::INFO,
        "request",
        method = %request.method(),
        path = ?loggable_path(request.uri().path()),
        version = ?request.version(),
    )
}

/// The whole HTTP application with its limits and request logging.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let router = Router::new()
        .route("/.well-known/webfinger", get(well_known::webfinger))
        .route("/.well-known/host-meta", get(well_known::host_meta))
        .route("/.well-known/nodeinfo", get(well_known::nodeinfo_discovery))
        .route("/nodeinfo/2.1", get(well_known::nodeinfo))
        .route("/users/{name}", get(actors::user))
        .route("/rooms/{name}", get(actors::room))
        .route("/actor", get(actors::instance))
        .route("/sites/{name}", get(actors::site))
        .route(
            "/sites/{name}/inbox",
            post(inbox::account::<{ collections::SITE }>),
        )
        .route(
            "/sites/{name}/outbox",
            get(collections::outbox::<{ collections::SITE }>),
        )
        .route(
            "/sites/{name}/followers",
            get(collections::followers::<{ collections::SITE }>),
        )
        .route(
            "/sites/{name}/following",
            get(collections::following::<{ collections::SITE }>),
        )
        .route(
            "/sites/{name}/feed.atom",
            get(collections::atom::<{ collections::SITE }>),
        )
        .route("/inbox", post(inbox::shared))
        .route(
            "/users/{name}/inbox",
            post(inbox::account::<{ collections::USER }>).get(client::get_inbox),
        )
        .route(
            "/rooms/{name}/inbox",
            post(inbox::account::<{ collections::ROOM }>),
        )
        .route("/actor/inbox", post(inbox::instance))
        .route(
            "/users/{name}/outbox",
            get(collections::outbox::<{ collections::USER }>).post(client::post_outbox),
        )
        .route(
            "/rooms/{name}/outbox",
            get(collections::outbox::<{ collections::ROOM }>),
        )
        .route(
            "/users/{name}/followers",
            get(collections::followers::<{ collections::USER }>),
        )
        .route(
            "/rooms/{name}/followers",
            get(collections::followers::<{ collections::ROOM }>),
        )
        .route(
            "/users/{name}/following",
            get(collections::following::<{ collections::USER }>),
        )
        .route(
            "/rooms/{name}/following",
            get(collections::following::<{ collections::ROOM }>),
        )
        .route(
            "/users/{name}/feed.atom",
            get(collections::atom::<{ collections::USER }>),
        )
        .route(
            "/rooms/{name}/feed.atom",
            get(collections::atom::<{ collections::ROOM }>),
        )
        .route("/objects/{id}", get(objects::object))
        .route("/objects/{id}/replies", get(collections::replies))
        .route("/contexts/{id}", get(collections::context))
        .route("/activities/{id}", get(objects::activity))
        .route("/metrics", get(metrics::metrics))
        .route("/media/{token}", get(media::image))
        .route("/static/avatar.svg", get(media::default_avatar))
        .route("/webmention", post(webmention::receive))
        .route("/mirror", get(mirror::mirror))
        .route("/websub", post(websub::hub))
        .route("/private/{key}", get(mirror::private))
        .route("/token", post(token::token))
        .route("/webmention/{token}", get(webmention::status))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata),
        )
        .route("/oauth/register", post(oauth::register))
        .route("/oauth/authorize", get(oauth::authorize).post(oauth::login))
        .route("/oauth/authorize/consent", post(oauth::consent))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/oauth/authorize/",
            get(oauth::authorize).post(oauth::login),
        )
        .merge(
            mastodon::routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                rate_limit::limit_api,
            )),
        )
        .route("/{handle}", get(actors::profile))
        .route("/healthz", get(health::healthz))
        .route("/", get(home::home))
        .fallback(|| async { error::WebError::not_found() })
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            advertise_webmention,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(
            // Browser clients (Elk, Phanpy) call the API and OAuth endpoints
            // from other origins; no cookies are used, so any origin may.
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([
                    Method::GET,
                    Method::HEAD,
                    Method::OPTIONS,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderName::from_static("idempotency-key"),
                ])
                .expose_headers([axum::http::header::LINK]),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ));
    if request_logs_enabled() {
        router.layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
    } else {
        router
    }
}

/// Whether the log filter set at start lets request lines through (their
/// span, or the line each response logs). When it does not, as under
/// `RUST_LOG=warn`, the router has no request-logging layer at all: that
/// layer otherwise times and wraps every response for lines nobody gets
/// (a few per cent of a cached GET's cost under load).
fn request_logs_enabled() -> bool {
    tracing::enabled!(target: "estuary::web", Level::INFO)
        || tracing::enabled!(target: "tower_http::trace::on_response", Level::INFO)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn capability_tokens_are_not_logged() {
        assert_eq!(loggable_path("/private/s3cr3t"), "/private/…");
        assert_eq!(loggable_path("/webmention/abc/x"), "/webmention/…/x");
        assert_eq!(loggable_path("/webmention"), "/webmention");
        assert_eq!(loggable_path("/users/alice"), "/users/alice");
    }
}
