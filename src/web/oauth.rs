//! The OAuth 2 authorization server: metadata (RFC 8414), dynamic client
//! registration (RFC 7591), the authorization endpoint (login, then
//! consent), the token endpoint (code + PKCE S256) and revocation (RFC 7009).

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::client_address::ClientAddress;
use super::error::WebError;
use super::mastodon::params::Params;
use super::pages::MessagePage;
use crate::domain::logins::{self, LoginOutcome};
use crate::domain::oauth::{
    self, Client, CodeExchange, GrantRequest, KNOWN_SCOPES, OAuthError, requested_scopes,
};

/// `GET /.well-known/oauth-authorization-server`
pub async fn metadata(State(state): State<AppState>) -> Json<Value> {
    let url = |path: &str| state.urls.path(path);
    Json(json!({
        "issuer": state.urls.origin(),
        "authorization_endpoint": url("/oauth/authorize"),
        "token_endpoint": url("/oauth/token"),
        "registration_endpoint": url("/oauth/register"),
        "revocation_endpoint": url("/oauth/revoke"),
        "scopes_supported": KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    }))
}

/// An RFC 6749 error body.
fn oauth_error(status: StatusCode, error: &OAuthError) -> Response {
    let description = error.to_string();
    tracing::info!(?description, "oauth request refused");
    (
        status,
        [(CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error.code(), "error_description": description })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct Registration {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
}

/// `POST /oauth/register`
pub async fn register(
    State(state): State<AppState>,
    body: Result<Json<Registration>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, WebError> {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                &OAuthError::InvalidRequest(rejection.body_text()),
            ));
        }
    };
    let method = request
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("none");
    let confidential = match method {
        "none" => false,
        "client_secret_basic" | "client_secret_post" => true,
        other => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                &OAuthError::InvalidRequest(format!(
                    "unsupported token_endpoint_auth_method {other}"
                )),
            ));
        }
    };
    let uris = request.redirect_uris.unwrap_or_default();
    let name = request.client_name.unwrap_or_default();
    match oauth::register_client(&state.store, &name, uris, confidential).await? {
        Ok(registered) => {
            let mut body = json!({
                "client_id": registered.client.client_id,
                "client_id_issued_at": chrono::Utc::now().timestamp(),
                "client_name": registered.client.name,
                "redirect_uris": registered.client.redirect_uris,
                "token_endpoint_auth_method": method,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            });
            if let Some(secret) = registered.client_secret {
                body["client_secret"] = json!(secret);
                body["client_secret_expires_at"] = json!(0);
            }
            Ok((
                StatusCode::CREATED,
                [(CACHE_CONTROL, "no-store")],
                Json(body),
            )
                .into_response())
        }
        Err(error) => Ok(oauth_error(StatusCode::BAD_REQUEST, &error)),
    }
}

/// The parameters of an authorization request.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// The page policy, and no framing.
const OAUTH_CSP: &str = concat!(
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; ",
    "img-src http: https: data:; media-src http: https:; base-uri 'none'; object-src 'none'",
    "; frame-ancestors 'none'"
);

/// A login or consent page: never cached, never framed (no clickjacking of
/// the Allow button).
fn page(status: StatusCode, template: &impl Template) -> Result<Response, WebError> {
    let html = template.render().map_err(WebError::internal)?;
    Ok((
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (axum::http::header::X_FRAME_OPTIONS, "DENY"),
            (axum::http::header::CONTENT_SECURITY_POLICY, OAUTH_CSP),
        ],
        html,
    )
        .into_response())
}

fn message(
    state: &AppState,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Result<Response, WebError> {
    page(
        status,
        &MessagePage {
            webmention: state.urls.webmention(),
            title,
            message: text,
        },
    )
}

/// The out-of-band "redirect": a page showing the code (or the refusal)
/// for the person to copy into the application.
fn out_of_band(params: &[(&str, Option<&str>)]) -> Response {
    let value = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| *v)
    };
    let (title, text) = match (value("code"), value("error")) {
        (Some(code), _) => ("Your authorization code", code.to_owned()),
        (None, error) => (
            "Not authorized",
            format!("The request was refused ({}).", error.unwrap_or("error")),
        ),
    };
    let html = MessagePage {
        webmention: String::new(),
        title,
        message: &text,
    }
    .render();
    match html {
        Ok(html) => (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A redirect back to the client with query parameters.
fn back_to_client(redirect_uri: &str, params: &[(&str, Option<&str>)]) -> Response {
    if redirect_uri == oauth::OOB_REDIRECT {
        return out_of_band(params);
    }
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in params {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
    }
    Redirect::to(url.as_str()).into_response()
}

/// Checks an authorization request. Errors about the client or redirect
/// URI are shown to the user (never redirected to an unverified URI);
/// others are sent back to the client.
async fn check_request(
    state: &AppState,
    params: &AuthorizeParams,
) -> Result<Result<(Client, GrantRequest), Box<Response>>, WebError> {
    let Some(client) = oauth::find_client(
        &state.store,
        params.client_id.as_deref().unwrap_or_default(),
    )
    .await?
    else {
        return Ok(Err(Box::new(message(
            state,
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "This sign-in link names an application that is not registered here.",
        )?)));
    };
    let Some(redirect_uri) = params
        .redirect_uri
        .clone()
        .filter(|uri| client.redirect_uris.contains(uri))
    else {
        return Ok(Err(Box::new(message(
            state,
            StatusCode::BAD_REQUEST,
            "Wrong return address",
            "The application asked to return to an address it did not register.",
        )?)));
    };
    let fail = |error: &str| {
        Err(Box::new(back_to_client(
            &redirect_uri,
            &[("error", Some(error)), ("state", params.state.as_deref())],
        )))
    };
    if params.response_type.as_deref() != Some("code") {
        return Ok(fail("unsupported_response_type"));
    }
    // PKCE S256: required of public clients; a confidential client (it has
    // a secret, as every Mastodon app does) may go without.
    let challenge = params
        .code_challenge
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_default();
    if challenge.is_empty() {
        if !client.confidential {
            return Ok(fail("invalid_request"));
        }
    } else if params.code_challenge_method.as_deref() != Some("S256") || challenge.len() != 43 {
        return Ok(fail("invalid_request"));
    }
    let Ok(scopes) = requested_scopes(params.scope.as_deref()) else {
        return Ok(fail("invalid_scope"));
    };
    Ok(Ok((
        client.clone(),
        GrantRequest {
            client_id: client.client_id,
            redirect_uri,
            scopes,
            state: params.state.clone(),
            code_challenge: challenge,
        },
    )))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    webmention: String,
    host: String,
    client_name: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    code_challenge: String,
    username: String,
    error: Option<String>,
}

fn login_page(
    state: &AppState,
    client: &Client,
    request: &GrantRequest,
    username: &str,
    error: Option<&str>,
) -> LoginPage {
    LoginPage {
        webmention: state.urls.webmention(),
        host: state.urls.host(),
        client_name: client.name.clone(),
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scope: request.scopes.as_text(),
        state: request.state.clone(),
        code_challenge: request.code_challenge.clone(),
        username: username.to_owned(),
        error: error.map(str::to_owned),
    }
}

/// `GET /oauth/authorize`: the login form.
pub async fn authorize(
    State(state): State<AppState>,
    Query(params): Query<AuthorizeParams>,
) -> Result<Response, WebError> {
    match check_request(&state, &params).await? {
        Ok((client, request)) => page(
            StatusCode::OK,
            &login_page(&state, &client, &request, "", None),
        ),
        Err(response) => Ok(*response),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    username: String,
    password: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    webmention: String,
    host: String,
    client_name: String,
    username: String,
    scopes: Vec<String>,
    consent: String,
}

/// `POST /oauth/authorize`: checks the password, then asks for consent.
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let (client, request) = match check_request(&state, &form.params).await? {
        Ok(checked) => checked,
        Err(response) => return Ok(*response),
    };
    let outcome = logins::log_in(
        &state.store,
        &state.logins,
        &form.username,
        form.password,
        address,
    )
    .await?;
    let account = match outcome {
        LoginOutcome::LoggedIn(account) => *account,
        LoginOutcome::Wrong => {
            tracing::info!(username = ?form.username, ?address, "login failed");
            let login = login_page(
                &state,
                &client,
                &request,
                &form.username,
                Some("The user name or password is wrong."),
            );
            return page(StatusCode::UNAUTHORIZED, &login);
        }
        LoginOutcome::Throttled(wait) => {
            tracing::warn!(username = ?form.username, ?address, "login throttled");
            let login = login_page(
                &state,
                &client,
                &request,
                &form.username,
                Some("Too many failed logins. Please wait a few minutes and try again."),
            );
            let mut response = page(StatusCode::TOO_MANY_REQUESTS, &login)?;
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(wait.as_secs().max(1)),
            );
            return Ok(response);
        }
    };
    let scopes = request.scopes.0.clone();
    let consent = oauth::begin_grant(&state.store, &account, request).await?;
    page(
        StatusCode::OK,
        &ConsentPage {
            webmention: state.urls.webmention(),
            host: state.urls.host(),
            client_name: client.name,
            username: account.username,
            scopes,
            consent,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    consent: String,
    decision: String,
}

/// `POST /oauth/authorize/consent`: back to the client with a code or a
/// refusal.
pub async fn consent(
    State(state): State<AppState>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, WebError> {
    let allow = form.decision == "allow";
    let Some(decision) = oauth::decide(&state.store, &form.consent, allow).await? else {
        return message(
            &state,
            StatusCode::BAD_REQUEST,
            "This request has expired",
            "Start signing in again from the application.",
        );
    };
    let state_param = decision.state.as_deref();
    Ok(match decision.code {
        Some(code) => back_to_client(
            &decision.redirect_uri,
            &[("code", Some(&code)), ("state", state_param)],
        ),
        None => back_to_client(
            &decision.redirect_uri,
            &[("error", Some("access_denied")), ("state", state_param)],
        ),
    })
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// `POST /oauth/token`: form, JSON or multipart; client credentials in the
/// body or by HTTP Basic.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Params,
) -> Result<Response, WebError> {
    if form.get("grant_type") != Some("authorization_code") {
        return Ok((
            StatusCode::BAD_REQUEST,
            [(CACHE_CONTROL, "no-store")],
            Json(json!({ "error": "unsupported_grant_type" })),
        )
            .into_response());
    }
    let owned = |name: &str| form.get(name).map(str::to_owned);
    let (client_id, client_secret) = match basic_credentials(&headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (owned("client_id"), owned("client_secret")),
    };
    let missing = |what: &str| {
        Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            &OAuthError::InvalidRequest(format!("{what} is required")),
        ))
    };
    let Some(client_id) = client_id else {
        return missing("client_id");
    };
    let Some(code) = owned("code") else {
        return missing("code");
    };
    let Some(redirect_uri) = owned("redirect_uri") else {
        return missing("redirect_uri");
    };
    let exchange = CodeExchange {
        code,
        client_id,
        client_secret,
        redirect_uri,
        code_verifier: owned("code_verifier"),
    };
    match oauth::exchange_code(&state.store, exchange).await? {
        Ok(issued) => Ok((
            [(CACHE_CONTROL, "no-store")],
            Json(json!({
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scopes.as_text(),
                "created_at": issued.created_at,
            })),
        )
            .into_response()),
        Err(error @ OAuthError::InvalidClient) => Ok(oauth_error(StatusCode::UNAUTHORIZED, &error)),
        Err(error) => Ok(oauth_error(StatusCode::BAD_REQUEST, &error)),
    }
}

/// `POST /oauth/revoke`: always 200, known token or not (RFC 7009 §2.2).
pub async fn revoke(State(state): State<AppState>, form: Params) -> Result<Response, WebError> {
    let Some(token) = form.get("token").map(str::to_owned) else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            &OAuthError::InvalidRequest("token is required".into()),
        ));
    };
    oauth::revoke(&state.store, &token).await?;
    Ok((StatusCode::OK, Json(json!({}))).into_response())
}
