//! Body digests: `Digest` (RFC 3230, as Mastodon sends it) and
//! `Content-Digest` (RFC 9530), checked against the body and produced for
//! outgoing requests.

use base64::Engine as _;
use http::HeaderMap;
use openssl::sha::{sha256, sha512};

use super::fields::combined_text;
use super::sfv::{self, BASE64, BareItem, Member};

/// Why a body digest was not accepted. The messages are safe to show a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Neither `Digest` nor `Content-Digest` is present.
    #[error("the request has no Digest or Content-Digest header")]
    Missing,
    /// Only algorithms we do not check were offered.
    #[error("no supported digest algorithm was offered (use SHA-256 or SHA-512)")]
    Unsupported,
    /// A supported digest does not match the body.
    #[error("the body does not match its digest")]
    Mismatch,
    /// A digest header could not be parsed.
    #[error("a digest header is malformed")]
    Malformed,
}

impl DigestError {
    /// A short label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "digest_missing",
            Self::Unsupported => "digest_unsupported",
            Self::Mismatch => "digest_mismatch",
            Self::Malformed => "digest_malformed",
        }
    }
}

/// `SHA-256=<base64>`, the `Digest` value Mastodon sends and expects.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(sha256(body)))
}

/// `sha-256=:<base64>:`, the RFC 9530 `Content-Digest` value.
pub fn content_digest_header(body: &[u8]) -> String {
    format!("sha-256=:{}:", BASE64.encode(sha256(body)))
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha-256" => Some(Self::Sha256),
            "sha-512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn matches(self, body: &[u8], expected: &[u8]) -> bool {
        let actual: Vec<u8> = match self {
            Self::Sha256 => sha256(body).to_vec(),
            Self::Sha512 => sha512(body).to_vec(),
        };
        actual.len() == expected.len() && openssl::memcmp::eq(&actual, expected)
    }
}

/// One offered digest: a hash we know with its value, or one we don't.
enum Offer {
    Known(Hash, Vec<u8>),
    Unknown,
}

/// Checks `Digest` and/or `Content-Digest` against `body`. Every digest in
/// a supported algorithm must match; at least one must be supported.
pub fn verify_body_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), DigestError> {
    let mut offers = Vec::new();
    let mut present = false;
    if let Some(text) = combined_text(headers, "digest") {
        present = true;
        parse_digest(&text.map_err(|()| DigestError::Malformed)?, &mut offers)?;
    }
    if let Some(text) = combined_text(headers, "content-digest") {
        present = true;
        parse_content_digest(&text.map_err(|()| DigestError::Malformed)?, &mut offers)?;
    }
    if !present {
        return Err(DigestError::Missing);
    }
    if offers.is_empty() {
        return Err(DigestError::Malformed);
    }
    let mut checked = false;
    for offer in &offers {
        if let Offer::Known(hash, expected) = offer {
            if !hash.matches(body, expected) {
                return Err(DigestError::Mismatch);
            }
            checked = true;
        }
    }
    if checked {
        Ok(())
    } else {
        Err(DigestError::Unsupported)
    }
}

/// `Digest: SHA-256=base64, SHA-512=base64` (RFC 3230 §4.3.2).
fn parse_digest(text: &str, offers: &mut Vec<Offer>) -> Result<(), DigestError> {
    for entry in text.split(',') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let (name, value) = entry.split_once('=').ok_or(DigestError::Malformed)?;
        match Hash::from_name(name.trim()) {
            Some(hash) => {
                let bytes = BASE64
                    .decode(value.trim())
                    .map_err(|_| DigestError::Malformed)?;
                offers.push(Offer::Known(hash, bytes));
            }
            None => offers.push(Offer::Unknown),
        }
    }
    Ok(())
}

/// `Content-Digest: sha-256=:base64:` (RFC 9530 §2), a dictionary.
fn parse_content_digest(text: &str, offers: &mut Vec<Offer>) -> Result<(), DigestError> {
    let dict = sfv::parse_dictionary(text).map_err(|_| DigestError::Malformed)?;
    for (key, member) in dict {
        let Member::Item(item) = member else {
            return Err(DigestError::Malformed);
        };
        let BareItem::ByteSeq(bytes) = item.bare else {
            return Err(DigestError::Malformed);
        };
        match Hash::from_name(&key) {
            Some(hash) => offers.push(Offer::Known(hash, bytes)),
            None => offers.push(Offer::Unknown),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const BODY: &[u8] = br#"{"hello": "world"}"#;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn produces_known_values() {
        // The body of RFC 9421's test request and draft-cavage's examples.
        assert_eq!(
            digest_header(BODY),
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
        );
        assert_eq!(
            content_digest_header(BODY),
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
        );
    }

    #[test]
    fn accepts_matching_digests() {
        for h in [
            headers(&[("digest", &digest_header(BODY))]),
            headers(&[(
                "digest",
                "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
            )]),
            headers(&[("content-digest", &content_digest_header(BODY))]),
            // RFC 9530 / RFC 9421 B.2 request digest.
            headers(&[(
                "content-digest",
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            )]),
            headers(&[("digest", &format!("MD5=abc, {}", digest_header(BODY)))]),
            headers(&[
                ("digest", &digest_header(BODY)),
                ("content-digest", &content_digest_header(BODY)),
            ]),
        ] {
            assert_eq!(verify_body_digest(&h, BODY), Ok(()), "{h:?}");
        }
    }

    #[test]
    fn rejects_what_it_must() {
        assert_eq!(
            verify_body_digest(&HeaderMap::new(), BODY),
            Err(DigestError::Missing)
        );
        let good = digest_header(BODY);
        let cases: Vec<(HeaderMap, DigestError)> = vec![
            (headers(&[("digest", &good)]), DigestError::Mismatch), // body changed below
            (headers(&[("digest", "MD5=abc")]), DigestError::Unsupported),
            (
                headers(&[("content-digest", "md5=:AAAA:")]),
                DigestError::Unsupported,
            ),
            (
                headers(&[("digest", "SHA-256=!!!")]),
                DigestError::Malformed,
            ),
            (headers(&[("digest", "SHA-256")]), DigestError::Malformed),
            (headers(&[("digest", "")]), DigestError::Malformed),
            (
                headers(&[("content-digest", "sha-256=abc")]),
                DigestError::Malformed,
            ),
            (
                headers(&[("content-digest", "sha-256")]),
                DigestError::Malformed,
            ),
            (
                headers(&[("digest", &good), ("content-digest", "sha-256=:AAAA:")]),
                DigestError::Mismatch,
            ),
        ];
        for (n, (h, expected)) in cases.into_iter().enumerate() {
            let body: &[u8] = if n == 0 {
                b"{\"hello\": \"World\"}"
            } else {
                BODY
            };
            assert_eq!(verify_body_digest(&h, body), Err(expected), "case {n}");
        }
    }
}
