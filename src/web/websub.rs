//! `POST /websub`: the hub endpoint of rooms' feeds (W3C WebSub).

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use crate::rooms::websub::{HubError, HubRequest, request};

#[derive(Debug, Deserialize)]
pub struct HubForm {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.topic")]
    topic: Option<String>,
    #[serde(rename = "hub.callback")]
    callback: Option<String>,
    #[serde(rename = "hub.lease_seconds")]
    lease_seconds: Option<String>,
    #[serde(rename = "hub.secret")]
    secret: Option<String>,
}

/// 202 when the request is accepted and its intent will be verified.
pub async fn hub(
    State(state): State<AppState>,
    Form(form): Form<HubForm>,
) -> Result<StatusCode, WebError> {
    let hub_request = HubRequest {
        mode: form.mode,
        topic: form.topic,
        callback: form.callback,
        lease_seconds: form.lease_seconds,
        secret: form.secret,
    };
    match request(&state.fed, hub_request).await? {
        Ok(()) => Ok(StatusCode::ACCEPTED),
        Err(error @ HubError::Invalid(_)) => Err(WebError::bad_request(error.to_string())),
        Err(error @ HubError::UnknownTopic) => {
            Err(WebError::new(StatusCode::NOT_FOUND, error.to_string()))
        }
        Err(error @ HubError::NotAMemberSite) => {
            Err(WebError::new(StatusCode::FORBIDDEN, error.to_string()))
        }
    }
}
