//! RFC 9421 HTTP Message Signatures for requests: parsing `Signature-Input`
//! and `Signature`, rebuilding the signature base (derived components and
//! plain header fields), and signing.

use chrono::{DateTime, Utc};
use http::header::{DATE, HOST};
use http::{HeaderMap, HeaderValue, Method};
use openssl::pkey::{Id, PKey, Private};

use super::digest::content_digest_header;
use super::fields::{
    combined_text, combined_value, host_for_url, imf_fixdate, normalize_authority, parse_http_date,
    path_and_query,
};
use super::keys::{self, Primitive};
use super::sfv::{self, BASE64, BareItem, Item, Member, Params};
use super::{Algorithm, ParsedSignature, RequestTarget, Scheme, SignatureError};
use base64::Engine as _;

/// The label we sign under.
const LABEL: &str = "sig1";

/// What a derived component or header field is computed from.
struct Request<'a> {
    method: &'a Method,
    path_and_query: &'a str,
    headers: &'a HeaderMap,
    target: &'a RequestTarget<'a>,
}

/// Parses the signature under `label` (or the first one) and rebuilds its
/// signature base.
pub(crate) fn parse(
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    target: &RequestTarget<'_>,
    label: Option<&str>,
) -> Result<ParsedSignature, SignatureError> {
    let inputs = dictionary(headers, "signature-input")?;
    let signatures = dictionary(headers, "signature")?;
    let (label, member) = match label {
        Some(label) => inputs.iter().find(|(l, _)| l == label),
        None => inputs.first(),
    }
    .ok_or(SignatureError::Missing)?;
    let Member::InnerList(items, params) = member else {
        return Err(SignatureError::malformed(
            "Signature-Input is not a list of components",
        ));
    };
    let signature = match signatures.iter().find(|(l, _)| l == label) {
        Some((
            _,
            Member::Item(Item {
                bare: BareItem::ByteSeq(bytes),
                ..
            }),
        )) if !bytes.is_empty() => bytes.clone(),
        Some(_) => {
            return Err(SignatureError::malformed(
                "the signature is not a byte sequence",
            ));
        }
        None => {
            return Err(SignatureError::malformed(
                "no signature carries the Signature-Input label",
            ));
        }
    };

    let key_id = match sfv::param(params, "keyid") {
        Some(BareItem::String(k)) if !k.is_empty() => k.clone(),
        _ => return Err(SignatureError::malformed("keyid is missing")),
    };
    let algorithm = match sfv::param(params, "alg") {
        None => None,
        Some(BareItem::String(alg)) => Some(Algorithm::from_rfc9421(alg)?),
        Some(_) => return Err(SignatureError::malformed("alg is not a string")),
    };
    let created = time_param(params, "created")?;
    let expires = time_param(params, "expires")?;

    let request = Request {
        method,
        path_and_query,
        headers,
        target,
    };
    let base = signature_base(&request, items, params)?;
    let components: Vec<String> = items
        .iter()
        .filter_map(|item| match &item.bare {
            BareItem::String(name) => Some(name.clone()),
            _ => None,
        })
        .collect();

    // Without `created`, a covered Date header dates the signature.
    let created = match created {
        Some(created) => Some(created),
        None if components.iter().any(|c| c == "date") => Some(
            combined_text(headers, "date")
                .and_then(Result::ok)
                .and_then(|d| parse_http_date(&d))
                .ok_or_else(|| SignatureError::malformed("the Date header is not an HTTP date"))?,
        ),
        None => None,
    };

    Ok(ParsedSignature {
        scheme: Scheme::Rfc9421,
        key_id,
        algorithm,
        components,
        created,
        expires,
        base,
        signature,
    })
}

/// Parses a dictionary field; all its lines are combined first.
fn dictionary(headers: &HeaderMap, name: &str) -> Result<Vec<(String, Member)>, SignatureError> {
    let text = combined_text(headers, name)
        .ok_or(SignatureError::Missing)?
        .map_err(|()| SignatureError::malformed("a signature header is not ASCII"))?;
    sfv::parse_dictionary(&text)
        .map_err(|_| SignatureError::malformed("a signature header is not a valid dictionary"))
}

/// An integer Unix-time parameter.
fn time_param(params: &Params, key: &str) -> Result<Option<DateTime<Utc>>, SignatureError> {
    match sfv::param(params, key) {
        None => Ok(None),
        Some(BareItem::Integer(secs)) => DateTime::from_timestamp(*secs, 0)
            .map(Some)
            .ok_or_else(|| SignatureError::malformed("created/expires is out of range")),
        Some(_) => Err(SignatureError::malformed(
            "created/expires is not an integer",
        )),
    }
}

/// Builds the signature base (RFC 9421 §2.5): one line per component, then
/// the `@signature-params` line, serialised from the parsed parameters.
fn signature_base(
    request: &Request<'_>,
    items: &[Item],
    params: &Params,
) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let BareItem::String(name) = &item.bare else {
            return Err(SignatureError::malformed(
                "a component identifier is not a string",
            ));
        };
        let mut identifier = String::new();
        sfv::serialize_item(item, &mut identifier);
        if seen.contains(&identifier) {
            return Err(SignatureError::malformed("a component is covered twice"));
        }
        let value = component_value(request, name, &item.params)?;
        if value.iter().any(|&c| c == b'\n' || c == b'\r') {
            return Err(SignatureError::malformed(
                "a component value contains a newline",
            ));
        }
        out.extend_from_slice(identifier.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&value);
        out.push(b'\n');
        seen.push(identifier);
    }
    out.extend_from_slice(b"\"@signature-params\": ");
    out.extend_from_slice(sfv::serialize_inner_list(items, params).as_bytes());
    Ok(out)
}

/// The value of one covered component.
fn component_value(
    request: &Request<'_>,
    name: &str,
    params: &Params,
) -> Result<Vec<u8>, SignatureError> {
    if name.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(SignatureError::malformed(
            "component names must be lower-case",
        ));
    }
    let no_params = || {
        if params.is_empty() {
            Ok(())
        } else {
            Err(SignatureError::malformed(
                "component parameters are not supported here",
            ))
        }
    };
    let (path, query) = match request.path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.path_and_query, None),
    };
    let scheme = request.target.scheme.to_ascii_lowercase();
    let value = match name {
        "@query-param" => return query_param(query, params),
        _ if name.starts_with('@') => {
            no_params()?;
            match name {
                "@method" => request.method.as_str().to_string(),
                "@target-uri" => format!(
                    "{scheme}://{}{}",
                    authority(request)?,
                    request.path_and_query
                ),
                "@authority" => authority(request)?,
                "@scheme" => scheme,
                "@request-target" => request.path_and_query.to_string(),
                "@path" if path.is_empty() => "/".to_string(),
                "@path" => path.to_string(),
                "@query" => format!("?{}", query.unwrap_or_default()),
                _ => {
                    return Err(SignatureError::malformed(
                        "an unsupported derived component is covered",
                    ));
                }
            }
        }
        _ => {
            no_params()?;
            if name.is_empty() || !name.bytes().all(sfv::is_tchar) {
                return Err(SignatureError::malformed("a covered field name is invalid"));
            }
            let bound = (name == "host")
                .then_some(request.target.bound_to)
                .flatten()
                .map(|a| a.as_bytes().to_vec());
            let value = bound
                .or_else(|| combined_value(request.headers, name))
                .or_else(|| {
                    (name == "host")
                        .then_some(request.target.authority)
                        .flatten()
                        .map(|a| a.as_bytes().to_vec())
                });
            return value.ok_or_else(|| {
                SignatureError::Malformed(format!(
                    "the covered field {} is missing",
                    super::printable(name)
                ))
            });
        }
    };
    Ok(value.into_bytes())
}

/// The request's authority, normalised: this server's own when the target
/// is bound to it, else the `Host` header, else the target's fallback.
fn authority(request: &Request<'_>) -> Result<String, SignatureError> {
    if let Some(own) = request.target.bound_to {
        return Ok(normalize_authority(request.target.scheme, own));
    }
    let mut hosts = request.headers.get_all(HOST).iter();
    let raw = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => return Err(SignatureError::malformed("more than one Host header")),
        (Some(host), None) => host
            .to_str()
            .map_err(|_| SignatureError::malformed("the Host header is not ASCII"))?,
        (None, _) => request
            .target
            .authority
            .ok_or_else(|| SignatureError::malformed("the Host header is missing"))?,
    };
    if raw.trim().is_empty() {
        return Err(SignatureError::malformed("the Host header is empty"));
    }
    Ok(normalize_authority(request.target.scheme, raw))
}

/// `@query-param;name="…"` (RFC 9421 §2.2.8): the named parameter's value,
/// decoded then re-encoded. A missing or repeated parameter cannot be
/// signed unambiguously and is refused.
fn query_param(query: Option<&str>, params: &Params) -> Result<Vec<u8>, SignatureError> {
    let name = match params.as_slice() {
        [(key, BareItem::String(name))] if key == "name" => name,
        _ => {
            return Err(SignatureError::malformed(
                "@query-param needs exactly a name parameter",
            ));
        }
    };
    let mut found = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if form_encode(&key) == *name {
            if found.is_some() {
                return Err(SignatureError::malformed(
                    "a covered query parameter is repeated",
                ));
            }
            found = Some(form_encode(&value));
        }
    }
    found
        .map(String::into_bytes)
        .ok_or_else(|| SignatureError::malformed("a covered query parameter is missing"))
}

/// Percent-encodes with the `application/x-www-form-urlencoded`
/// percent-encode set (everything but ASCII alphanumerics and `*-._`).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Signs an outgoing request under RFC 9421 as label `sig1`: sets `Host`
/// and `Date`, and for a body `Content-Digest`; covers `@method`,
/// `@target-uri` and, with a body, `content-digest`; parameters `created`,
/// `keyid` and `alg` (`rsa-v1_5-sha256` for an RSA key, `ed25519` for an
/// Ed25519 key). Adds `Signature-Input` and `Signature`.
pub fn sign_rfc9421(
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    key_id: &str,
    key: &PKey<Private>,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let (primitive, algorithm) = match key.id() {
        Id::RSA => (Primitive::RsaPkcs1Sha256, Algorithm::RsaV15Sha256),
        Id::ED25519 => (Primitive::Ed25519, Algorithm::Ed25519),
        _ => return Err(SignatureError::AlgorithmKeyMismatch),
    };
    if key_id.is_empty() || !sfv::is_sf_string(key_id) {
        return Err(SignatureError::malformed(
            "the key id must be printable ASCII",
        ));
    }
    let host = host_for_url(url).ok_or_else(|| SignatureError::malformed("the URL has no host"))?;
    headers.insert(HOST, header_value(&host)?);
    headers.insert(DATE, header_value(&imf_fixdate(now))?);
    let mut components = vec!["@method", "@target-uri"];
    if let Some(body) = body {
        headers.insert(
            "content-digest",
            header_value(&content_digest_header(body))?,
        );
        components.push("content-digest");
    }
    let items: Vec<Item> = components
        .into_iter()
        .map(|name| Item {
            bare: BareItem::String(name.to_string()),
            params: Vec::new(),
        })
        .collect();
    let params: Params = vec![
        ("created".to_string(), BareItem::Integer(now.timestamp())),
        ("keyid".to_string(), BareItem::String(key_id.to_string())),
        (
            "alg".to_string(),
            BareItem::String(algorithm.as_str().to_string()),
        ),
    ];
    let path_and_query = path_and_query(url);
    let target = RequestTarget {
        scheme: url.scheme(),
        authority: None,
        bound_to: None,
    };
    let request = Request {
        method,
        path_and_query: &path_and_query,
        headers,
        target: &target,
    };
    let base = signature_base(&request, &items, &params)?;
    let signature = keys::sign(primitive, key, &base)?;
    let input = format!("{LABEL}={}", sfv::serialize_inner_list(&items, &params));
    let value = format!("{LABEL}=:{}:", BASE64.encode(signature));
    headers.insert("signature-input", header_value(&input)?);
    headers.insert("signature", header_value(&value)?);
    Ok(())
}

fn header_value(value: &str) -> Result<HeaderValue, SignatureError> {
    HeaderValue::from_str(value)
        .map_err(|_| SignatureError::malformed("a header value cannot be encoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_of(
        method: &str,
        pq: &str,
        host: &str,
        scheme: &str,
        components: &str,
    ) -> Result<String, SignatureError> {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        headers.insert(
            "signature-input",
            HeaderValue::from_str(&format!("s=({components});keyid=\"k\"")).unwrap(),
        );
        headers.insert("signature", HeaderValue::from_static("s=:AAAA:"));
        let target = RequestTarget {
            scheme,
            authority: None,
            bound_to: None,
        };
        let parsed = parse(&method.parse().unwrap(), pq, &headers, &target, None)?;
        Ok(String::from_utf8(parsed.signature_base().to_vec()).unwrap())
    }

    #[test]
    fn derived_components() {
        let base = base_of(
            "POST",
            "/path?param=value&foo=bar&baz=bat%2Dman",
            "WWW.Example.com:443",
            "https",
            r#""@method" "@target-uri" "@authority" "@scheme" "@request-target" "@path" "@query""#,
        )
        .unwrap();
        assert_eq!(
            base,
            "\"@method\": POST\n\
             \"@target-uri\": https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman\n\
             \"@authority\": www.example.com\n\
             \"@scheme\": https\n\
             \"@request-target\": /path?param=value&foo=bar&baz=bat%2Dman\n\
             \"@path\": /path\n\
             \"@query\": ?param=value&foo=bar&baz=bat%2Dman\n\
             \"@signature-params\": (\"@method\" \"@target-uri\" \"@authority\" \"@scheme\" \"@request-target\" \"@path\" \"@query\");keyid=\"k\""
        );
    }

    #[test]
    fn empty_query_and_path() {
        let base = base_of(
            "GET",
            "",
            "example.com:8080",
            "http",
            r#""@path" "@query" "@authority""#,
        )
        .unwrap();
        assert!(
            base.starts_with("\"@path\": /\n\"@query\": ?\n\"@authority\": example.com:8080\n")
        );
    }

    #[test]
    fn query_params() {
        // RFC 9421 §2.2.8's example query.
        let pq = "/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something";
        let base = base_of(
            "GET",
            pq,
            "example.com",
            "https",
            r#""@query-param";name="var" "@query-param";name="bar" "@query-param";name="fa%C3%A7ade%22%3A%20""#,
        )
        .unwrap();
        assert!(base.starts_with(
            "\"@query-param\";name=\"var\": this%20is%20a%20big%0Amultiline%20value\n\
             \"@query-param\";name=\"bar\": with%20plus%20whitespace\n\
             \"@query-param\";name=\"fa%C3%A7ade%22%3A%20\": something\n"
        ));
        assert!(
            base_of(
                "GET",
                "/?a=1&a=2",
                "h",
                "https",
                r#""@query-param";name="a""#
            )
            .is_err()
        );
        assert!(base_of("GET", "/?a=1", "h", "https", r#""@query-param";name="b""#).is_err());
        assert!(base_of("GET", "/?a=1", "h", "https", r#""@query-param""#).is_err());
    }

    #[test]
    fn refuses_bad_components() {
        for components in [
            r#""@status""#,
            r#""@signature-params""#,
            r#""@unknown""#,
            r#""Host""#,
            r#""host" "host""#,
            r#""host";sf"#,
            r#""x-missing""#,
            r#""bad name""#,
            r#"host"#,
        ] {
            assert!(
                base_of("GET", "/", "example.com", "https", components).is_err(),
                "{components}"
            );
        }
    }
}
