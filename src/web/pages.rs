//! HTML pages rendered with askama: microformats2 markup for people and
//! machines alike.

use askama::Template;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::error::WebError;
use crate::domain::accounts::{Account, AccountKind};
use crate::urls::Urls;

/// The profile of a user or room: an h-card.
#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    name: String,
    username: String,
    handle: String,
    host: String,
    kind_label: &'static str,
    profile_url: String,
    actor_url: String,
    photo: Option<String>,
    note_paragraphs: Vec<String>,
}

impl ProfilePage {
    pub fn of(account: &Account, urls: &Urls) -> Self {
        let host = urls.host();
        ProfilePage {
            name: account.shown_name().to_owned(),
            username: account.username.clone(),
            handle: format!("@{}@{host}", account.username),
            host,
            kind_label: match account.kind {
                AccountKind::Group if account.manually_approves_followers => "Members-only room",
                AccountKind::Group => "Room",
                _ => "Person",
            },
            profile_url: account
                .profile_url
                .clone()
                .unwrap_or_else(|| account.actor_url.clone()),
            actor_url: account.actor_url.clone(),
            photo: account.avatar_url.clone(),
            note_paragraphs: account
                .summary
                .as_deref()
                .unwrap_or_default()
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn render_response(&self) -> Result<Response, WebError> {
        let html = self.render().map_err(WebError::internal)?;
        Ok(([(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
    }
}
