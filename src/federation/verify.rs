//! Verifying a signed request in a fixed order: the signature's shape,
//! its time and coverage, the body digest, then the key and the signature
//! itself (fetching the key again once if it fails, for rotated keys).

use chrono::Utc;

use super::ctx::Federation;
use super::keys::{KeyError, OwnedKey, key_for};
use super::signatures::{
    DigestError, RequestTarget, SignatureError, parse_signature_at, verify_body_digest,
};
use crate::metrics::VERIFICATION_FAILURES;

/// The oldest signature accepted.
pub const MAX_AGE: chrono::Duration = chrono::Duration::hours(12);
/// How far in the future a signature may be dated (clock skew).
pub const MAX_FUTURE: chrono::Duration = chrono::Duration::hours(1);

/// A request as received.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a http::Method,
    pub path_and_query: &'a str,
    pub headers: &'a http::HeaderMap,
    /// The body of a POST.
    pub body: Option<&'a [u8]>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the body does not match its digest: {0}")]
    Digest(#[from] DigestError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl VerifyError {
    /// What the sender is told: about its own request, never the details of
    /// our fetch of its key (addresses, ports and errors of the network
    /// behind us, or of a third party the key id pointed at). The details
    /// are logged.
    pub fn public_message(&self) -> String {
        match self {
            VerifyError::Key(_) => "the signing key cannot be obtained or used".into(),
            other => other.to_string(),
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Signature(e) => e.reason(),
            VerifyError::Digest(_) => "digest",
            VerifyError::Key(_) => "key_unavailable",
        }
    }
}

/// Verifies `request` and returns the signer's key and its owner.
pub async fn verify_request(
    fed: &Federation,
    request: SignedRequest<'_>,
) -> Result<OwnedKey, VerifyError> {
    let result = verify_inner(fed, request).await;
    if let Err(error) = &result {
        fed.metrics.increment(VERIFICATION_FAILURES, error.reason());
        tracing::info!(reason = error.reason(), error = ?error.to_string(), "signature refused");
    }
    result
}

async fn verify_inner(
    fed: &Federation,
    request: SignedRequest<'_>,
) -> Result<OwnedKey, VerifyError> {
    let scheme = fed.urls.scheme();
    let host = fed.urls.host();
    // Bound to this server: a signature made for another host, replayed
    // here with that `Host` header, does not verify.
    let target = RequestTarget {
        scheme: &scheme,
        authority: Some(&host),
        bound_to: Some(&host),
    };
    let signature = parse_signature_at(
        request.method,
        request.path_and_query,
        request.headers,
        &target,
    )?;
    signature.check_time(Utc::now(), MAX_AGE, MAX_FUTURE)?;
    signature.check_coverage(request.body.is_some())?;
    if let Some(body) = request.body {
        verify_body_digest(request.headers, body)?;
    }
    let key = key_for(fed, &signature.key_id, false).await?;
    match signature.verify(&key.key) {
        Ok(()) => Ok(key),
        Err(SignatureError::Invalid) => {
            // The key may have rotated: fetch it once more.
            let fresh = key_for(fed, &signature.key_id, true).await?;
            signature.verify(&fresh.key)?;
            Ok(fresh)
        }
        Err(error) => Err(error.into()),
    }
}
