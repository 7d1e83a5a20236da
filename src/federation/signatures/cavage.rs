//! draft-cavage HTTP signatures as the fediverse deploys them: parsing the
//! `Signature` (or `Authorization: Signature …`) header, rebuilding the
//! signing string, and signing the way Mastodon does.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use http::header::{CONTENT_TYPE, DATE, HOST};
use http::{HeaderMap, HeaderValue, Method};
use openssl::pkey::{Id, PKey, Private};

use super::digest::digest_header;
use super::fields::{combined_value, host_for_url, imf_fixdate, parse_http_date, path_and_query};
use super::keys::{self, Primitive};
use super::sfv::{BASE64, is_tchar};
use super::{Algorithm, ParsedSignature, RequestTarget, Scheme, SignatureError};

/// Most covered headers we accept in one signature.
const MAX_COVERED: usize = 64;

/// Covered headers when a body is signed (Mastodon's choice).
const WITH_BODY: &[&str] = &["(request-target)", "host", "date", "digest", "content-type"];
/// Covered headers when there is no body.
const WITHOUT_BODY: &[&str] = &["(request-target)", "host", "date"];

/// The parameters of one draft-cavage signature.
#[derive(Default)]
struct Params {
    key_id: Option<String>,
    algorithm: Option<String>,
    headers: Option<String>,
    signature: Option<String>,
    created: Option<String>,
    expires: Option<String>,
}

/// Parses the request's draft-cavage signature and rebuilds its signing
/// string.
pub(crate) fn parse(
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    target: &RequestTarget<'_>,
) -> Result<ParsedSignature, SignatureError> {
    let text = signature_text(headers)?;
    let params = parse_params(&text)?;

    let key_id = params
        .key_id
        .filter(|k| !k.is_empty())
        .ok_or_else(|| SignatureError::malformed("keyId is missing"))?;
    let algorithm = params
        .algorithm
        .as_deref()
        .map(Algorithm::from_cavage)
        .transpose()?;
    let signature = params
        .signature
        .as_deref()
        .map(|s| BASE64.decode(s.trim()))
        .transpose()
        .map_err(|_| SignatureError::malformed("the signature is not base64"))?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SignatureError::malformed("the signature is missing"))?;

    // Without `headers`, only `date` is signed (draft-cavage before -11,
    // and Mastodon).
    let covered: Vec<String> = params
        .headers
        .as_deref()
        .unwrap_or("date")
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    if covered.is_empty() {
        return Err(SignatureError::malformed("the headers parameter is empty"));
    }
    if covered.len() > MAX_COVERED {
        return Err(SignatureError::malformed("too many covered headers"));
    }
    for (n, name) in covered.iter().enumerate() {
        if covered[..n].contains(name) {
            return Err(SignatureError::malformed("a header is covered twice"));
        }
    }

    let pseudo = Pseudo {
        created: params.created.as_deref(),
        expires: params.expires.as_deref(),
    };
    let base = signing_string(method, path_and_query, headers, &covered, &pseudo, target)?;

    let covers = |name: &str| covered.iter().any(|c| c == name);
    let created = if covers("(created)") {
        Some(unix_time(params.created.as_deref().unwrap_or_default())?)
    } else if covers("date") {
        let date = combined_value(headers, "date")
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|v| parse_http_date(&v))
            .ok_or_else(|| SignatureError::malformed("the Date header is not an HTTP date"))?;
        Some(date)
    } else {
        None
    };
    let expires = if covers("(expires)") {
        Some(unix_time(params.expires.as_deref().unwrap_or_default())?)
    } else {
        None
    };

    Ok(ParsedSignature {
        scheme: Scheme::Cavage,
        key_id,
        algorithm,
        components: covered,
        created,
        expires,
        base,
        signature,
    })
}

/// The signature parameters from `Signature`, or from `Authorization`
/// when its scheme is `Signature`.
fn signature_text(headers: &HeaderMap) -> Result<String, SignatureError> {
    let mut values = headers.get_all("signature").iter();
    let value = match (values.next(), values.next()) {
        (Some(_), Some(_)) => {
            return Err(SignatureError::malformed("more than one Signature header"));
        }
        (Some(value), None) => value.as_bytes(),
        (None, _) => {
            let mut auth = headers.get_all("authorization").iter();
            let value = match (auth.next(), auth.next()) {
                (Some(value), None) => value.as_bytes(),
                _ => return Err(SignatureError::Missing),
            };
            match value.split_first_chunk::<10>() {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"signature ") => rest,
                _ => return Err(SignatureError::Missing),
            }
        }
    };
    std::str::from_utf8(value)
        .ok()
        .filter(|s| s.is_ascii())
        .map(str::to_string)
        .ok_or_else(|| SignatureError::malformed("the signature header is not ASCII"))
}

/// Parses `name="value",name=value,…`. Unknown names are ignored; a
/// repeated known name is refused rather than guessed at.
fn parse_params(text: &str) -> Result<Params, SignatureError> {
    let bad = || SignatureError::malformed("the signature parameters cannot be parsed");
    let s = text.as_bytes();
    let mut i = 0;
    let mut params = Params::default();
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && matches!(s[*i], b' ' | b'\t') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= s.len() {
            break;
        }
        let start = i;
        while i < s.len() && is_tchar(s[i]) && s[i] != b'=' {
            i += 1;
        }
        let name = &text[start..i];
        if name.is_empty() {
            return Err(bad());
        }
        skip_ws(&mut i);
        if s.get(i) != Some(&b'=') {
            return Err(bad());
        }
        i += 1;
        skip_ws(&mut i);
        let mut value = String::new();
        if s.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match s.get(i) {
                    None => return Err(bad()),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let next = *s.get(i + 1).ok_or_else(bad)?;
                        value.push(char::from(next));
                        i += 2;
                    }
                    Some(&c) => {
                        value.push(char::from(c));
                        i += 1;
                    }
                }
            }
        } else {
            let start = i;
            while i < s.len() && !matches!(s[i], b',' | b' ' | b'\t') {
                i += 1;
            }
            value.push_str(&text[start..i]);
        }
        let slot = match name.to_ascii_lowercase().as_str() {
            "keyid" => Some(&mut params.key_id),
            "algorithm" => Some(&mut params.algorithm),
            "headers" => Some(&mut params.headers),
            "signature" => Some(&mut params.signature),
            "created" => Some(&mut params.created),
            "expires" => Some(&mut params.expires),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return Err(SignatureError::malformed(
                    "a signature parameter is repeated",
                ));
            }
            *slot = Some(value);
        }
        skip_ws(&mut i);
        if i >= s.len() {
            break;
        }
        if s[i] != b',' {
            return Err(bad());
        }
        i += 1;
    }
    Ok(params)
}

/// A draft-cavage `created`/`expires` value: Unix seconds, perhaps with a
/// fraction (which is dropped).
fn unix_time(value: &str) -> Result<DateTime<Utc>, SignatureError> {
    let bad = || SignatureError::malformed("created/expires is not a Unix time");
    let whole = match value.split_once('.') {
        Some((whole, frac)) if frac.bytes().all(|c| c.is_ascii_digit()) => whole,
        Some(_) => return Err(bad()),
        None => value,
    };
    if whole.is_empty() || whole.len() > 12 || !whole.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let secs: i64 = whole.parse().map_err(|_| bad())?;
    DateTime::from_timestamp(secs, 0).ok_or_else(bad)
}

/// The values of `(created)` and `(expires)`.
struct Pseudo<'a> {
    created: Option<&'a str>,
    expires: Option<&'a str>,
}

/// Builds the signing string (draft-cavage-12 §2.3): one `name: value`
/// line per covered header, joined by newlines.
fn signing_string<S: AsRef<str>>(
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    covered: &[S],
    pseudo: &Pseudo<'_>,
    target: &RequestTarget<'_>,
) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::new();
    for (n, name) in covered.iter().enumerate() {
        let name = name.as_ref();
        if n > 0 {
            out.push(b'\n');
        }
        let value: Vec<u8> = match name {
            "(request-target)" => {
                format!("{} {path_and_query}", method.as_str().to_ascii_lowercase()).into_bytes()
            }
            "(created)" => pseudo
                .created
                .ok_or_else(|| SignatureError::malformed("(created) is covered but absent"))?
                .as_bytes()
                .to_vec(),
            "(expires)" => pseudo
                .expires
                .ok_or_else(|| SignatureError::malformed("(expires) is covered but absent"))?
                .as_bytes()
                .to_vec(),
            _ if name.starts_with('(') => {
                return Err(SignatureError::malformed(
                    "an unknown pseudo-header is covered",
                ));
            }
            "host" => target
                .bound_to
                .map(|a| a.as_bytes().to_vec())
                .or_else(|| combined_value(headers, "host"))
                .or_else(|| target.authority.map(|a| a.as_bytes().to_vec()))
                .ok_or_else(|| SignatureError::malformed("the Host header is missing"))?,
            _ => {
                if !name.bytes().all(is_tchar) {
                    return Err(SignatureError::malformed(
                        "a covered header name is invalid",
                    ));
                }
                combined_value(headers, name).ok_or_else(|| {
                    SignatureError::Malformed(format!(
                        "the covered header {} is missing",
                        super::printable(name)
                    ))
                })?
            }
        };
        if value.contains(&b'\n') || path_and_query.contains('\n') {
            return Err(SignatureError::malformed(
                "a covered value contains a newline",
            ));
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&value);
    }
    Ok(out)
}

/// Signs an outgoing request the way Mastodon does: sets `Host` (with the
/// port when it is not the default) and `Date`, and for a body `Digest`;
/// covers `(request-target) host date digest content-type` when there is a
/// body (`Content-Type` must already be set) and `(request-target) host
/// date` otherwise; labels it `rsa-sha256`; adds `Signature`. RSA keys
/// only. One scheme per request: [`super::sign_rfc9421`] writes its own
/// `Signature` header.
pub fn sign_cavage(
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    key_id: &str,
    key: &PKey<Private>,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    if key.id() != Id::RSA {
        return Err(SignatureError::AlgorithmKeyMismatch);
    }
    if key_id.is_empty()
        || !key_id
            .bytes()
            .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\')
    {
        return Err(SignatureError::malformed(
            "the key id must be printable ASCII without quotes",
        ));
    }
    let host = host_for_url(url).ok_or_else(|| SignatureError::malformed("the URL has no host"))?;
    headers.insert(HOST, header_value(&host)?);
    headers.insert(DATE, header_value(&imf_fixdate(now))?);
    let covered = match body {
        Some(body) => {
            if !headers.contains_key(CONTENT_TYPE) {
                return Err(SignatureError::malformed(
                    "Content-Type must be set before signing a body",
                ));
            }
            headers.insert("digest", header_value(&digest_header(body))?);
            WITH_BODY
        }
        None => WITHOUT_BODY,
    };
    let pseudo = Pseudo {
        created: None,
        expires: None,
    };
    let base = signing_string(
        method,
        &path_and_query(url),
        headers,
        covered,
        &pseudo,
        &RequestTarget::HTTPS,
    )?;
    let signature = keys::sign(Primitive::RsaPkcs1Sha256, key, &base)?;
    let value = format!(
        "keyId=\"{key_id}\",algorithm=\"{}\",headers=\"{}\",signature=\"{}\"",
        Algorithm::RsaSha256.as_str(),
        covered.join(" "),
        BASE64.encode(signature)
    );
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

    #[test]
    fn parses_mastodon_style_parameters() {
        let p = parse_params(
            r#"keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="YQ==""#,
        )
        .unwrap();
        assert_eq!(
            p.key_id.as_deref(),
            Some("https://a.example/users/x#main-key")
        );
        assert_eq!(p.algorithm.as_deref(), Some("rsa-sha256"));
        assert_eq!(p.signature.as_deref(), Some("YQ=="));
    }

    #[test]
    fn tolerates_spaces_unquoted_values_and_unknown_names() {
        let p = parse_params(
            r#" keyId = "k,with,commas" , created=1402170695, expires=1402170699.5, foo="bar", signature="YQ==" "#,
        )
        .unwrap();
        assert_eq!(p.key_id.as_deref(), Some("k,with,commas"));
        assert_eq!(p.created.as_deref(), Some("1402170695"));
        assert_eq!(p.expires.as_deref(), Some("1402170699.5"));
        assert_eq!(
            unix_time("1402170699.5").unwrap().timestamp(),
            1_402_170_699
        );
    }

    #[test]
    fn refuses_broken_parameters() {
        for bad in [
            r#"keyId"#,
            r#"keyId="unterminated"#,
            r#"keyId="a" signature="b""#,
            r#"="a""#,
            r#"keyId="a",keyId="b""#,
            r#"keyId="a\"#,
        ] {
            assert!(parse_params(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "-1", "1e9", "12.x", "9999999999999"] {
            assert!(unix_time(bad).is_err(), "{bad:?}");
        }
    }
}
