//! Unsigned fetches of web pages and form POSTs: what Webmention discovery,
//! sending and verification need from the outbound client.
//!
//! Same guard as the rest of [`Fetcher`]: every URL, and every redirect hop,
//! passes [`check_url`], and host names resolve only to allowed addresses.
//! Unlike [`Fetcher::get_json`], a page is returned whatever its status (a
//! Webmention receiver needs to see a 410), and a body longer than the cap is
//! cut rather than refused (the part that matters is near the top).

use std::time::{Duration, SystemTime};

use http::header::{ACCEPT, LOCATION, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, StatusCode};
use url::Url;

use super::error::request_error;
use super::retry_after::parse_retry_after;
use super::{FetchError, Fetcher, POST_RESPONSE_LIMIT, redirect_target};
use super::{body::discard_body, without_fragment};

/// `Accept` of a page GET: HTML first, anything else as a last resort (a
/// page served only as something else still carries its `Link` headers).
pub const ACCEPT_HTML: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1";

/// A fetched web page, after redirects.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL the page was finally served from: relative URLs in it resolve
    /// against this, not against the URL first asked for.
    pub final_url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// At most the `max_bytes` asked for; a longer body is cut there.
    pub body: Vec<u8>,
}

/// What a form POST got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOutcome {
    pub status: StatusCode,
    /// The `Location` header as sent (a Webmention receiver's status page
    /// comes with 201), not resolved.
    pub location: Option<String>,
    /// From `Retry-After`, as seconds or an HTTP-date (a past date is zero).
    pub retry_after: Option<Duration>,
}

impl Fetcher {
    /// GET of a web page (HTML), unsigned, `Accept` preferring `text/html`.
    /// Follows at most `max_redirects` redirects, resolving a relative
    /// `Location` against the current URL and checking each hop with the
    /// SSRF guard; the whole chain shares `total_timeout`. Reads at most
    /// `max_bytes` of the body. Pages with any status come back, 404 and 410
    /// included: only transport and guard failures (and one redirect too
    /// many) are errors.
    pub async fn get_page(
        &self,
        url: &Url,
        max_bytes: usize,
        max_redirects: usize,
    ) -> Result<Page, FetchError> {
        let deadline = self.inner.limits.total_timeout;
        tokio::time::timeout(
            deadline,
            self.follow_page(url, max_bytes, max_redirects, None),
        )
        .await
        .unwrap_or(Err(FetchError::Timeout))
    }

    /// [`Fetcher::get_page`] with `Authorization: Bearer TOKEN` (a Private
    /// Webmention's source). The token goes only to the origin of `url`: a
    /// redirect elsewhere is followed without it.
    pub async fn get_page_with_token(
        &self,
        url: &Url,
        token: &str,
        max_bytes: usize,
        max_redirects: usize,
    ) -> Result<Page, FetchError> {
        let deadline = self.inner.limits.total_timeout;
        let follow = self.follow_page(url, max_bytes, max_redirects, Some(token));
        tokio::time::timeout(deadline, follow)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    async fn follow_page(
        &self,
        url: &Url,
        max_bytes: usize,
        max_redirects: usize,
        token: Option<&str>,
    ) -> Result<Page, FetchError> {
        let mut current = without_fragment(url);
        let origin = current.origin();
        let mut redirects = 0;
        loop {
            self.admit(&current).await?;
            tracing::debug!(url = %current, "GET page");
            let mut request = self
                .inner
                .client
                .get(current.clone())
                .header(ACCEPT, HeaderValue::from_static(ACCEPT_HTML));
            if let Some(token) = token.filter(|_| current.origin() == origin) {
                request = request.bearer_auth(token);
            }
            let mut response = request.send().await.map_err(request_error)?;
            if let Some(next) = redirect_target(&current, &response)? {
                if redirects == max_redirects {
                    return Err(FetchError::TooManyRedirects);
                }
                redirects += 1;
                tracing::debug!(from = %current, to = %next, status = %response.status(), "following redirect");
                current = next;
                continue;
            }
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_up_to(&mut response, max_bytes).await?;
            return Ok(Page {
                final_url: current,
                status,
                headers,
                body,
            });
        }
    }

    /// POST of an `application/x-www-form-urlencoded` form made of `pairs`
    /// (a Webmention's `source` and `target`), unsigned. Does not follow
    /// redirects: a 3xx comes back as the outcome's status. Reads at most
    /// 64 KiB of the response body and drops it.
    pub async fn post_form(
        &self,
        url: &Url,
        pairs: &[(&str, &str)],
    ) -> Result<FormOutcome, FetchError> {
        let url = without_fragment(url);
        self.admit(&url).await?;
        tracing::debug!(%url, "POST form");
        let mut response = self
            .inner
            .client
            .post(url)
            .form(pairs)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let location = header_text(response.headers(), LOCATION);
        let retry_after = header_text(response.headers(), RETRY_AFTER)
            .and_then(|value| parse_retry_after(&value, SystemTime::now()));
        discard_body(&mut response, POST_RESPONSE_LIMIT).await;
        Ok(FormOutcome {
            status,
            location,
            retry_after,
        })
    }
}

impl Fetcher {
    /// POST of a form whose answer matters (a token endpoint's JSON): the
    /// status and at most `max_bytes` of the body. No redirects followed.
    pub async fn post_form_for_body(
        &self,
        url: &Url,
        pairs: &[(&str, &str)],
        max_bytes: usize,
    ) -> Result<(StatusCode, Vec<u8>), FetchError> {
        let url = without_fragment(url);
        self.admit(&url).await?;
        tracing::debug!(%url, "POST form for its answer");
        let send = async {
            let mut response = self
                .inner
                .client
                .post(url)
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .form(pairs)
                .send()
                .await
                .map_err(request_error)?;
            let status = response.status();
            let body = read_up_to(&mut response, max_bytes).await?;
            Ok((status, body))
        };
        tokio::time::timeout(self.inner.limits.total_timeout, send)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    /// POST of `body` with these headers (a WebSub content distribution),
    /// unsigned, no redirects followed; the outcome as for [`Fetcher::post_form`].
    pub async fn post_body(
        &self,
        url: &Url,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<FormOutcome, FetchError> {
        let url = without_fragment(url);
        self.admit(&url).await?;
        tracing::debug!(%url, "POST body");
        let mut response = self
            .inner
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let location = header_text(response.headers(), LOCATION);
        let retry_after = header_text(response.headers(), RETRY_AFTER)
            .and_then(|value| parse_retry_after(&value, SystemTime::now()));
        discard_body(&mut response, POST_RESPONSE_LIMIT).await;
        Ok(FormOutcome {
            status,
            location,
            retry_after,
        })
    }
}

/// Reads the body up to `limit` bytes and stops there, keeping what came.
async fn read_up_to(response: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while body.len() < limit {
        let Some(chunk) = response.chunk().await.map_err(request_error)? else {
            break;
        };
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body)
}

/// A header's value as text, when it is present and UTF-8.
fn header_text(headers: &HeaderMap, name: http::HeaderName) -> Option<String> {
    let value = headers.get(name)?;
    std::str::from_utf8(value.as_bytes())
        .ok()
        .map(|text| text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_trims_and_skips_non_utf8() {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_static(" /status/1 "));
        headers.insert(RETRY_AFTER, HeaderValue::from_bytes(b"\xff12").unwrap());
        assert_eq!(
            header_text(&headers, LOCATION).as_deref(),
            Some("/status/1")
        );
        assert_eq!(header_text(&headers, RETRY_AFTER), None);
        assert_eq!(header_text(&headers, ACCEPT), None);
    }

    #[test]
    fn accept_prefers_html() {
        assert!(ACCEPT_HTML.starts_with("text/html,"));
    }
}
