//! The client API of ActivityPub (section 6): POST to one's outbox, read
//! one's inbox, with a bearer token.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Bearer;
use super::collections::{PAGE_SIZE, PageQuery, render_page};
use super::error::WebError;
use crate::domain::accounts::{self, Account, AccountKind};
use crate::domain::posts;
use crate::federation::client::{SubmitError, submit};

async fn user(state: &AppState, name: &str) -> Result<Account, WebError> {
    accounts::find_local(&state.store, name)
        .await?
        .filter(|a| a.kind == AccountKind::Person && !a.is_hidden())
        .ok_or_else(WebError::not_found)
}

/// `POST /users/{name}/outbox`: 201 Created with `Location` = the new
/// activity's id.
pub async fn post_outbox(
    State(state): State<AppState>,
    Path(name): Path<String>,
    bearer: Bearer,
    body: Bytes,
) -> Result<Response, WebError> {
    let account = user(&state, &name).await?;
    bearer.require(&account, "write")?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| WebError::bad_request(format!("the body is not JSON: {e}")))?;
    match submit(&state.fed, &account, body).await {
        Ok(id) => Ok((
            StatusCode::CREATED,
            [(LOCATION, id.clone())],
            axum::Json(json!({ "id": id })),
        )
            .into_response()),
        Err(SubmitError::Invalid(message)) => Err(WebError::bad_request(message)),
        Err(SubmitError::Forbidden(message)) => Err(WebError::new(StatusCode::FORBIDDEN, message)),
        Err(SubmitError::Internal(cause)) => Err(WebError::internal(cause)),
    }
}

/// `GET /users/{name}/inbox`: the account's own inbox, newest first.
pub async fn get_inbox(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
    bearer: Bearer,
) -> Result<Response, WebError> {
    let account = user(&state, &name).await?;
    bearer.require(&account, "read")?;
    let page = query.number()?;
    let offset = (page.unwrap_or(1) - 1) * PAGE_SIZE;
    let found = posts::inbox_of(&state.store, account.id, offset, PAGE_SIZE).await?;
    let items = found
        .items
        .iter()
        .map(|a| serde_json::from_str::<Value>(&a.document).unwrap_or(Value::Null))
        .collect();
    render_page(&account.inbox_url, page, found.total, items)
}
