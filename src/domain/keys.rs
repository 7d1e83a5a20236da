//! Account key pairs: RSA-2048, PEM-encoded (PKCS#8 private, SPKI public).

use openssl::pkey::PKey;
use openssl::rsa::Rsa;

/// Bits of every key Estuary generates.
pub const KEY_BITS: u32 = 2048;

/// A freshly generated key pair, PEM-encoded.
#[derive(Clone)]
pub struct KeyPairPem {
    pub public_pem: String,
    pub private_pem: String,
}

impl std::fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

pub fn generate_key_pair() -> Result<KeyPairPem, openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(KEY_BITS)?)?;
    let pem = |bytes: Vec<u8>| String::from_utf8(bytes).expect("PEM is ASCII");
    Ok(KeyPairPem {
        public_pem: pem(key.public_key_to_pem()?),
        private_pem: pem(key.private_key_to_pem_pkcs8()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_rsa_2048_and_match() {
        let pair = generate_key_pair().unwrap();
        assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(pair.private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let private = PKey::private_key_from_pem(pair.private_pem.as_bytes()).unwrap();
        let public = PKey::public_key_from_pem(pair.public_pem.as_bytes()).unwrap();
        assert_eq!(private.bits(), KEY_BITS);
        assert!(public.public_eq(&private));
        assert!(!format!("{pair:?}").contains("PRIVATE"));
    }
}
