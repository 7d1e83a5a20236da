//! Bearer tokens for the client API: random, shown once, stored as a hash.

use base64::Engine;
use chrono::Utc;

use super::DomainError;
use super::accounts::AccountKind;
use super::names::normalize_name;
use crate::store::Store;
use crate::store::accounts as account_rows;
use crate::store::tokens::{self as rows, NewTokenRow};

/// Scopes of a token issued by the operator.
pub const OPERATOR_SCOPES: &str = "read write";
/// Prefix that makes Estuary tokens recognisable (e.g. to secret scanners).
pub const TOKEN_PREFIX: &str = "est_";

/// The stored form of a token: hex SHA-256. Tokens carry 256 random bits,
/// so a fast hash is enough.
pub fn hash_token(token: &str) -> String {
    openssl::sha::sha256(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Issues a read/write token for the local user `name` and returns it; only
/// its hash is stored.
pub async fn issue_token(store: &Store, name: &str) -> Result<String, DomainError> {
    let name = normalize_name(name).ok_or_else(|| DomainError::NoSuchUser(name.to_owned()))?;
    let mut secret = [0u8; 32];
    openssl::rand::rand_bytes(&mut secret)?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let token_hash = hash_token(&token);
    store
        .run(move |conn| {
            let account = account_rows::find_local(conn, &name)?
                .filter(|row| row.kind == AccountKind::Person.as_str())
                .ok_or_else(|| DomainError::NoSuchUser(name.clone()))?;
            rows::insert(
                conn,
                &NewTokenRow {
                    account_id: account.id,
                    token_hash: &token_hash,
                    scopes: OPERATOR_SCOPES,
                    created_at: Utc::now().naive_utc(),
                    expires_at: None,
                },
            )?;
            Ok(token)
        })
        .await
}
