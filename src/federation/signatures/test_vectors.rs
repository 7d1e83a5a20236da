//! The examples of RFC 9421 (HTTP Message Signatures) and of
//! draft-cavage-http-signatures (Appendix C), checked against our parser,
//! signature bases and verification. The keys, messages and signatures
//! are the specifications' own test data.
//!
//! Not covered here, by design: RFC 9421 B.2.4 (a response signed with
//! `ecdsa-p256-sha256`), B.2.5 (`hmac-sha256` with a shared secret) and
//! B.3 (`ecdsa-p256-sha256`), since we accept neither ECDSA nor HMAC.

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method};

use super::sfv::BASE64;
use super::*;

/// RFC 9421 Appendix B.1.1, `test-key-rsa` (PKCS#1 public key).
const TEST_KEY_RSA: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----";

/// RFC 9421 Appendix B.1.2, `test-key-rsa-pss` (SPKI public key).
const TEST_KEY_RSA_PSS: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----";

/// RFC 9421 Appendix B.1.4, `test-key-ed25519` (public and private).
const TEST_KEY_ED25519: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----";
const TEST_KEY_ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----";

/// The body of RFC 9421's `test-request` (Appendix B.2).
const BODY: &[u8] = br#"{"hello": "world"}"#;
/// Its `Content-Digest` (RFC 9421 Appendix B.2).
const CONTENT_DIGEST: &str = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";

/// The `test-request` of RFC 9421 Appendix B.2, plus signature fields.
///
/// ```text
/// POST /foo?param=Value&Pet=dog HTTP/1.1
/// Host: example.com
/// Date: Tue, 20 Apr 2021 02:07:55 GMT
/// Content-Type: application/json
/// Content-Digest: sha-512=:WZDPaVn/…:
/// Content-Length: 18
/// ```
const TEST_REQUEST_PATH: &str = "/foo?param=Value&Pet=dog";
fn test_request(signature_input: &str, signature: &str) -> HeaderMap {
    headers(&[
        ("host", "example.com"),
        ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("content-type", "application/json"),
        ("content-digest", CONTENT_DIGEST),
        ("content-length", "18"),
        ("signature-input", signature_input),
        ("signature", signature),
    ])
}

/// RFC 9421 Appendix B.2.1, minimal signature (`rsa-pss-sha512`, no `alg`).
const B21_INPUT: &str =
    r#"sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#;
const B21_SIGNATURE: &str = "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:";
const B21_BASE: &str = r#""@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#;

/// RFC 9421 Appendix B.2.2, selective covered components.
const B22_INPUT: &str = r#"sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example""#;
const B22_SIGNATURE: &str = "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:";
const B22_BASE: &str = concat!(
    "\"@authority\": example.com\n",
    "\"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n",
    "\"@query-param\";name=\"Pet\": dog\n",
    "\"@signature-params\": (\"@authority\" \"content-digest\" \"@query-param\";name=\"Pet\");created=1618884473;keyid=\"test-key-rsa-pss\";tag=\"header-example\"",
);

/// RFC 9421 Appendix B.2.3, full coverage.
const B23_INPUT: &str = r#"sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss""#;
const B23_SIGNATURE: &str = "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:";
const B23_BASE: &str = concat!(
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n",
    "\"@method\": POST\n",
    "\"@path\": /foo\n",
    "\"@query\": ?param=Value&Pet=dog\n",
    "\"@authority\": example.com\n",
    "\"content-type\": application/json\n",
    "\"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n",
    "\"content-length\": 18\n",
    "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-rsa-pss\"",
);

/// RFC 9421 Appendix B.2.6, signing a request using `ed25519`.
const B26_INPUT: &str = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
const B26_SIGNATURE: &str = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
const B26_BASE: &str = concat!(
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n",
    "\"@method\": POST\n",
    "\"@path\": /foo\n",
    "\"@authority\": example.com\n",
    "\"content-type\": application/json\n",
    "\"content-length\": 18\n",
    "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"",
);

/// RFC 9421 Section 4.3, a reverse proxy's `rsa-v1_5-sha256` signature
/// (`proxy_sig`, `test-key-rsa`) beside the client's `sig1`.
const PROXY_INPUT: &str = concat!(
    r#"sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length");created=1618884475;keyid="test-key-ecc-p256", "#,
    r#"proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540"#,
);
const PROXY_SIGNATURE: &str = concat!(
    "sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jTDX+sNalzA8ESSaHD3A==:, ",
    "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:",
);
fn proxied_request(forwarded: &str) -> HeaderMap {
    headers(&[
        ("host", "origin.host.internal.example"),
        ("date", "Tue, 20 Apr 2021 02:07:56 GMT"),
        ("content-type", "application/json"),
        ("content-length", "18"),
        ("forwarded", forwarded),
        ("content-digest", CONTENT_DIGEST),
        ("signature-input", PROXY_INPUT),
        ("signature", PROXY_SIGNATURE),
    ])
}
const FORWARDED: &str = "for=192.0.2.123;host=example.com;proto=https";

/// RFC 9421 Appendix B.4, the signed request whose transformations follow.
const TRANSFORM_INPUT: &str = r#"transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519""#;
const TRANSFORM_SIGNATURE: &str = "transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:";

/// draft-cavage-http-signatures Appendix C (drafts 10 to 12), the RSA
/// `Test` key.
const CAVAGE_TEST_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----";

/// The request of draft-cavage-http-signatures Appendix C.
fn cavage_request(signature: &str) -> HeaderMap {
    headers(&[
        ("host", "example.com"),
        ("date", "Sun, 05 Jan 2014 21:31:40 GMT"),
        ("content-type", "application/json"),
        (
            "digest",
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        ),
        ("content-length", "18"),
        ("signature", signature),
    ])
}

/// draft-cavage-http-signatures Appendix C.1, "Default Test" (draft 10's
/// form: without `headers`, only `date` is signed).
const CAVAGE_DEFAULT: &str = concat!(
    r#"keyId="Test",algorithm="rsa-sha256","#,
    r#"signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM=""#,
);
/// draft-cavage-http-signatures Appendix C.2, "Basic Test" (the same in
/// drafts 10 to 12).
const CAVAGE_BASIC: &str = concat!(
    r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date","#,
    r#"signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=""#,
);
const CAVAGE_BASIC_STRING: &str = "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT";
/// draft-cavage-http-signatures-10 Appendix C.3, "All Headers Test" (draft
/// 12 added `(created)` to it).
const CAVAGE_ALL: &str = concat!(
    r#"keyId="Test",algorithm="rsa-sha256","#,
    r#"headers="(request-target) host date content-type digest content-length","#,
    r#"signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=""#,
);
const CAVAGE_PATH: &str = "/foo?param=value&pet=dog";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn key(pem: &str) -> openssl::pkey::PKey<openssl::pkey::Public> {
    parse_public_key_pem(pem).expect("test key parses")
}

fn parse_test_request(input: &str, signature: &str) -> ParsedSignature {
    parse_signature(
        &Method::POST,
        TEST_REQUEST_PATH,
        &test_request(input, signature),
    )
    .expect("parses")
}

fn base_text(parsed: &ParsedSignature) -> &str {
    std::str::from_utf8(parsed.signature_base()).unwrap()
}

#[test]
fn rfc9421_b_2_1_minimal_rsa_pss() {
    let parsed = parse_test_request(B21_INPUT, B21_SIGNATURE);
    assert_eq!(base_text(&parsed), B21_BASE);
    assert_eq!(parsed.key_id, "test-key-rsa-pss");
    assert_eq!(parsed.algorithm, None);
    assert_eq!(parsed.created.unwrap().timestamp(), 1_618_884_473);
    let key = key(TEST_KEY_RSA_PSS);
    parsed.verify_as(&key, Algorithm::RsaPssSha512).unwrap();
    // Without an algorithm bound to the key, an RSA key means PKCS#1 v1.5.
    assert!(matches!(parsed.verify(&key), Err(SignatureError::Invalid)));
}

#[test]
fn rfc9421_b_2_2_selective_rsa_pss() {
    let parsed = parse_test_request(B22_INPUT, B22_SIGNATURE);
    assert_eq!(base_text(&parsed), B22_BASE);
    let key = key(TEST_KEY_RSA_PSS);
    parsed.verify_as(&key, Algorithm::RsaPssSha512).unwrap();

    // The covered query parameter changes: no longer valid.
    let tampered = parse_signature(
        &Method::POST,
        "/foo?param=Value&Pet=cat",
        &test_request(B22_INPUT, B22_SIGNATURE),
    )
    .unwrap();
    assert!(matches!(
        tampered.verify_as(&key, Algorithm::RsaPssSha512),
        Err(SignatureError::Invalid)
    ));
    // An uncovered one changes: still valid.
    let extra = parse_signature(
        &Method::POST,
        "/foo?param=Other&Pet=dog",
        &test_request(B22_INPUT, B22_SIGNATURE),
    )
    .unwrap();
    extra.verify_as(&key, Algorithm::RsaPssSha512).unwrap();
}

#[test]
fn rfc9421_b_2_3_full_coverage_rsa_pss() {
    let parsed = parse_test_request(B23_INPUT, B23_SIGNATURE);
    assert_eq!(base_text(&parsed), B23_BASE);
    let key = key(TEST_KEY_RSA_PSS);
    parsed.verify_as(&key, Algorithm::RsaPssSha512).unwrap();
    parsed.check_coverage(true).unwrap();
    verify_body_digest(&test_request(B23_INPUT, B23_SIGNATURE), BODY).unwrap();

    let mut changed = test_request(B23_INPUT, B23_SIGNATURE);
    changed.insert("content-type", HeaderValue::from_static("application/xml"));
    let tampered = parse_signature(&Method::POST, TEST_REQUEST_PATH, &changed).unwrap();
    assert!(matches!(
        tampered.verify_as(&key, Algorithm::RsaPssSha512),
        Err(SignatureError::Invalid)
    ));
}

#[test]
fn rfc9421_b_2_6_ed25519() {
    let headers = test_request(B26_INPUT, B26_SIGNATURE);
    let parsed = parse_signature(&Method::POST, TEST_REQUEST_PATH, &headers).unwrap();
    assert_eq!(base_text(&parsed), B26_BASE);
    assert_eq!(parsed.scheme, Scheme::Rfc9421);
    assert_eq!(parsed.key_id, "test-key-ed25519");
    assert_eq!(
        parsed.components,
        [
            "date",
            "@method",
            "@path",
            "@authority",
            "content-type",
            "content-length"
        ]
    );
    let key = key(TEST_KEY_ED25519);
    parsed.verify(&key).unwrap();
    parsed.verify_as(&key, Algorithm::Ed25519).unwrap();
    assert!(matches!(
        parsed.verify_as(&key, Algorithm::RsaV15Sha256),
        Err(SignatureError::AlgorithmKeyMismatch)
    ));
    // It does not cover a digest: fine without a body, not with one.
    parsed.check_coverage(false).unwrap();
    assert!(matches!(
        parsed.check_coverage(true),
        Err(SignatureError::NotCovered("digest"))
    ));
    let created = parsed.created.unwrap();
    parsed.check_time(created, MAX_AGE, MAX_FUTURE).unwrap();
    assert!(matches!(
        parsed.check_time(created + TimeDelta::hours(13), MAX_AGE, MAX_FUTURE),
        Err(SignatureError::TooOld)
    ));

    // Our signer reproduces the RFC's signature byte for byte (Ed25519 is
    // deterministic).
    let private =
        openssl::pkey::PKey::private_key_from_pem(TEST_KEY_ED25519_PRIVATE.as_bytes()).unwrap();
    let signature = super::keys::sign(
        super::keys::Primitive::Ed25519,
        &private,
        parsed.signature_base(),
    )
    .unwrap();
    assert_eq!(
        format!("sig-b26=:{}:", BASE64.encode(signature)),
        B26_SIGNATURE
    );

    // Tampered copies fail: a header value, the path, the method, the
    // authority, the signature.
    let key = &key;
    let fails = |method: Method, path: &str, headers: &HeaderMap| {
        let parsed = parse_signature(&method, path, headers).unwrap();
        assert!(
            matches!(parsed.verify(key), Err(SignatureError::Invalid)),
            "{method} {path} {headers:?}"
        );
    };
    let mut h = headers.clone();
    h.insert("content-length", HeaderValue::from_static("19"));
    fails(Method::POST, TEST_REQUEST_PATH, &h);
    let mut h = headers.clone();
    h.insert(
        "date",
        HeaderValue::from_static("Tue, 20 Apr 2021 02:07:56 GMT"),
    );
    fails(Method::POST, TEST_REQUEST_PATH, &h);
    let mut h = headers.clone();
    h.insert("host", HeaderValue::from_static("example.org"));
    fails(Method::POST, TEST_REQUEST_PATH, &h);
    fails(Method::PUT, TEST_REQUEST_PATH, &headers);
    fails(Method::POST, "/fob?param=Value&Pet=dog", &headers);
    let mut h = headers.clone();
    h.insert(
        "signature",
        HeaderValue::from_static(
            "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCA==:",
        ),
    );
    fails(Method::POST, TEST_REQUEST_PATH, &h);

    // One byte of the body changed: the digest no longer matches.
    assert_eq!(
        verify_body_digest(&headers, br#"{"hello": "World"}"#),
        Err(DigestError::Mismatch)
    );
    verify_body_digest(&headers, BODY).unwrap();
}

#[test]
fn rfc9421_section_4_3_proxy_rsa_v1_5_sha256() {
    let headers = proxied_request(FORWARDED);
    let target = RequestTarget::HTTPS;
    let parsed = parse_signature_label(
        &Method::POST,
        TEST_REQUEST_PATH,
        &headers,
        &target,
        "proxy_sig",
    )
    .unwrap();
    assert_eq!(parsed.key_id, "test-key-rsa");
    assert_eq!(parsed.algorithm, Some(Algorithm::RsaV15Sha256));
    assert_eq!(parsed.created.unwrap().timestamp(), 1_618_884_480);
    assert_eq!(parsed.expires.unwrap().timestamp(), 1_618_884_540);
    let key = key(TEST_KEY_RSA);
    parsed.verify(&key).unwrap();
    parsed.check_coverage(true).unwrap();
    verify_body_digest(&headers, BODY).unwrap();

    let at = |secs| DateTime::from_timestamp(secs, 0).unwrap();
    parsed
        .check_time(at(1_618_884_500), MAX_AGE, MAX_FUTURE)
        .unwrap();
    assert!(matches!(
        parsed.check_time(at(1_618_884_541), MAX_AGE, MAX_FUTURE),
        Err(SignatureError::Expired)
    ));

    // An Ed25519 key cannot check an rsa-v1_5-sha256 signature.
    assert!(matches!(
        parsed.verify(&self::key(TEST_KEY_ED25519)),
        Err(SignatureError::AlgorithmKeyMismatch)
    ));

    // Tampering with the covered Forwarded field breaks it.
    let tampered = parse_signature_label(
        &Method::POST,
        TEST_REQUEST_PATH,
        &proxied_request("for=192.0.2.124;host=example.com;proto=https"),
        &target,
        "proxy_sig",
    )
    .unwrap();
    assert!(matches!(
        tampered.verify(&key),
        Err(SignatureError::Invalid)
    ));

    // Without a label, the first signature (the client's ECDSA one) is
    // taken; it does not verify with the proxy's RSA key.
    let first = parse_signature(&Method::POST, TEST_REQUEST_PATH, &headers).unwrap();
    assert_eq!(first.key_id, "test-key-ecc-p256");
    assert!(matches!(first.verify(&key), Err(SignatureError::Invalid)));
    assert!(matches!(
        parse_signature_label(&Method::POST, TEST_REQUEST_PATH, &headers, &target, "nope"),
        Err(SignatureError::Missing)
    ));
}

/// Appendix B.4: transformations that keep the `transform` signature valid
/// (uncovered parts change, fields are combined) and ones that break it
/// (covered method, authority, or field order change).
#[test]
fn rfc9421_b_4_transformations() {
    let key = key(TEST_KEY_ED25519);
    let sig = [
        ("signature-input", TRANSFORM_INPUT),
        ("signature", TRANSFORM_SIGNATURE),
    ];
    let check = |method: Method, path: &str, pairs: &[(&'static str, &str)]| {
        let mut h = headers(pairs);
        for (name, value) in sig {
            h.append(name, HeaderValue::from_static(value));
        }
        parse_signature(&method, path, &h).unwrap().verify(&key)
    };
    let original = [
        ("host", "example.org"),
        ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
        ("accept", "application/json"),
        ("accept", "*/*"),
    ];
    check(Method::GET, "/demo?name1=Value1&Name2=value2", &original).unwrap();

    // Still valid: an added query parameter and an added header.
    check(
        Method::GET,
        "/demo?name1=Value1&Name2=value2&param=added",
        &[
            ("host", "example.org"),
            ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
            ("accept", "application/json"),
            ("accept", "*/*"),
            ("accept-language", "en-US,en;q=0.5"),
        ],
    )
    .unwrap();
    // Still valid: Date removed, Referer added, Accept on one line (as
    // HTTP/2 or a proxy may deliver it).
    check(
        Method::GET,
        "/demo?name1=Value1&Name2=value2",
        &[
            ("host", "example.org"),
            ("referer", "https://developer.example.org/demo"),
            ("accept", "application/json, */*"),
        ],
    )
    .unwrap();

    // Not valid: the method and the authority changed.
    assert!(matches!(
        check(
            Method::POST,
            "/demo?name1=Value1&Name2=value2",
            &[
                ("host", "example.com"),
                ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
                ("accept", "application/json"),
                ("accept", "*/*"),
            ],
        ),
        Err(SignatureError::Invalid)
    ));
    // Not valid: the two Accept lines swapped.
    assert!(matches!(
        check(
            Method::GET,
            "/demo?name1=Value1&Name2=value2",
            &[
                ("host", "example.org"),
                ("date", "Fri, 15 Jul 2022 14:24:55 GMT"),
                ("accept", "*/*"),
                ("accept", "application/json"),
            ],
        ),
        Err(SignatureError::Invalid)
    ));
}

#[test]
fn cavage_appendix_c_default_test() {
    let parsed =
        parse_signature(&Method::POST, CAVAGE_PATH, &cavage_request(CAVAGE_DEFAULT)).unwrap();
    assert_eq!(base_text(&parsed), "date: Sun, 05 Jan 2014 21:31:40 GMT");
    assert_eq!(parsed.components, ["date"]);
    parsed.verify(&key(CAVAGE_TEST_KEY)).unwrap();
    // It covers neither the request target nor the host: not enough for us.
    assert!(matches!(
        parsed.check_coverage(false),
        Err(SignatureError::NotCovered("request-target"))
    ));
}

#[test]
fn cavage_appendix_c_basic_test() {
    let key = key(CAVAGE_TEST_KEY);
    let headers = cavage_request(CAVAGE_BASIC);
    let parsed = parse_signature(&Method::POST, CAVAGE_PATH, &headers).unwrap();
    assert_eq!(parsed.scheme, Scheme::Cavage);
    assert_eq!(parsed.key_id, "Test");
    assert_eq!(parsed.algorithm, Some(Algorithm::RsaSha256));
    assert_eq!(base_text(&parsed), CAVAGE_BASIC_STRING);
    assert_eq!(parsed.created.unwrap().timestamp(), 1_388_957_500);
    parsed.verify(&key).unwrap();
    parsed.check_coverage(false).unwrap();
    assert!(matches!(
        parsed.check_coverage(true),
        Err(SignatureError::NotCovered("digest"))
    ));

    // The same as `Authorization: Signature …`.
    let mut auth = headers.clone();
    auth.remove("signature");
    auth.insert(
        "authorization",
        HeaderValue::from_str(&format!("Signature {CAVAGE_BASIC}")).unwrap(),
    );
    parse_signature(&Method::POST, CAVAGE_PATH, &auth)
        .unwrap()
        .verify(&key)
        .unwrap();

    // Tampered: the path, the host, the date.
    let fails = |path: &str, headers: &HeaderMap| {
        let parsed = parse_signature(&Method::POST, path, headers).unwrap();
        assert!(matches!(parsed.verify(&key), Err(SignatureError::Invalid)));
    };
    fails("/foo?param=value&pet=cat", &headers);
    let mut h = headers.clone();
    h.insert("host", HeaderValue::from_static("example.org"));
    fails(CAVAGE_PATH, &h);
    let mut h = headers.clone();
    h.insert(
        "date",
        HeaderValue::from_static("Sun, 05 Jan 2014 21:31:41 GMT"),
    );
    fails(CAVAGE_PATH, &h);
}

#[test]
fn cavage_appendix_c_all_headers_test() {
    let key = key(CAVAGE_TEST_KEY);
    let headers = cavage_request(CAVAGE_ALL);
    let parsed = parse_signature(&Method::POST, CAVAGE_PATH, &headers).unwrap();
    assert_eq!(
        base_text(&parsed),
        "(request-target): post /foo?param=value&pet=dog\n\
         host: example.com\n\
         date: Sun, 05 Jan 2014 21:31:40 GMT\n\
         content-type: application/json\n\
         digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n\
         content-length: 18"
    );
    parsed.verify(&key).unwrap();
    parsed.check_coverage(true).unwrap();
    verify_body_digest(&headers, BODY).unwrap();
    assert_eq!(
        verify_body_digest(&headers, br#"{"hello": "world!"}"#),
        Err(DigestError::Mismatch)
    );
    let mut h = headers.clone();
    h.insert("content-length", HeaderValue::from_static("19"));
    let tampered = parse_signature(&Method::POST, CAVAGE_PATH, &h).unwrap();
    assert!(matches!(
        tampered.verify(&key),
        Err(SignatureError::Invalid)
    ));
}
