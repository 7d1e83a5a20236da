//! `GET /`: the instance's home page (name, description, contact, its
//! people and rooms, how to take part from the fediverse or a web site).

use axum::extract::State;
use axum::response::Response;

use super::AppState;
use super::error::WebError;
use super::pages::{HomePage, html_response};
use crate::domain::instance;

pub async fn home(State(state): State<AppState>) -> Result<Response, WebError> {
    let directory = instance::directory(&state.store).await?;
    html_response(&HomePage::of(&state.config, &state.urls, &directory))
}
