//! Round trips through our own signers and verifiers, tampering, time and
//! coverage rules, and a fuzz-style loop over mangled headers.

use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use http::{HeaderMap, HeaderValue, Method};
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;

use super::sfv::BASE64;
use super::*;

const KEY_ID: &str = "https://remote.example/users/alice#main-key";
const BODY: &[u8] = br#"{"type":"Create","actor":"https://remote.example/users/alice"}"#;

fn rsa_key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap())
}

fn other_rsa_key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap())
}

fn ed_key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| PKey::generate_ed25519().unwrap())
}

/// The public half, as a peer would publish and we would parse it.
fn public(key: &PKey<Private>) -> PKey<Public> {
    let pem = String::from_utf8(key.public_key_to_pem().unwrap()).unwrap();
    parse_public_key_pem(&pem).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Signer {
    Cavage,
    Rfc9421,
}

const SIGNERS: [Signer; 2] = [Signer::Cavage, Signer::Rfc9421];

/// A signed request: method, path and query, headers, body.
struct Signed {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
}

impl Signed {
    fn parse(&self) -> Result<ParsedSignature, SignatureError> {
        parse_signature(&self.method, &self.path, &self.headers)
    }
}

fn sign(
    signer: Signer,
    method: Method,
    url: &str,
    body: Option<&[u8]>,
    key: &PKey<Private>,
    at: DateTime<Utc>,
) -> Signed {
    let url = url::Url::parse(url).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        "accept",
        HeaderValue::from_static("application/activity+json"),
    );
    if body.is_some() {
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/activity+json"),
        );
    }
    match signer {
        Signer::Cavage => sign_cavage(&method, &url, &mut headers, body, KEY_ID, key, at),
        Signer::Rfc9421 => sign_rfc9421(&method, &url, &mut headers, body, KEY_ID, key, at),
    }
    .unwrap();
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    Signed {
        method,
        path,
        headers,
        body: body.map(<[u8]>::to_vec),
    }
}

/// Everything an inbox does, in order.
fn accept(signed: &Signed, key: &PKey<Public>, at: DateTime<Utc>) -> Result<(), String> {
    let parsed = signed.parse().map_err(|e| e.to_string())?;
    parsed
        .check_coverage(signed.body.is_some())
        .map_err(|e| e.to_string())?;
    parsed
        .check_time(at, MAX_AGE, MAX_FUTURE)
        .map_err(|e| e.to_string())?;
    parsed.verify(key).map_err(|e| e.to_string())?;
    if let Some(body) = &signed.body {
        verify_body_digest(&signed.headers, body).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn cavage_round_trips_like_mastodon() {
    let key = public(rsa_key());
    let get = sign(
        Signer::Cavage,
        Method::GET,
        "https://remote.example/users/bob?page=1",
        None,
        rsa_key(),
        now(),
    );
    accept(&get, &key, now() + TimeDelta::minutes(1)).unwrap();
    let sig = get.headers["signature"].to_str().unwrap();
    assert!(sig.starts_with(&format!(
        "keyId=\"{KEY_ID}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\""
    )));
    assert_eq!(get.headers["host"], "remote.example");
    assert_eq!(get.headers["date"], "Thu, 28 May 2026 20:26:40 GMT");
    let parsed = get.parse().unwrap();
    assert_eq!(parsed.scheme, Scheme::Cavage);
    assert_eq!(parsed.key_id, KEY_ID);
    assert_eq!(parsed.algorithm, Some(Algorithm::RsaSha256));
    assert_eq!(parsed.created, Some(now()));
    assert_eq!(parsed.expires, None);

    let post = sign(
        Signer::Cavage,
        Method::POST,
        "https://remote.example/inbox",
        Some(BODY),
        rsa_key(),
        now(),
    );
    accept(&post, &key, now()).unwrap();
    assert!(
        post.headers["signature"]
            .to_str()
            .unwrap()
            .contains("headers=\"(request-target) host date digest content-type\"")
    );
    assert_eq!(post.headers["digest"], digest_header(BODY).as_str());
    assert_eq!(
        post.parse().unwrap().components,
        ["(request-target)", "host", "date", "digest", "content-type"]
    );
}

#[test]
fn rfc9421_round_trips_with_rsa_and_ed25519() {
    for (private, alg) in [
        (rsa_key(), Algorithm::RsaV15Sha256),
        (ed_key(), Algorithm::Ed25519),
    ] {
        let key = public(private);
        let get = sign(
            Signer::Rfc9421,
            Method::GET,
            "https://remote.example/users/bob",
            None,
            private,
            now(),
        );
        accept(&get, &key, now()).unwrap();
        let parsed = get.parse().unwrap();
        assert_eq!(parsed.scheme, Scheme::Rfc9421);
        assert_eq!(parsed.algorithm, Some(alg));
        assert_eq!(parsed.components, ["@method", "@target-uri"]);
        assert_eq!(parsed.created, Some(now()));
        assert_eq!(
            get.headers["signature-input"].to_str().unwrap(),
            format!(
                "sig1=(\"@method\" \"@target-uri\");created=1780000000;keyid=\"{KEY_ID}\";alg=\"{}\"",
                alg.as_str()
            )
        );
        assert_eq!(
            std::str::from_utf8(parsed.signature_base()).unwrap(),
            format!(
                "\"@method\": GET\n\"@target-uri\": https://remote.example/users/bob\n\
                 \"@signature-params\": (\"@method\" \"@target-uri\");created=1780000000;keyid=\"{KEY_ID}\";alg=\"{}\"",
                alg.as_str()
            )
        );

        let post = sign(
            Signer::Rfc9421,
            Method::POST,
            "https://remote.example/inbox?x=1",
            Some(BODY),
            private,
            now(),
        );
        accept(&post, &key, now()).unwrap();
        assert_eq!(
            post.headers["content-digest"],
            content_digest_header(BODY).as_str()
        );
        assert_eq!(
            post.parse().unwrap().components,
            ["@method", "@target-uri", "content-digest"]
        );
    }
}

#[test]
fn ports_and_schemes_are_kept() {
    for signer in SIGNERS {
        let signed = sign(
            signer,
            Method::POST,
            "http://localhost:8080/users/x/inbox",
            Some(BODY),
            key_for(signer),
            now(),
        );
        assert_eq!(signed.headers["host"], "localhost:8080");
        let target = RequestTarget {
            scheme: "http",
            authority: None,
            bound_to: None,
        };
        let parsed =
            parse_signature_at(&signed.method, &signed.path, &signed.headers, &target).unwrap();
        parsed.verify(&public(key_for(signer))).unwrap();
    }
    // RFC 9421's @target-uri carries the scheme: https is not http.
    let signed = sign(
        Signer::Rfc9421,
        Method::GET,
        "http://localhost:8080/x",
        None,
        ed_key(),
        now(),
    );
    assert!(matches!(
        signed.parse().unwrap().verify(&public(ed_key())),
        Err(SignatureError::Invalid)
    ));
}

fn key_for(signer: Signer) -> &'static PKey<Private> {
    match signer {
        Signer::Cavage => rsa_key(),
        Signer::Rfc9421 => ed_key(),
    }
}

#[test]
fn host_falls_back_to_the_targets_authority() {
    for signer in SIGNERS {
        let mut signed = sign(
            signer,
            Method::GET,
            "https://remote.example/x",
            None,
            rsa_key(),
            now(),
        );
        signed.headers.remove("host");
        assert!(matches!(signed.parse(), Err(SignatureError::Malformed(_))));
        let target = RequestTarget {
            scheme: "https",
            authority: Some("remote.example"),
            bound_to: None,
        };
        parse_signature_at(&signed.method, &signed.path, &signed.headers, &target)
            .unwrap()
            .verify(&public(rsa_key()))
            .unwrap();
    }
}

#[test]
fn a_target_bound_to_this_server_ignores_the_host_header() {
    for signer in SIGNERS {
        // Made for evil.example, replayed here with its own Host header.
        let signed = sign(
            signer,
            Method::POST,
            "https://evil.example/inbox",
            Some(BODY),
            rsa_key(),
            now(),
        );
        let bound = |own| RequestTarget {
            scheme: "https",
            authority: Some(own),
            bound_to: Some(own),
        };
        let here = parse_signature_at(
            &signed.method,
            &signed.path,
            &signed.headers,
            &bound("good.example"),
        )
        .unwrap();
        assert!(
            matches!(
                here.verify(&public(rsa_key())),
                Err(SignatureError::Invalid)
            ),
            "{signer:?}"
        );
        parse_signature_at(
            &signed.method,
            &signed.path,
            &signed.headers,
            &bound("evil.example"),
        )
        .unwrap()
        .verify(&public(rsa_key()))
        .unwrap();
    }
}

#[test]
fn tampering_is_caught() {
    let key = public(rsa_key());
    for signer in SIGNERS {
        let fresh = || {
            sign(
                signer,
                Method::POST,
                "https://remote.example/inbox",
                Some(BODY),
                rsa_key(),
                now(),
            )
        };
        let invalid = |signed: &Signed, what: &str| {
            let result = signed.parse().and_then(|p| p.verify(&key));
            assert!(
                matches!(result, Err(SignatureError::Invalid)),
                "{signer:?}, {what}: {result:?}"
            );
        };

        // The body changes: the signature still holds, the digest does not.
        let mut signed = fresh();
        signed.body = Some(br#"{"type":"Delete"}"#.to_vec());
        signed.parse().unwrap().verify(&key).unwrap();
        assert_eq!(
            verify_body_digest(&signed.headers, signed.body.as_deref().unwrap()),
            Err(DigestError::Mismatch)
        );
        // The digest header is rewritten to match: the signature breaks.
        for name in ["digest", "content-digest"] {
            if signed.headers.contains_key(name) {
                let value = match name {
                    "digest" => digest_header(b"{\"type\":\"Delete\"}"),
                    _ => content_digest_header(b"{\"type\":\"Delete\"}"),
                };
                signed
                    .headers
                    .insert(name, HeaderValue::from_str(&value).unwrap());
            }
        }
        invalid(&signed, "digest rewritten");

        let mut signed = fresh();
        signed.path = "/users/alice/inbox".into();
        invalid(&signed, "path");

        let mut signed = fresh();
        signed.method = Method::PUT;
        invalid(&signed, "method");

        let mut signed = fresh();
        signed
            .headers
            .insert("host", HeaderValue::from_static("other.example"));
        invalid(&signed, "host");

        // Another request's signature.
        let mut signed = fresh();
        let other = sign(
            signer,
            Method::POST,
            "https://remote.example/inbox",
            Some(b"{}"),
            rsa_key(),
            now(),
        );
        for name in ["signature", "signature-input"] {
            if let Some(value) = other.headers.get(name) {
                signed.headers.insert(name, value.clone());
            }
        }
        invalid(&signed, "swapped signature");

        // Another key.
        let signed = fresh();
        assert!(matches!(
            signed.parse().unwrap().verify(&public(other_rsa_key())),
            Err(SignatureError::Invalid)
        ));
        assert!(matches!(
            signed.parse().unwrap().verify(&public(ed_key())),
            Err(SignatureError::AlgorithmKeyMismatch)
        ));
    }

    // Date is covered by draft-cavage signatures.
    let mut signed = sign(
        Signer::Cavage,
        Method::GET,
        "https://remote.example/x",
        None,
        rsa_key(),
        now(),
    );
    signed.headers.insert(
        "date",
        HeaderValue::from_str(&super::fields::imf_fixdate(now() + TimeDelta::seconds(1))).unwrap(),
    );
    assert!(matches!(
        signed.parse().unwrap().verify(&key),
        Err(SignatureError::Invalid)
    ));
}

#[test]
fn unknown_algorithms_are_refused_at_parse_time() {
    let signed = sign(
        Signer::Cavage,
        Method::GET,
        "https://remote.example/x",
        None,
        rsa_key(),
        now(),
    );
    let mut headers = signed.headers.clone();
    let sig = headers["signature"]
        .to_str()
        .unwrap()
        .replace("rsa-sha256", "hmac-sha256");
    headers.insert("signature", HeaderValue::from_str(&sig).unwrap());
    let result = parse_signature(&signed.method, &signed.path, &headers);
    assert!(
        matches!(&result, Err(SignatureError::UnknownAlgorithm(a)) if a == "hmac-sha256"),
        "{result:?}"
    );
    assert_eq!(result.unwrap_err().reason(), "algorithm");

    let signed = sign(
        Signer::Rfc9421,
        Method::GET,
        "https://remote.example/x",
        None,
        rsa_key(),
        now(),
    );
    for alg in ["hmac-sha256", "ecdsa-p256-sha256", "rsa-sha256", "hs2019"] {
        let mut headers = signed.headers.clone();
        let input = headers["signature-input"]
            .to_str()
            .unwrap()
            .replace("rsa-v1_5-sha256", alg);
        headers.insert("signature-input", HeaderValue::from_str(&input).unwrap());
        assert!(matches!(
            parse_signature(&signed.method, &signed.path, &headers),
            Err(SignatureError::UnknownAlgorithm(_))
        ));
    }
}

#[test]
fn time_window() {
    let key = public(rsa_key());
    for signer in SIGNERS {
        let get = |at| {
            sign(
                signer,
                Method::GET,
                "https://remote.example/x",
                None,
                rsa_key(),
                at,
            )
        };
        let check = |signed: &Signed| {
            let parsed = signed.parse().unwrap();
            parsed.verify(&key).unwrap();
            parsed.check_time(now(), MAX_AGE, MAX_FUTURE)
        };
        check(&get(now())).unwrap();
        check(&get(now() + TimeDelta::minutes(59))).unwrap();
        check(&get(now() - TimeDelta::hours(11))).unwrap();
        assert!(matches!(
            check(&get(now() + TimeDelta::hours(2))),
            Err(SignatureError::InFuture)
        ));
        assert!(matches!(
            check(&get(now() - TimeDelta::hours(13))),
            Err(SignatureError::TooOld)
        ));
    }
}

/// Replaces the signature of a hand-built request with a real one over
/// whatever its headers now say, so odd shapes can be tested end to end.
fn resign(method: &Method, path: &str, headers: &mut HeaderMap, key: &PKey<Private>) {
    let parsed = parse_signature(method, path, headers).unwrap();
    let primitive = super::keys::primitive_for(parsed.algorithm, key).unwrap();
    let signature =
        BASE64.encode(super::keys::sign(primitive, key, parsed.signature_base()).unwrap());
    if let Some(input) = headers.get("signature-input") {
        let label = input
            .to_str()
            .unwrap()
            .split('=')
            .next()
            .unwrap()
            .to_string();
        headers.insert(
            "signature",
            HeaderValue::from_str(&format!("{label}=:{signature}:")).unwrap(),
        );
    } else {
        let old = headers["signature"].to_str().unwrap().to_string();
        let (head, _) = old.split_once("signature=\"").unwrap();
        headers.insert(
            "signature",
            HeaderValue::from_str(&format!("{head}signature=\"{signature}\"")).unwrap(),
        );
    }
}

fn cavage_headers(covered: &str, extra: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static("remote.example"));
    h.insert(
        "date",
        HeaderValue::from_str(&super::fields::imf_fixdate(now())).unwrap(),
    );
    h.insert(
        "content-type",
        HeaderValue::from_static("application/activity+json"),
    );
    h.insert(
        "digest",
        HeaderValue::from_str(&digest_header(BODY)).unwrap(),
    );
    h.insert(
        "signature",
        HeaderValue::from_str(&format!(
            "keyId=\"{KEY_ID}\",algorithm=\"hs2019\",headers=\"{covered}\"{extra},signature=\"AAAA\""
        ))
        .unwrap(),
    );
    h
}

#[test]
fn coverage_rules() {
    let key = public(rsa_key());
    let check = |covered: &str, extra: &str, has_body: bool| {
        let mut h = cavage_headers(covered, extra);
        resign(&Method::POST, "/inbox", &mut h, rsa_key());
        let parsed = parse_signature(&Method::POST, "/inbox", &h).unwrap();
        parsed.verify(&key).unwrap();
        parsed.check_coverage(has_body)
    };
    check("(request-target) host date digest", "", true).unwrap();
    assert!(matches!(
        check("(request-target) host date content-type", "", true),
        Err(SignatureError::NotCovered("digest"))
    ));
    check("(request-target) host date content-type", "", false).unwrap();
    assert!(matches!(
        check("(request-target) date digest", "", true),
        Err(SignatureError::NotCovered("host"))
    ));
    assert!(matches!(
        check("host date digest", "", true),
        Err(SignatureError::NotCovered("request-target"))
    ));
    assert!(matches!(
        check("(request-target) host digest", "", true),
        Err(SignatureError::NotCovered("date"))
    ));
    // (created) stands in for date.
    let created = now().timestamp();
    check(
        "(request-target) (created) host digest",
        &format!(",created={created}"),
        true,
    )
    .unwrap();

    // RFC 9421: host via @authority, a body needs content-digest.
    let rfc = |components: &str, has_body: bool| {
        let mut h = cavage_headers("", "");
        h.remove("signature");
        h.insert(
            "content-digest",
            HeaderValue::from_str(&content_digest_header(BODY)).unwrap(),
        );
        h.insert(
            "signature-input",
            HeaderValue::from_str(&format!(
                "sig=({components});created={created};keyid=\"{KEY_ID}\""
            ))
            .unwrap(),
        );
        h.insert("signature", HeaderValue::from_static("sig=:AAAA:"));
        resign(&Method::POST, "/inbox", &mut h, rsa_key());
        let parsed = parse_signature(&Method::POST, "/inbox", &h).unwrap();
        parsed.verify(&key).unwrap();
        parsed.check_coverage(has_body)
    };
    rfc(r#""@method" "@path" "@authority" "content-digest""#, true).unwrap();
    rfc(r#""@method" "@request-target" "host""#, false).unwrap();
    assert!(matches!(
        rfc(r#""@method" "@target-uri""#, true),
        Err(SignatureError::NotCovered("digest"))
    ));
    assert!(matches!(
        rfc(r#""@method" "@path" "content-digest""#, true),
        Err(SignatureError::NotCovered("host"))
    ));
    assert!(matches!(
        rfc(r#""@path" "@authority""#, false),
        Err(SignatureError::NotCovered("request-target"))
    ));
    assert!(matches!(
        rfc(r#""@method" "@authority""#, false),
        Err(SignatureError::NotCovered("request-target"))
    ));
}

#[test]
fn dates_and_expiry() {
    let key = public(rsa_key());
    // No date at all.
    let mut h = cavage_headers("(request-target) host", "");
    resign(&Method::GET, "/x", &mut h, rsa_key());
    let parsed = parse_signature(&Method::GET, "/x", &h).unwrap();
    parsed.verify(&key).unwrap();
    assert_eq!(parsed.created, None);
    assert!(matches!(
        parsed.check_time(now(), MAX_AGE, MAX_FUTURE),
        Err(SignatureError::MissingDate)
    ));
    assert!(matches!(
        parsed.check_coverage(false),
        Err(SignatureError::NotCovered("date"))
    ));

    // (created) and (expires), the latter in the past.
    let created = now() - TimeDelta::minutes(10);
    let expires = now() - TimeDelta::minutes(5);
    let mut h = cavage_headers(
        "(request-target) host (created) (expires)",
        &format!(
            ",created={},expires={}",
            created.timestamp(),
            expires.timestamp()
        ),
    );
    resign(&Method::GET, "/x", &mut h, rsa_key());
    let parsed = parse_signature(&Method::GET, "/x", &h).unwrap();
    parsed.verify(&key).unwrap();
    assert_eq!(parsed.created, Some(created));
    assert_eq!(parsed.expires, Some(expires));
    assert!(matches!(
        parsed.check_time(now(), MAX_AGE, MAX_FUTURE),
        Err(SignatureError::Expired)
    ));
    parsed
        .check_time(now() - TimeDelta::minutes(6), MAX_AGE, MAX_FUTURE)
        .unwrap();

    // An unparseable covered Date.
    let mut h = cavage_headers("(request-target) host date", "");
    h.insert("date", HeaderValue::from_static("last Tuesday"));
    assert!(matches!(
        parse_signature(&Method::GET, "/x", &h),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn missing_and_malformed() {
    let h = HeaderMap::new();
    assert!(matches!(
        parse_signature(&Method::GET, "/", &h),
        Err(SignatureError::Missing)
    ));
    let mut h = HeaderMap::new();
    h.insert("authorization", HeaderValue::from_static("Bearer abc"));
    assert!(matches!(
        parse_signature(&Method::GET, "/", &h),
        Err(SignatureError::Missing)
    ));
    let mut h = HeaderMap::new();
    h.insert(
        "signature-input",
        HeaderValue::from_static("sig=(\"@method\");keyid=\"k\""),
    );
    assert!(matches!(
        parse_signature(&Method::GET, "/", &h),
        Err(SignatureError::Missing)
    ));
    let mut h = cavage_headers("(request-target) host date x-absent", "");
    resign_should_fail(&mut h);
    assert_eq!(
        parse_signature(&Method::GET, "/", &h)
            .unwrap_err()
            .to_string(),
        "malformed signature: the covered header x-absent is missing"
    );
}

fn resign_should_fail(h: &mut HeaderMap) {
    assert!(parse_signature(&Method::GET, "/", h).is_err());
}

#[test]
fn sign_refuses_what_it_cannot_do() {
    let url = url::Url::parse("https://remote.example/inbox").unwrap();
    let mut h = HeaderMap::new();
    // A body without Content-Type.
    assert!(matches!(
        sign_cavage(
            &Method::POST,
            &url,
            &mut h,
            Some(BODY),
            KEY_ID,
            rsa_key(),
            now()
        ),
        Err(SignatureError::Malformed(_))
    ));
    // draft-cavage signing is RSA only.
    assert!(matches!(
        sign_cavage(&Method::GET, &url, &mut h, None, KEY_ID, ed_key(), now()),
        Err(SignatureError::AlgorithmKeyMismatch)
    ));
    // Key ids that cannot be written into the header.
    assert!(sign_cavage(&Method::GET, &url, &mut h, None, "a\"b", rsa_key(), now()).is_err());
    assert!(sign_rfc9421(&Method::GET, &url, &mut h, None, "a\nb", rsa_key(), now()).is_err());
    // A URL without a host.
    let url = url::Url::parse("data:text/plain,hi").unwrap();
    assert!(sign_rfc9421(&Method::GET, &url, &mut h, None, KEY_ID, ed_key(), now()).is_err());
}

#[test]
fn reasons_and_messages() {
    let all = [
        (SignatureError::Missing, "missing"),
        (SignatureError::Malformed("x".into()), "malformed"),
        (SignatureError::UnknownAlgorithm("x".into()), "algorithm"),
        (SignatureError::AlgorithmKeyMismatch, "key_mismatch"),
        (SignatureError::Expired, "expired"),
        (SignatureError::TooOld, "too_old"),
        (SignatureError::InFuture, "in_future"),
        (SignatureError::MissingDate, "missing_date"),
        (SignatureError::NotCovered("host"), "not_covered"),
        (SignatureError::Invalid, "invalid"),
    ];
    for (error, reason) in all {
        assert_eq!(error.reason(), reason);
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(
        SignatureError::NotCovered("digest").to_string(),
        "the signature does not cover the digest"
    );
    let long = "x\u{7}".repeat(100);
    assert_eq!(
        SignatureError::unknown_algorithm(&long).to_string(),
        format!("unsupported signature algorithm {:?}", "x".repeat(64))
    );
}

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// Bytes that matter to the parsers, plus some that never should appear.
const SPICE: &[u8] = b"\"\\(),;=:?*-_. \t@/abcXYZ019+%\x7f\x80\xff\x01";

fn mangle(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                out.remove(at.min(out.len() - 1));
            }
            1 => out.insert(at, SPICE[rng.below(SPICE.len())]),
            2 => out.truncate(at),
            3 => {
                let end = (at + rng.below(16)).min(out.len());
                let chunk = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, chunk);
            }
            4 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = SPICE[rng.below(SPICE.len())];
            }
            _ => out.extend_from_slice(&input[..rng.below(input.len() + 1)]),
        }
    }
    out
}

#[test]
fn hostile_headers_never_panic() {
    let rsa = public(rsa_key());
    let ed = public(ed_key());
    let samples: Vec<Signed> = vec![
        sign(
            Signer::Cavage,
            Method::POST,
            "https://r.example/inbox",
            Some(BODY),
            rsa_key(),
            now(),
        ),
        sign(
            Signer::Rfc9421,
            Method::POST,
            "https://r.example/inbox?a=b",
            Some(BODY),
            ed_key(),
            now(),
        ),
        sign(
            Signer::Rfc9421,
            Method::GET,
            "https://r.example/x",
            None,
            rsa_key(),
            now(),
        ),
    ];
    let extra_inputs: [&[u8]; 4] = [
        br#"sig=("@query-param";name="a" "@query" "@scheme" "@authority" "@request-target" "date");created=1;expires=2;keyid="k";alg="ed25519";nonce="n";tag=?1;x=1.5;y=:AA==:;z=tok"#,
        br#"keyId="k",algorithm="hs2019",created=1,expires=2.5,headers="(request-target) (created) (expires) host date digest",signature="AAAA""#,
        b"Signature keyId=\"k\",headers=\"date\",signature=\"AAAA\"",
        b"sha-256=:AAAA:, sha-512=:AAAA:, md5=:AA:",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed_ok = 0;
    for round in 0..30_000 {
        let sample = &samples[round % samples.len()];
        let mut headers = sample.headers.clone();
        let names = [
            "signature",
            "signature-input",
            "authorization",
            "digest",
            "content-digest",
            "host",
            "date",
        ];
        for _ in 0..=rng.below(3) {
            let name = names[rng.below(names.len())];
            let base: Vec<u8> = if rng.below(3) == 0 {
                extra_inputs[rng.below(extra_inputs.len())].to_vec()
            } else {
                headers
                    .get(name)
                    .map(|v| v.as_bytes().to_vec())
                    .unwrap_or_else(|| extra_inputs[rng.below(extra_inputs.len())].to_vec())
            };
            let mangled = mangle(&mut rng, &base);
            if let Ok(value) = HeaderValue::from_bytes(&mangled) {
                if rng.below(4) == 0 {
                    headers.append(name, value);
                } else {
                    headers.insert(name, value);
                }
            }
        }
        let path = String::from_utf8_lossy(&mangle(&mut rng, sample.path.as_bytes())).into_owned();
        let target = RequestTarget {
            scheme: if rng.below(2) == 0 { "https" } else { "HTTP" },
            authority: (rng.below(2) == 0).then_some("r.example:443"),
            bound_to: None,
        };
        let result = parse_signature_at(&sample.method, &path, &headers, &target);
        if let Ok(parsed) = &result {
            parsed_ok += 1;
            let _ = parsed.check_coverage(rng.below(2) == 0);
            let _ = parsed.check_time(now(), MAX_AGE, MAX_FUTURE);
            let _ = parsed.check_time(DateTime::<Utc>::MAX_UTC, TimeDelta::MAX, TimeDelta::MAX);
            let _ = parsed.verify(&rsa);
            let _ = parsed.verify(&ed);
        } else if let Err(e) = &result {
            let _ = (e.reason(), e.to_string());
        }
        let _ = parse_signature_label(&sample.method, &path, &headers, &target, "sig1");
        let _ = verify_body_digest(&headers, BODY);
    }
    // The loop also exercised the success path, not only rejections.
    assert!(parsed_ok > 100, "only {parsed_ok} mangled requests parsed");
}
