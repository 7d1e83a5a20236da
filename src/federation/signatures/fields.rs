//! Reading header fields the way both signature schemes canonicalise them,
//! authorities and target URIs, and HTTP dates.

use chrono::{DateTime, Utc};
use http::HeaderMap;

/// All values of a field, each trimmed, joined with `", "` (draft-cavage
/// §2.3 and RFC 9421 §2.1 agree on this). `None` when the field is absent.
pub(crate) fn combined_value(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut out = Vec::new();
    for (n, value) in values.enumerate() {
        if n > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(value.as_bytes().trim_ascii());
    }
    Some(out)
}

/// The combined value of a field as text, for fields we parse ourselves.
pub(crate) fn combined_text(headers: &HeaderMap, name: &str) -> Option<Result<String, ()>> {
    combined_value(headers, name).map(|bytes| String::from_utf8(bytes).map_err(|_| ()))
}

/// The default port of a scheme, if it has one.
fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "https" | "wss" => Some("443"),
        "http" | "ws" => Some("80"),
        _ => None,
    }
}

/// Normalises an authority as RFC 9421 §2.2.3 asks: lower-case, without
/// the scheme's default port.
pub(crate) fn normalize_authority(scheme: &str, authority: &str) -> String {
    let lower = authority.trim().to_ascii_lowercase();
    if let (Some(port), Some((host, given))) = (default_port(scheme), lower.rsplit_once(':'))
        && given == port
        && !host.is_empty()
        && (!host.contains(':') || host.ends_with(']'))
    {
        return host.to_string();
    }
    lower
}

/// The `Host` header a client sends for `url`: the host, with the port when
/// it is not the scheme's default (the `url` crate already drops default
/// ports).
pub(crate) fn host_for_url(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// The origin-form request target of `url`: path plus query.
pub(crate) fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Formats an IMF-fixdate (RFC 9110 §5.6.7), as `Date` carries it.
pub(crate) fn imf_fixdate(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an HTTP date. IMF-fixdate is an RFC 2822 date, which also
/// admits the numeric-offset variants some servers send.
pub(crate) fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn combines_repeated_fields() {
        let mut h = HeaderMap::new();
        h.append("accept", HeaderValue::from_static(" application/json "));
        h.append("accept", HeaderValue::from_static("*/*"));
        assert_eq!(
            combined_value(&h, "accept").unwrap(),
            b"application/json, */*"
        );
        assert_eq!(combined_value(&h, "date"), None);
    }

    #[test]
    fn authorities() {
        assert_eq!(
            normalize_authority("https", "Example.COM:443"),
            "example.com"
        );
        assert_eq!(
            normalize_authority("http", "example.com:443"),
            "example.com:443"
        );
        assert_eq!(normalize_authority("https", "[::1]:443"), "[::1]");
        assert_eq!(normalize_authority("https", "[::1]"), "[::1]");
        assert_eq!(normalize_authority("https", ":443"), ":443");
        let url = url::Url::parse("https://example.com:8443/a?b=c#frag").unwrap();
        assert_eq!(host_for_url(&url).unwrap(), "example.com:8443");
        assert_eq!(path_and_query(&url), "/a?b=c");
        let url = url::Url::parse("https://example.com:443/").unwrap();
        assert_eq!(host_for_url(&url).unwrap(), "example.com");
    }

    #[test]
    fn dates() {
        let d = parse_http_date("Tue, 20 Apr 2021 02:07:55 GMT").unwrap();
        assert_eq!(d.timestamp(), 1_618_884_475);
        assert_eq!(imf_fixdate(d), "Tue, 20 Apr 2021 02:07:55 GMT");
        assert!(parse_http_date("yesterday").is_none());
    }
}
