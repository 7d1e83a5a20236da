//! Entry points for the fuzz targets in `fuzz/` (not an API for anything
//! else): each feeds arbitrary bytes to one parser of foreign input the way
//! the server does, and panics if a check that must hold does not. Time and
//! memory are bounded by libFuzzer (`-timeout`, `-rss_limit_mb`) and, for
//! mf2, by the parser's own limits.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use crate::federation::signatures::{RequestTarget, parse_signature_at, verify_body_digest};
use crate::indieweb::mf2::{self, Limits, Mf2Error};

fn page_url() -> Url {
    Url::parse("https://site.example/notes/1").expect("a valid URL")
}

/// Header lines `name: value` (one per line) as a header map; lines that are
/// not valid headers are skipped, as an HTTP server would refuse them.
fn headers_of(text: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

/// Splits `data` at the first NUL: (head, rest).
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The mf2 parser with the server's limits, then what Webmention
/// verification does with its result.
pub fn mf2(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    let limits = Limits {
        max_items: crate::config::DEFAULT_MF2_MAX_ITEMS,
        max_time: Duration::from_secs(2),
    };
    let url = page_url();
    match mf2::parse_bounded(&html, &url, limits) {
        Ok(document) => {
            let json = document.to_json();
            for entry in mf2::find_items(&document, "h-entry") {
                let _ = crate::indieweb::convert::hentry_to_entry(&entry.to_json());
                let _ = mf2::entry_author(&document, entry, &url);
            }
            let _ = mf2::representative_hcard(&document, &url);
            let _ = crate::indieweb::links::page_facts(&html, &url);
            drop(json);
        }
        Err(Mf2Error::Panicked) => panic!("the mf2 parser panicked"),
        Err(Mf2Error::TooManyItems(_) | Mf2Error::TooSlow(_)) => {}
    }
}

/// Webmention endpoint discovery: `Link` header lines, a NUL, the HTML.
pub fn discovery(data: &[u8]) {
    let (head, body) = split(data);
    let text = String::from_utf8_lossy(head);
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/html"));
    for line in text.lines() {
        if let Ok(value) = HeaderValue::from_str(line) {
            headers.append("link", value);
        }
    }
    if let Some(found) = crate::indieweb::discovery::endpoint_from_page(&page_url(), &headers, body)
    {
        assert!(
            matches!(found.scheme(), "http" | "https"),
            "discovered a non-http endpoint: {found}"
        );
    }
}

/// The signature header parsers (draft-cavage and RFC 9421, chosen by the
/// headers present): header lines for a POST and a GET, then the checks
/// that follow parsing.
pub fn signature_headers(data: &[u8]) {
    let (head, body) = split(data);
    let headers = headers_of(&String::from_utf8_lossy(head));
    let target = RequestTarget {
        scheme: "https",
        authority: Some("here.example"),
        bound_to: Some("here.example"),
    };
    for (method, body) in [(Method::POST, Some(body)), (Method::GET, None)] {
        if let Ok(signature) = parse_signature_at(&method, "/inbox?x=1", &headers, &target) {
            let _ = signature.check_time(
                chrono::Utc::now(),
                chrono::Duration::hours(12),
                chrono::Duration::hours(1),
            );
            let _ = signature.check_coverage(body.is_some());
            let _ = signature.signature_base().len();
        }
    }
}

/// The structured-field dictionary parser (RFC 8941) under RFC 9421.
pub fn structured_fields(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::federation::signatures::parse_sf_dictionary(text);
    }
}

/// `Digest` and `Content-Digest` against a body: header lines, a NUL, the
/// body.
pub fn digest(data: &[u8]) {
    let (head, body) = split(data);
    let headers = headers_of(&String::from_utf8_lossy(head));
    let _ = verify_body_digest(&headers, body);
}

/// AS2 intake: the inbox's checks on a body, then what the verb handlers
/// and actor resolution read from a document.
pub fn as2(data: &[u8]) {
    const SIGNER: &str = "https://remote.example/users/a";
    let _ = crate::federation::intake::check_activity(data, SIGNER);
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let addressees = crate::federation::wire::addressees(&document);
    let _ = crate::domain::audience::classify(&addressees, Some("https://remote.example/f"));
    if let Ok(actor) = crate::federation::resolve::actor_document_to_remote(&document, SIGNER) {
        for url in [&actor.profile_url, &actor.avatar_url]
            .into_iter()
            .flatten()
        {
            assert!(
                crate::urls::is_http_url(url),
                "stored a non-http URL: {url}"
            );
        }
    }
    for object in [Some(&document), document.get("object")]
        .into_iter()
        .flatten()
    {
        if let Some(content) = object.get("content").and_then(|c| c.as_str()) {
            let _ = crate::federation::sanitize::sanitize_html(content);
        }
    }
}

/// WebFinger `resource` parsing.
pub fn webfinger(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::federation::webfinger::parse_resource(Some(&text));
}

#[cfg(test)]
mod tests {
    /// Each entry point takes empty, odd and typical input without failing
    /// (the fuzz targets start from here).
    #[test]
    fn entry_points_take_any_bytes() {
        let inputs: [&[u8]; 5] = [
            b"",
            b"\0\0\xff",
            b"<div class=\"h-entry\"><a class=\"u-in-reply-to\" href=\"javascript:x\">x</a></div>",
            b"Signature: keyId=\"k\",signature=\"YQ==\"\nSignature-Input: a=(\"@method\")\0{}",
            br#"{"id":"https://remote.example/1","type":"Create","actor":"https://remote.example/users/a","object":{"content":"<b>x</b>"}}"#,
        ];
        for input in inputs {
            super::mf2(input);
            super::discovery(input);
            super::signature_headers(input);
            super::structured_fields(input);
            super::digest(input);
            super::as2(input);
            super::webfinger(input);
        }
    }
}
