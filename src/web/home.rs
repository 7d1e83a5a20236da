//! `GET /`: the instance's home page (name, description, contact, its
//! people and rooms, how to take part from the fediverse or a web site);
//! its `Link` names the token endpoint (Ticket Auth's issuer).

use axum::extract::State;
use axum::response::Response;

use super::AppState;
use super::error::WebError;
use super::pages::{HomePage, html_response};
use crate::domain::instance;

pub async fn home(State(state): State<AppState>) -> Result<Response, WebError> {
    let directory = instance::directory(&state.store).await?;
    let mut response = html_response(&HomePage::of(&state.config, &state.urls, &directory))?;
    // Ticket Auth: a site redeems our tickets at the issuer's token endpoint.
    if let Ok(link) = axum::http::HeaderValue::from_str(&format!(
        "<{}>; rel=\"token_endpoint\"",
        state.urls.token_endpoint()
    )) {
        response
            .headers_mut()
            .append(axum::http::header::LINK, link);
    }
    Ok(response)
}
