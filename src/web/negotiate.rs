//! Content negotiation between ActivityStreams JSON and HTML pages.
//!
//! The highest-q acceptable representation wins; on equal q, the one listed
//! first. A missing `Accept`, `*/*` and `text/*` get the HTML page (what a
//! person with a browser or curl expects); `application/*` gets JSON. When
//! nothing listed is acceptable the answer is 406.

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT;
use axum::http::request::Parts;

use super::error::WebError;
use crate::federation::{ACTIVITY_JSON, LD_JSON_AS};

/// The representation a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// `application/activity+json` (also chosen for plain `application/json`).
    ActivityJson,
    /// `application/ld+json` with the ActivityStreams profile.
    LdJson,
    Html,
}

impl Representation {
    /// The `Content-Type` to answer with.
    pub fn content_type(self) -> &'static str {
        match self {
            Representation::ActivityJson => ACTIVITY_JSON,
            Representation::LdJson => LD_JSON_AS,
            Representation::Html => "text/html; charset=utf-8",
        }
    }
}

/// Picks a representation from an `Accept` header value.
pub fn choose(accept: Option<&str>) -> Option<Representation> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Some(Representation::Html);
    };
    let mut best: Option<(f32, Representation)> = None;
    for range in accept.split(',') {
        let mut params = range.split(';').map(str::trim);
        let media = params.next().unwrap_or_default().to_ascii_lowercase();
        let mut q = 1.0f32;
        for param in params {
            if let Some((key, value)) = param.split_once('=')
                && key.trim().eq_ignore_ascii_case("q")
            {
                q = value.trim().parse().unwrap_or(0.0);
            }
        }
        let representation = match media.as_str() {
            "application/activity+json" | "application/json" | "application/*" => {
                Representation::ActivityJson
            }
            "application/ld+json" => Representation::LdJson,
            "text/html" | "application/xhtml+xml" | "text/*" | "*/*" => Representation::Html,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, representation));
        }
    }
    best.map(|(_, representation)| representation)
}

impl<S: Send + Sync> FromRequestParts<S> for Representation {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, WebError> {
        let accept = parts
            .headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        choose(Some(&accept)).ok_or_else(WebError::not_acceptable)
    }
}

#[cfg(test)]
mod tests {
    use super::Representation::*;
    use super::*;

    #[test]
    fn fediverse_and_browser_accepts() {
        assert_eq!(
            choose(Some("application/activity+json")),
            Some(ActivityJson)
        );
        assert_eq!(
            choose(Some(
                "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
            )),
            Some(LdJson)
        );
        assert_eq!(
            choose(Some(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            )),
            Some(Html)
        );
        // Mastodon's fetcher.
        assert_eq!(
            choose(Some(
                "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", text/html;q=0.1"
            )),
            Some(ActivityJson)
        );
        assert_eq!(
            choose(Some("text/html;q=0.5, application/json")),
            Some(ActivityJson)
        );
        assert_eq!(choose(None), Some(Html));
        assert_eq!(choose(Some("*/*")), Some(Html));
        assert_eq!(choose(Some("image/png")), None);
        assert_eq!(choose(Some("application/activity+json;q=0")), None);
    }
}
