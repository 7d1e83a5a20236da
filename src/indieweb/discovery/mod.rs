//! Webmention endpoint discovery (W3C Webmention §3.1.2) and sending
//! (§3.1.3).
//!
//! The target is fetched (redirects followed); the endpoint is the first
//! `Link` header link with `rel="webmention"`, else the first `<link>` or
//! `<a>` element with that rel and an `href`, in document order. Relative
//! URLs resolve against the URL the page was finally served from (header
//! links) or the document's base URL (elements: `<base href>` if any, else
//! the same final URL). The endpoint is used exactly as resolved, query
//! string included. [`endpoint_from_page`] is the pure part; [`discover`]
//! and [`send`] do the requests through the guarded [`Fetcher`], so an
//! endpoint on a forbidden address is refused like any other URL.

mod html;
mod link_header;

use std::time::Duration;

use http::header::{CONTENT_TYPE, LINK};
use http::{HeaderMap, StatusCode};
use url::Url;

use crate::federation::fetch::{FetchError, Fetcher};

/// The relation type that names a Webmention endpoint.
const WEBMENTION: &str = "webmention";

/// Most of a target page read when looking for its endpoint.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Redirects followed from the target to the page that names the endpoint.
pub const MAX_REDIRECTS: usize = 20;

/// What became of a Webmention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The endpoint answered 2xx (200, 201 or 202). `location` is its
    /// `Location` header as sent (a status page, with 201).
    Sent {
        status: StatusCode,
        location: Option<String>,
    },
    /// The target advertises no endpoint: nothing to send.
    NoEndpoint,
    /// The endpoint answered something else (4xx, 5xx, or a 3xx, which is
    /// not followed); `retry_after` from its `Retry-After` header.
    Refused {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
}

/// The Webmention endpoint a fetched page advertises: `final_url` is where it
/// was served from after redirects. `Link` headers win over the HTML; the
/// body is only read when the page is HTML (or says nothing about its type).
/// Candidates that do not resolve to an http(s) URL are passed over.
pub fn endpoint_from_page(final_url: &Url, headers: &HeaderMap, body: &[u8]) -> Option<Url> {
    rel_from_page(final_url, headers, body, WEBMENTION)
}

/// The same discovery for another relation (a Private Webmention source's
/// `token_endpoint`).
pub fn rel_from_page(
    final_url: &Url,
    headers: &HeaderMap,
    body: &[u8],
    relation: &str,
) -> Option<Url> {
    endpoint_from_link_headers(final_url, headers, relation).or_else(|| {
        is_html(headers)
            .then(|| endpoint_from_html(final_url, body, relation))
            .flatten()
    })
}

/// Fetches `target` (at most [`MAX_PAGE_BYTES`], [`MAX_REDIRECTS`]
/// redirects) and discovers its Webmention endpoint. A target that does not
/// answer 2xx in the end is an error ([`FetchError::Status`], retryable for
/// 5xx, 408 and 429), not "no endpoint".
pub async fn discover(fetcher: &Fetcher, target: &Url) -> Result<Option<Url>, FetchError> {
    let page = fetcher
        .get_page(target, MAX_PAGE_BYTES, MAX_REDIRECTS)
        .await?;
    if !page.status.is_success() {
        return Err(FetchError::Status {
            status: page.status,
        });
    }
    let endpoint = endpoint_from_page(&page.final_url, &page.headers, &page.body);
    tracing::debug!(%target, final_url = %page.final_url, endpoint = ?endpoint.as_ref().map(Url::as_str), "webmention discovery");
    Ok(endpoint)
}

/// Sends a Webmention: discovers `target`'s endpoint, then POSTs `source`
/// and `target` to it as a form. Any 2xx is success. After a source is
/// updated or deleted (it then answers 410) the same call is made again for
/// every target it mentions or mentioned (see [`resend_targets`]).
pub async fn send(
    fetcher: &Fetcher,
    source: &Url,
    target: &Url,
) -> Result<SendOutcome, FetchError> {
    send_with(fetcher, source, target, &[]).await
}

/// [`send`] with more form fields: a Private Webmention's `code` and
/// `realm`.
pub async fn send_with(
    fetcher: &Fetcher,
    source: &Url,
    target: &Url,
    extra: &[(&str, &str)],
) -> Result<SendOutcome, FetchError> {
    let Some(endpoint) = discover(fetcher, target).await? else {
        return Ok(SendOutcome::NoEndpoint);
    };
    let mut form = vec![("source", source.as_str()), ("target", target.as_str())];
    form.extend_from_slice(extra);
    let outcome = fetcher.post_form(&endpoint, &form).await?;
    tracing::debug!(%source, %target, %endpoint, status = %outcome.status, "webmention sent");
    Ok(if outcome.status.is_success() {
        SendOutcome::Sent {
            status: outcome.status,
            location: outcome.location,
        }
    } else {
        SendOutcome::Refused {
            status: outcome.status,
            retry_after: outcome.retry_after,
        }
    })
}

/// The targets to send Webmentions to after a post changed from linking
/// `before` to linking `after` (§3.1.3): every current link, then every
/// link that was removed, so its receiver learns of the removal. Each URL
/// once, in that order.
pub fn resend_targets(before: &[Url], after: &[Url]) -> Vec<Url> {
    let mut targets: Vec<Url> = Vec::with_capacity(before.len() + after.len());
    for url in after.iter().chain(before) {
        if !targets.contains(url) {
            targets.push(url.clone());
        }
    }
    targets
}

fn endpoint_from_link_headers(final_url: &Url, headers: &HeaderMap, relation: &str) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .flat_map(|value| link_header::parse(&String::from_utf8_lossy(value.as_bytes())))
        .filter(|link| link.has_rel(relation) && is_about(link, final_url))
        .find_map(|link| endpoint_url(final_url, &link.target))
}

/// A link with an `anchor` parameter is about that other resource (RFC 8288
/// §3.2), unless the anchor is the page itself.
fn is_about(link: &link_header::LinkValue, final_url: &Url) -> bool {
    link.param("anchor")
        .is_none_or(|anchor| final_url.join(anchor).is_ok_and(|url| url == *final_url))
}

fn endpoint_from_html(final_url: &Url, body: &[u8], relation: &str) -> Option<Url> {
    let found = html::scan(&String::from_utf8_lossy(body), relation);
    let base = found
        .base
        .as_deref()
        .and_then(|href| endpoint_url(final_url, href))
        .unwrap_or_else(|| final_url.clone());
    found
        .hrefs
        .iter()
        .find_map(|href| endpoint_url(&base, href))
}

/// `href` resolved against `base` (an empty one is the base itself), when
/// that gives an http(s) URL.
fn endpoint_url(base: &Url, href: &str) -> Option<Url> {
    base.join(href)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
}

/// Whether the body is HTML to read: `text/html`, XHTML, or no
/// `Content-Type` at all.
fn is_html(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return true;
    };
    let essence = String::from_utf8_lossy(value.as_bytes());
    let essence = essence.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("text/html")
        || essence.eq_ignore_ascii_case("application/xhtml+xml")
}

#[cfg(test)]
mod tests;
