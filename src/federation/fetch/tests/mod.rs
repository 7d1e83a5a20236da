//! Fetcher tests against local servers on port 0 (see [`server`]), plus the
//! pure parts: limits, constants, retryability.

mod get;
mod post;
mod server;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::StatusCode;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;

use super::{ACCEPT_ACTIVITY, FetchError, FetchLimits, Fetcher, Signer};
use crate::federation::{ACTIVITY_JSON, LD_JSON_AS};
use server::Seen;

const USER_AGENT: &str = "Estuary-test/0.1 (+https://estuary.test/)";
const KEY_ID: &str = "https://estuary.test/users/alice#main-key";

fn key() -> Arc<PKey<Private>> {
    static KEY: OnceLock<Arc<PKey<Private>>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()))
        .clone()
}

fn signer() -> Signer {
    Signer {
        key_id: KEY_ID.to_owned(),
        key: key(),
    }
}

fn fetcher(allow_private: bool) -> Fetcher {
    Fetcher::new(allow_private, FetchLimits::default(), USER_AGENT).unwrap()
}

/// Checks a draft-cavage `Signature` header: keyId, the signed header list,
/// and the RSA-SHA256 signature itself over what the server received.
fn assert_signed(seen: &Seen, expected_headers: &str) {
    let value = seen.header("signature").expect("no Signature header");
    let params: HashMap<&str, &str> = value
        .split(',')
        .filter_map(|part| part.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
        .collect();
    assert_eq!(params["keyId"], KEY_ID);
    assert_eq!(params["headers"], expected_headers);
    let signing_string = expected_headers
        .split(' ')
        .map(|name| match name {
            "(request-target)" => format!(
                "(request-target): {} {}",
                seen.method.to_lowercase(),
                seen.target
            ),
            _ => {
                assert_eq!(seen.header_count(name), 1, "{name} must be sent once");
                format!("{name}: {}", seen.header(name).unwrap())
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let signature = BASE64.decode(params["signature"]).unwrap();
    let key = key();
    let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &key).unwrap();
    verifier.update(signing_string.as_bytes()).unwrap();
    assert!(
        verifier.verify(&signature).unwrap(),
        "signature does not verify over:\n{signing_string}"
    );
}

#[test]
fn defaults_and_constants() {
    let limits = FetchLimits::default();
    assert_eq!(limits.connect_timeout, Duration::from_secs(5));
    assert_eq!(limits.total_timeout, Duration::from_secs(10));
    assert_eq!(limits.max_json_bytes, 1024 * 1024);
    assert_eq!(limits.max_redirects, 5);
    assert_eq!(ACCEPT_ACTIVITY, format!("{ACTIVITY_JSON}, {LD_JSON_AS}"));
}

#[test]
fn retryable_errors() {
    let status = |code: u16| FetchError::Status {
        status: StatusCode::from_u16(code).unwrap(),
    };
    for err in [
        FetchError::Dns("x".into()),
        FetchError::Connect("x".into()),
        FetchError::Timeout,
        status(500),
        status(502),
        status(503),
        status(408),
        status(429),
    ] {
        assert!(err.is_retryable(), "{err:?}");
    }
    for err in [
        FetchError::InvalidUrl("x".into()),
        FetchError::ForbiddenAddress("127.0.0.1".into()),
        FetchError::TooLarge,
        FetchError::TooManyRedirects,
        FetchError::NotJson("x".into()),
        FetchError::Sign("x".into()),
        FetchError::Setup("x".into()),
        status(400),
        status(401),
        status(404),
        status(410),
        status(302),
    ] {
        assert!(!err.is_retryable(), "{err:?}");
    }
}

#[test]
fn invalid_user_agent_is_a_setup_error() {
    let err = Fetcher::new(false, FetchLimits::default(), "bad\nagent").unwrap_err();
    assert!(matches!(err, FetchError::Setup(_)), "{err:?}");
}
