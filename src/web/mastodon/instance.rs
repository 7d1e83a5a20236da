//! Discovery: `/api/v1/instance`, `/api/v2/instance`, and the default
//! avatar image every account without one shows.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::json;
use crate::domain::instance;
use crate::web::AppState;
use crate::web::error::WebError;

/// Longest status text accepted, in characters.
pub const MAX_STATUS_CHARS: usize = 5000;

/// The version strict clients parse: a Mastodon version they know, then ours.
pub fn version() -> String {
    format!(
        "{} (compatible; Estuary {})",
        crate::mastodon::MASTODON_API_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

fn configuration() -> Value {
    json!({
        "urls": {},
        "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 0 },
        "statuses": {
            "max_characters": MAX_STATUS_CHARS,
            "max_media_attachments": 0,
            "characters_reserved_per_url": 23
        },
        "media_attachments": {
            "supported_mime_types": [],
            "image_size_limit": 0,
            "image_matrix_limit": 0,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0
        },
        "translation": { "enabled": false }
    })
}

fn description(state: &AppState) -> String {
    format!(
        "Estuary at {}: the fediverse and the IndieWeb in one inbox.",
        state.urls.host()
    )
}

/// `GET /api/v1/instance`
pub async fn v1(State(state): State<AppState>) -> Result<Response, WebError> {
    let usage = instance::usage(&state.store).await?;
    Ok(json(&json!({
        "uri": state.urls.host(),
        "title": "Estuary",
        "short_description": description(&state),
        "description": description(&state),
        "email": "",
        "version": version(),
        "urls": {},
        "stats": { "user_count": usage.users, "status_count": 0, "domain_count": 0 },
        "thumbnail": state.urls.path(crate::mastodon::convert::DEFAULT_AVATAR_PATH),
        "languages": ["en"],
        "registrations": false,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": configuration(),
        "contact_account": null,
        "rules": []
    })))
}

/// `GET /api/v2/instance`
pub async fn v2(State(state): State<AppState>) -> Result<Response, WebError> {
    let usage = instance::usage(&state.store).await?;
    Ok(json(&json!({
        "domain": state.urls.host(),
        "api_versions": { "mastodon": 2 },
        "title": "Estuary",
        "version": version(),
        "source_url": state.urls.origin(),
        "description": description(&state),
        "usage": { "users": { "active_month": usage.users } },
        "thumbnail": { "url": state.urls.path(crate::mastodon::convert::DEFAULT_AVATAR_PATH) },
        "languages": ["en"],
        "configuration": configuration(),
        "registrations": { "enabled": false, "approval_required": false, "message": null },
        "contact": { "email": "", "account": null },
        "rules": []
    })))
}

/// `GET /static/avatar.png`
pub async fn avatar() -> Response {
    (
        [
            (CONTENT_TYPE, "image/png"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_bytes!("../../../static/avatar.png").as_slice(),
    )
        .into_response()
}
