//! `POST /api/v1/apps`: a Mastodon app registers as a confidential OAuth
//! client (it gets a secret, so PKCE is optional for it).

use axum::extract::State;
use axum::response::Response;

use super::params::Params;
use super::{json, unprocessable};
use crate::domain::oauth::{self, requested_scopes};
use crate::mastodon::entities::CredentialApplication;
use crate::web::AppState;
use crate::web::error::WebError;

/// `POST /api/v1/apps` (form, JSON or query parameters)
pub async fn create(State(state): State<AppState>, params: Params) -> Result<Response, WebError> {
    let name = params
        .get("client_name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| unprocessable("Validation failed: Application name can't be blank"))?
        .to_owned();
    let redirect_uris: Vec<String> = params
        .all("redirect_uris")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(str::to_owned)
        .collect();
    if redirect_uris.is_empty() {
        return Err(unprocessable(
            "Validation failed: Redirect URI can't be blank",
        ));
    }
    let scopes = requested_scopes(params.get("scopes"))
        .map_err(|_| unprocessable("Validation failed: Scopes are not known"))?;
    let website = params.get("website").map(str::to_owned);
    let registered = oauth::register_client(&state.store, &name, redirect_uris, true)
        .await?
        .map_err(|_| unprocessable("Validation failed: Redirect URI must be an absolute URI."))?;
    let client = registered.client;
    Ok(json(&CredentialApplication {
        id: client.client_id.clone(),
        name: client.name,
        website,
        scopes: scopes.0,
        redirect_uri: client.redirect_uris.join("\n"),
        redirect_uris: client.redirect_uris,
        client_id: client.client_id,
        client_secret: registered.client_secret.unwrap_or_default(),
        vapid_key: String::new(),
    }))
}
