//! The operator's rules at the door of the inbox: a POST whose actor or
//! signing key is on a blocked domain, or whose actor is a suspended
//! account, is refused (403) before its signature is checked, so nothing
//! is fetched from a blocked server to verify it.

use serde_json::Value;

use super::ctx::Federation;
use super::wire::{host_of_url, id_of};
use crate::domain::DomainError;

/// Why an inbox POST is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    BlockedDomain,
    SuspendedAccount,
}

impl Refusal {
    /// The label of the refusal in metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::BlockedDomain => "blocked_domain",
            Refusal::SuspendedAccount => "suspended_account",
        }
    }

    /// What the sender is told.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::BlockedDomain => "this server does not accept activities from your domain",
            Refusal::SuspendedAccount => "this server does not accept activities from this account",
        }
    }
}

/// The `keyId` a signature names (draft-cavage `Signature` or RFC 9421
/// `Signature-Input`), unverified.
fn claimed_key_id(headers: &http::HeaderMap) -> Option<String> {
    for (header, key) in [("signature", "keyid=\""), ("signature-input", "keyid=\"")] {
        let Some(value) = headers.get(header).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let lower = value.to_ascii_lowercase();
        if let Some(start) = lower.find(key) {
            let rest = &value[start + key.len()..];
            if let Some(end) = rest.find('"') {
                return Some(rest[..end].to_owned());
            }
        }
    }
    None
}

/// The body's `actor`, read without building the rest of the document (the
/// pipeline parses the whole body after the signature is checked).
#[derive(Default, serde::Deserialize)]
struct ClaimedActor {
    #[serde(default)]
    actor: Value,
}

/// Whether an inbox POST is refused by the operator's rules, judged on what
/// it claims (its actor and key id): refusing a false claim harms nobody
/// but the one who made it.
pub async fn refusal(
    fed: &Federation,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Option<Refusal>, DomainError> {
    let claim: ClaimedActor = serde_json::from_slice(body).unwrap_or_default();
    let actor = match &claim.actor {
        Value::Array(actors) => actors.first().and_then(id_of),
        actor => id_of(actor),
    }
    .map(str::to_owned);
    let claimed = [actor.clone(), claimed_key_id(headers)];
    for url in claimed.iter().flatten() {
        if let Some(host) = host_of_url(url)
            && fed.moderation.blocks(&host).await
        {
            return Ok(Some(Refusal::BlockedDomain));
        }
    }
    if let Some(actor) = actor
        && fed.actors.is_hidden_remote(&fed.store, &actor).await?
    {
        return Ok(Some(Refusal::SuspendedAccount));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::claimed_key_id;

    #[test]
    fn the_key_id_is_read_from_either_signature_header() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "signature",
            "keyId=\"https://b.example/users/x#main-key\",algorithm=\"rsa-sha256\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            claimed_key_id(&headers).as_deref(),
            Some("https://b.example/users/x#main-key")
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "signature-input",
            "sig1=(\"@method\");keyid=\"https://c.example/k\";alg=\"rsa-v1_5-sha256\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            claimed_key_id(&headers).as_deref(),
            Some("https://c.example/k")
        );
        assert_eq!(claimed_key_id(&http::HeaderMap::new()), None);
    }
}
