//! Discovery: `/api/v1/instance`, `/api/v2/instance`, and the default
//! avatar image every account without one shows.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::json;
use crate::domain::{instance, timelines};
use crate::mastodon::convert::account_to_mastodon;
use crate::mastodon::entities;
use crate::mastodon::instance::{
    ActiveUsers, ApiVersions, Configuration, ConfigurationUrls, Contact, InstanceV1, InstanceV2,
    Registrations, Stats, Thumbnail, Usage, version,
};
use crate::web::AppState;
use crate::web::error::WebError;

fn description(state: &AppState) -> String {
    state.config.instance_description.clone()
}

/// The operator's contact when it is an e-mail address (it may be a URL).
fn email(state: &AppState) -> String {
    state
        .config
        .contact
        .as_deref()
        .filter(|c| c.contains('@') && !c.contains("://"))
        .map(|c| c.trim_start_matches("mailto:").to_owned())
        .unwrap_or_default()
}

fn thumbnail(state: &AppState) -> String {
    state
        .urls
        .path(crate::mastodon::convert::DEFAULT_AVATAR_PATH)
}

/// The overview, with the contact account as an entity.
async fn overview(
    state: &AppState,
) -> Result<(instance::Overview, Option<entities::Account>), WebError> {
    let overview = instance::overview(&state.store).await?;
    let contact = match &overview.contact {
        Some(account) => timelines::views_of(&state.store, vec![account.clone()])
            .await?
            .first()
            .map(|view| account_to_mastodon(view, &state.urls)),
        None => None,
    };
    Ok((overview, contact))
}

/// `GET /api/v1/instance`
pub async fn v1(State(state): State<AppState>) -> Result<Response, WebError> {
    let (overview, contact_account) = overview(&state).await?;
    Ok(json(&InstanceV1 {
        uri: state.urls.host(),
        title: state.config.instance_name.clone(),
        short_description: description(&state),
        description: description(&state),
        email: email(&state),
        version: version(),
        urls: ConfigurationUrls::default(),
        stats: Stats {
            user_count: overview.users,
            status_count: overview.statuses,
            domain_count: overview.domains,
        },
        thumbnail: thumbnail(&state),
        languages: vec!["en".into()],
        registrations: false,
        approval_required: false,
        invites_enabled: false,
        configuration: Configuration::current(),
        contact_account,
        rules: Vec::new(),
    }))
}

/// `GET /api/v2/instance`
pub async fn v2(State(state): State<AppState>) -> Result<Response, WebError> {
    let (overview, account) = overview(&state).await?;
    Ok(json(&InstanceV2 {
        domain: state.urls.host(),
        api_versions: ApiVersions { mastodon: 2 },
        title: state.config.instance_name.clone(),
        version: version(),
        source_url: state.urls.origin(),
        description: description(&state),
        usage: Usage {
            users: ActiveUsers {
                active_month: overview.users,
            },
        },
        thumbnail: Thumbnail {
            url: thumbnail(&state),
        },
        languages: vec!["en".into()],
        configuration: Configuration::current(),
        registrations: Registrations {
            enabled: false,
            approval_required: false,
            message: None,
        },
        contact: Contact {
            email: email(&state),
            account,
        },
        rules: Vec::new(),
    }))
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
