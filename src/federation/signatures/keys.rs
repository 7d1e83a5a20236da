//! Public keys from PEM, and the three signature primitives we speak:
//! RSASSA-PKCS1-v1_5 with SHA-256, RSASSA-PSS with SHA-512, and Ed25519.

use openssl::hash::MessageDigest;
use openssl::pkey::{HasPrivate, HasPublic, Id, PKey, PKeyRef, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};

use super::{Algorithm, SignatureError};

/// Parses a public key from PEM: SPKI (`BEGIN PUBLIC KEY`, RSA or Ed25519)
/// or PKCS#1 (`BEGIN RSA PUBLIC KEY`). Callers cache the result; parsing
/// is not meant to happen per request.
pub fn parse_public_key_pem(pem: &str) -> Result<PKey<Public>, SignatureError> {
    let pem = pem.trim();
    let key = if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
        Rsa::public_key_from_pem_pkcs1(pem.as_bytes()).and_then(PKey::from_rsa)
    } else {
        PKey::public_key_from_pem(pem.as_bytes())
    }
    .map_err(|_| SignatureError::Malformed("the public key is not a valid PEM key".into()))?;
    match key.id() {
        Id::RSA | Id::ED25519 => Ok(key),
        _ => Err(SignatureError::Malformed(
            "the public key is neither RSA nor Ed25519".into(),
        )),
    }
}

/// How a signature is computed, once the declared algorithm and the key
/// type have been matched up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Primitive {
    RsaPkcs1Sha256,
    RsaPssSha512,
    Ed25519,
}

/// Matches a declared (or absent) algorithm against the key's type.
pub(crate) fn primitive_for<T>(
    algorithm: Option<Algorithm>,
    key: &PKeyRef<T>,
) -> Result<Primitive, SignatureError> {
    let id = key.id();
    match (algorithm, id) {
        (
            None | Some(Algorithm::RsaSha256 | Algorithm::Hs2019 | Algorithm::RsaV15Sha256),
            Id::RSA,
        ) => Ok(Primitive::RsaPkcs1Sha256),
        (Some(Algorithm::RsaPssSha512), Id::RSA) => Ok(Primitive::RsaPssSha512),
        (None | Some(Algorithm::Hs2019 | Algorithm::Ed25519), Id::ED25519) => {
            Ok(Primitive::Ed25519)
        }
        _ => Err(SignatureError::AlgorithmKeyMismatch),
    }
}

/// Verifies `signature` over `data`. Any failure, including a signature
/// openssl cannot even decode, is [`SignatureError::Invalid`].
pub(crate) fn verify<T: HasPublic>(
    primitive: Primitive,
    key: &PKeyRef<T>,
    data: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let ok = match primitive {
        Primitive::RsaPkcs1Sha256 => Verifier::new(MessageDigest::sha256(), key)
            .and_then(|mut v| v.verify_oneshot(signature, data)),
        Primitive::RsaPssSha512 => Verifier::new(MessageDigest::sha512(), key).and_then(|mut v| {
            v.set_rsa_padding(Padding::PKCS1_PSS)?;
            v.set_rsa_mgf1_md(MessageDigest::sha512())?;
            v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            v.verify_oneshot(signature, data)
        }),
        Primitive::Ed25519 => {
            Verifier::new_without_digest(key).and_then(|mut v| v.verify_oneshot(signature, data))
        }
    };
    match ok {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(SignatureError::Invalid),
    }
}

/// Signs `data`.
pub(crate) fn sign<T: HasPrivate>(
    primitive: Primitive,
    key: &PKeyRef<T>,
    data: &[u8],
) -> Result<Vec<u8>, SignatureError> {
    let signature = match primitive {
        Primitive::RsaPkcs1Sha256 => {
            let mut signer = Signer::new(MessageDigest::sha256(), key)?;
            signer.sign_oneshot_to_vec(data)?
        }
        Primitive::RsaPssSha512 => {
            let mut signer = Signer::new(MessageDigest::sha512(), key)?;
            signer.set_rsa_padding(Padding::PKCS1_PSS)?;
            signer.set_rsa_mgf1_md(MessageDigest::sha512())?;
            signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            signer.sign_oneshot_to_vec(data)?
        }
        Primitive::Ed25519 => {
            let mut signer = Signer::new_without_digest(key)?;
            signer.sign_oneshot_to_vec(data)?
        }
    };
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spki_and_pkcs1() {
        let rsa = Rsa::generate(2048).unwrap();
        let spki = String::from_utf8(rsa.public_key_to_pem().unwrap()).unwrap();
        let pkcs1 = String::from_utf8(rsa.public_key_to_pem_pkcs1().unwrap()).unwrap();
        assert!(spki.contains("BEGIN PUBLIC KEY"));
        assert!(pkcs1.contains("BEGIN RSA PUBLIC KEY"));
        let a = parse_public_key_pem(&spki).unwrap();
        let b = parse_public_key_pem(&format!("\n  {pkcs1}\n")).unwrap();
        assert!(a.public_eq(&b));

        let ed = PKey::generate_ed25519().unwrap();
        let pem = String::from_utf8(ed.public_key_to_pem().unwrap()).unwrap();
        assert_eq!(parse_public_key_pem(&pem).unwrap().id(), Id::ED25519);
    }

    #[test]
    fn rejects_other_keys_and_garbage() {
        let ec = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let pem = String::from_utf8(ec.public_key_to_pem().unwrap()).unwrap();
        assert!(matches!(
            parse_public_key_pem(&pem),
            Err(SignatureError::Malformed(_))
        ));
        for junk in [
            "",
            "hello",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----\n!!\n-----END RSA PUBLIC KEY-----",
        ] {
            assert!(parse_public_key_pem(junk).is_err());
        }
    }

    #[test]
    fn algorithm_must_fit_the_key() {
        let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let ed = PKey::generate_ed25519().unwrap();
        assert_eq!(
            primitive_for(Some(Algorithm::Hs2019), &rsa).unwrap(),
            Primitive::RsaPkcs1Sha256
        );
        assert_eq!(
            primitive_for(Some(Algorithm::Hs2019), &ed).unwrap(),
            Primitive::Ed25519
        );
        assert_eq!(primitive_for(None, &ed).unwrap(), Primitive::Ed25519);
        assert!(matches!(
            primitive_for(Some(Algorithm::Ed25519), &rsa),
            Err(SignatureError::AlgorithmKeyMismatch)
        ));
        assert!(matches!(
            primitive_for(Some(Algorithm::RsaSha256), &ed),
            Err(SignatureError::AlgorithmKeyMismatch)
        ));
        assert!(matches!(
            primitive_for(Some(Algorithm::RsaV15Sha256), &ed),
            Err(SignatureError::AlgorithmKeyMismatch)
        ));
    }

    #[test]
    fn primitives_round_trip_and_reject_garbage() {
        let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let ed = PKey::generate_ed25519().unwrap();
        for (p, key) in [
            (Primitive::RsaPkcs1Sha256, &rsa),
            (Primitive::RsaPssSha512, &rsa),
            (Primitive::Ed25519, &ed),
        ] {
            let sig = sign(p, key, b"data").unwrap();
            verify(p, key, b"data", &sig).unwrap();
            assert!(matches!(
                verify(p, key, b"datA", &sig),
                Err(SignatureError::Invalid)
            ));
            assert!(matches!(
                verify(p, key, b"data", b"short"),
                Err(SignatureError::Invalid)
            ));
            assert!(matches!(
                verify(p, key, b"data", &[]),
                Err(SignatureError::Invalid)
            ));
        }
    }
}
