//! HTTP signatures: draft-cavage and RFC 9421, signing and verifying, with body digests.
//!
//! Pure and synchronous: no I/O, no keys fetched here. Checking an incoming
//! request goes in this order (the caller owns key lookup, caching and the
//! check that the key's owner is the activity's actor):
//!
//! 1. [`parse_signature_at`] (or [`parse_signature`]) reads the request's
//!    signature and rebuilds the bytes that were signed;
//! 2. [`ParsedSignature::check_coverage`] and [`ParsedSignature::check_time`]
//!    refuse signatures that protect too little or are stale;
//! 3. [`ParsedSignature::verify`] checks the signature with the key named
//!    by [`ParsedSignature::key_id`] (parsed once by
//!    [`parse_public_key_pem`] and cached);
//! 4. [`verify_body_digest`] ties the body to the signed digest header.
//!
//! Outgoing requests are signed with [`sign_cavage`] (what Mastodon expects)
//! or [`sign_rfc9421`].
//!
//! Module map: `cavage` and `rfc9421` parse and sign each scheme, `digest`
//! handles `Digest`/`Content-Digest`, `keys` the PEM keys and the openssl
//! primitives, `sfv` the structured-field syntax RFC 9421 is written in,
//! `fields` header canonicalisation and dates.

mod cavage;
mod digest;
mod fields;
mod keys;
mod rfc9421;
mod sfv;
#[cfg(test)]
mod test_vectors;
#[cfg(test)]
mod tests;

use chrono::{DateTime, TimeDelta, Utc};
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Public};

pub use cavage::sign_cavage;
pub use digest::{DigestError, content_digest_header, digest_header, verify_body_digest};
pub use keys::parse_public_key_pem;
pub use rfc9421::sign_rfc9421;
pub(crate) use sfv::parse_dictionary as parse_sf_dictionary;

/// How old a signature's creation time (or `Date`) may be: Mastodon's window.
pub const MAX_AGE: TimeDelta = TimeDelta::hours(12);
/// How far in the future a signature's creation time may lie (clock skew).
pub const MAX_FUTURE: TimeDelta = TimeDelta::hours(1);

/// The signature algorithm as the signer declared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// draft-cavage `rsa-sha256`: RSASSA-PKCS1-v1_5 with SHA-256.
    RsaSha256,
    /// draft-cavage `hs2019`: the key decides (RSA → PKCS#1 v1.5 SHA-256,
    /// Ed25519 → Ed25519), as the fediverse deploys it.
    Hs2019,
    /// RFC 9421 `rsa-v1_5-sha256`.
    RsaV15Sha256,
    /// RFC 9421 `rsa-pss-sha512` (RSASSA-PSS, SHA-512, 64-byte salt).
    RsaPssSha512,
    /// RFC 9421 `ed25519` (also accepted as a draft-cavage label).
    Ed25519,
}

impl Algorithm {
    /// The label as it appears on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::Hs2019 => "hs2019",
            Self::RsaV15Sha256 => "rsa-v1_5-sha256",
            Self::RsaPssSha512 => "rsa-pss-sha512",
            Self::Ed25519 => "ed25519",
        }
    }

    /// A draft-cavage `algorithm` parameter (case-insensitive).
    fn from_cavage(label: &str) -> Result<Self, SignatureError> {
        match label.to_ascii_lowercase().as_str() {
            "rsa-sha256" => Ok(Self::RsaSha256),
            "hs2019" => Ok(Self::Hs2019),
            "ed25519" => Ok(Self::Ed25519),
            _ => Err(SignatureError::unknown_algorithm(label)),
        }
    }

    /// An RFC 9421 `alg` parameter (registry names are exact).
    fn from_rfc9421(label: &str) -> Result<Self, SignatureError> {
        match label {
            "rsa-v1_5-sha256" => Ok(Self::RsaV15Sha256),
            "rsa-pss-sha512" => Ok(Self::RsaPssSha512),
            "ed25519" => Ok(Self::Ed25519),
            _ => Err(SignatureError::unknown_algorithm(label)),
        }
    }
}

/// Which specification a signature follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// draft-cavage-http-signatures (`Signature: keyId=…`).
    Cavage,
    /// RFC 9421 HTTP Message Signatures (`Signature-Input` + `Signature`).
    Rfc9421,
}

/// How the request reached us, beyond its method, path and headers: RFC
/// 9421's `@target-uri`, `@authority` and `@scheme` need it.
///
/// The authority is this server's own when `bound_to` is set (a server
/// verifying requests meant for it: a signature made for another host must
/// not verify here, whatever `Host` header a replay carries). Otherwise it
/// is taken from the `Host` header, and `authority` is used only when the
/// request has none (HTTP/2 carries it as `:authority`, which servers keep
/// in the URI). `scheme` is how the *client* reached us: behind a
/// TLS-terminating proxy that is the public base URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTarget<'a> {
    /// `https` or `http`, lower-case.
    pub scheme: &'a str,
    /// The authority to fall back on when there is no `Host` header.
    pub authority: Option<&'a str>,
    /// This server's authority (`host[:port]` of its base URL): when set,
    /// `host`, `@authority` and `@target-uri` are verified against it and
    /// the `Host` header is ignored.
    pub bound_to: Option<&'a str>,
}

impl RequestTarget<'static> {
    /// An `https` request whose authority is its `Host` header.
    pub const HTTPS: Self = Self {
        scheme: "https",
        authority: None,
        bound_to: None,
    };
}

/// A parsed, not yet verified signature of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    /// Which specification the signature follows.
    pub scheme: Scheme,
    /// The signer's key id (`keyId` / `keyid`), usually `ACTOR#main-key`.
    pub key_id: String,
    /// The declared algorithm, if any.
    pub algorithm: Option<Algorithm>,
    /// Covered components, lower-case, in signed order: header names and
    /// `(request-target)`, `(created)`, `(expires)` (cavage) or derived
    /// components such as `@method`, `@target-uri` (RFC 9421; component
    /// parameters such as `;name=` are not repeated here).
    pub components: Vec<String>,
    /// When the signature was made: the covered `created` parameter, else
    /// the `Date` header when it is covered.
    pub created: Option<DateTime<Utc>>,
    /// When the signature expires, if the signer said so (covered).
    pub expires: Option<DateTime<Utc>>,
    base: Vec<u8>,
    signature: Vec<u8>,
}

impl ParsedSignature {
    /// The bytes the signature is over (draft-cavage signing string or RFC
    /// 9421 signature base), for logs and tests.
    pub fn signature_base(&self) -> &[u8] {
        &self.base
    }

    /// Verifies the signature with `key`: `rsa-sha256`, `hs2019` or
    /// `rsa-v1_5-sha256` (or none declared) with an RSA key use
    /// RSASSA-PKCS1-v1_5 SHA-256; `hs2019`, `ed25519` (or none declared)
    /// with an Ed25519 key use Ed25519. A declared algorithm that does not
    /// fit the key is [`SignatureError::AlgorithmKeyMismatch`].
    pub fn verify(&self, key: &PKey<Public>) -> Result<(), SignatureError> {
        let primitive = keys::primitive_for(self.algorithm, key)?;
        keys::verify(primitive, key, &self.base, &self.signature)
    }

    /// Verifies with an algorithm the caller has bound to the key out of
    /// band (RFC 9421 §3.3.7), for signatures that declare none. A
    /// signature that declares a different algorithm is refused.
    pub fn verify_as(
        &self,
        key: &PKey<Public>,
        algorithm: Algorithm,
    ) -> Result<(), SignatureError> {
        if self.algorithm.is_some_and(|declared| declared != algorithm) {
            return Err(SignatureError::AlgorithmKeyMismatch);
        }
        let primitive = keys::primitive_for(Some(algorithm), key)?;
        keys::verify(primitive, key, &self.base, &self.signature)
    }

    /// Refuses a signature without a creation time, made more than
    /// `max_future` ahead of `now` or more than `max_age` before it, or
    /// expired. See [`MAX_AGE`] and [`MAX_FUTURE`].
    pub fn check_time(
        &self,
        now: DateTime<Utc>,
        max_age: TimeDelta,
        max_future: TimeDelta,
    ) -> Result<(), SignatureError> {
        let created = self.created.ok_or(SignatureError::MissingDate)?;
        if now
            .checked_add_signed(max_future)
            .is_some_and(|latest| created > latest)
        {
            return Err(SignatureError::InFuture);
        }
        if self.expires.is_some_and(|expires| expires < now) {
            return Err(SignatureError::Expired);
        }
        if now
            .checked_sub_signed(max_age)
            .is_some_and(|earliest| created < earliest)
        {
            return Err(SignatureError::TooOld);
        }
        Ok(())
    }

    /// Refuses a signature that does not protect what we rely on: the
    /// request target (cavage `(request-target)`; RFC 9421 `@method` plus
    /// `@target-uri`, `@path` or `@request-target`), the host (`host`;
    /// RFC 9421 also `@authority` or `@target-uri`, which contains it), a
    /// time (`date`, cavage `(created)`, RFC 9421 `created`) and, when
    /// `has_body`, a digest (`digest` or `content-digest`).
    pub fn check_coverage(&self, has_body: bool) -> Result<(), SignatureError> {
        let covers = |name: &str| self.components.iter().any(|c| c == name);
        match self.scheme {
            Scheme::Cavage => {
                if !covers("(request-target)") {
                    return Err(SignatureError::NotCovered("request-target"));
                }
                if !covers("host") {
                    return Err(SignatureError::NotCovered("host"));
                }
                if !covers("date") && !covers("(created)") {
                    return Err(SignatureError::NotCovered("date"));
                }
            }
            Scheme::Rfc9421 => {
                if !covers("@method")
                    || !(covers("@target-uri") || covers("@path") || covers("@request-target"))
                {
                    return Err(SignatureError::NotCovered("request-target"));
                }
                if !covers("host") && !covers("@authority") && !covers("@target-uri") {
                    return Err(SignatureError::NotCovered("host"));
                }
                // `created` is always covered, as part of @signature-params.
                if !covers("date") && self.created.is_none() {
                    return Err(SignatureError::NotCovered("date"));
                }
            }
        }
        if has_body && !covers("digest") && !covers("content-digest") {
            return Err(SignatureError::NotCovered("digest"));
        }
        Ok(())
    }
}

/// Parses the signature of an `https` request whose authority is its
/// `Host` header; see [`parse_signature_at`].
pub fn parse_signature(
    method: &http::Method,
    path_and_query: &str,
    headers: &http::HeaderMap,
) -> Result<ParsedSignature, SignatureError> {
    parse_signature_at(method, path_and_query, headers, &RequestTarget::HTTPS)
}

/// Parses a request's signature: RFC 9421 when `Signature-Input` is present
/// (its first label), else draft-cavage from `Signature` or
/// `Authorization: Signature …`. `path_and_query` is the request target as
/// received (`/inbox?x=y`). Never panics, whatever the headers hold.
pub fn parse_signature_at(
    method: &http::Method,
    path_and_query: &str,
    headers: &http::HeaderMap,
    target: &RequestTarget<'_>,
) -> Result<ParsedSignature, SignatureError> {
    if headers.contains_key("signature-input") {
        rfc9421::parse(method, path_and_query, headers, target, None)
    } else {
        cavage::parse(method, path_and_query, headers, target)
    }
}

/// Parses the RFC 9421 signature with `label`, for a request that carries
/// several (e.g. a client's and a proxy's).
pub fn parse_signature_label(
    method: &http::Method,
    path_and_query: &str,
    headers: &http::HeaderMap,
    target: &RequestTarget<'_>,
    label: &str,
) -> Result<ParsedSignature, SignatureError> {
    rfc9421::parse(method, path_and_query, headers, target, Some(label))
}

/// Why a signature was refused or could not be made. The messages are
/// safe to show the peer; [`SignatureError::reason`] is a metric label.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The request carries no signature.
    #[error("the request is not signed")]
    Missing,
    /// The signature headers cannot be parsed or the signed bytes cannot
    /// be rebuilt (e.g. a covered header is absent).
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// The declared algorithm is not one we accept.
    #[error("unsupported signature algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// The declared algorithm does not fit the key's type.
    #[error("the signature algorithm does not match the key")]
    AlgorithmKeyMismatch,
    /// The signer's `expires` time has passed.
    #[error("the signature has expired")]
    Expired,
    /// The creation time or `Date` is older than the accepted window.
    #[error("the signature is too old")]
    TooOld,
    /// The creation time or `Date` lies too far in the future.
    #[error("the signature is dated in the future")]
    InFuture,
    /// Neither a covered `Date` nor a creation time is present.
    #[error("the signature carries no signed date or creation time")]
    MissingDate,
    /// A component we require is not covered: `host`, `date`, `digest` or
    /// `request-target`.
    #[error("the signature does not cover the {0}")]
    NotCovered(&'static str),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Invalid,
    /// openssl failed while signing; not the peer's doing.
    #[error("cryptographic failure")]
    Crypto(#[from] ErrorStack),
}

impl SignatureError {
    /// A short label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed(_) => "malformed",
            Self::UnknownAlgorithm(_) => "algorithm",
            Self::AlgorithmKeyMismatch => "key_mismatch",
            Self::Expired => "expired",
            Self::TooOld => "too_old",
            Self::InFuture => "in_future",
            Self::MissingDate => "missing_date",
            Self::NotCovered(_) => "not_covered",
            Self::Invalid => "invalid",
            Self::Crypto(_) => "crypto",
        }
    }

    fn malformed(message: &str) -> Self {
        Self::Malformed(message.to_string())
    }

    /// Keeps a peer's algorithm label short and printable before it goes
    /// into a message.
    fn unknown_algorithm(label: &str) -> Self {
        Self::UnknownAlgorithm(printable(label))
    }
}

/// Up to 64 printable ASCII characters of `s`, for echoing peer input.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect()
}
