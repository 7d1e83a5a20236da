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
    let token = new_token()?;
    let token_hash = hash_token(&token);
    store
        .run(move |conn| {
            let account = account_rows::find_local(conn, &name)?
                .filter(|row| row.kind == AccountKind::Person.as_str() && row.deleted_at.is_none())
                .ok_or_else(|| DomainError::NoSuchUser(name.clone()))?;
            rows::insert(
                conn,
                &NewTokenRow {
                    account_id: account.id,
                    token_hash: &token_hash,
                    scopes: OPERATOR_SCOPES,
                    created_at: Utc::now().naive_utc(),
                    expires_at: None,
                    client_id: None,
                    grant_id: None,
                },
            )?;
            Ok(token)
        })
        .await
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is not valid")]
    Unknown,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token has been revoked")]
    Revoked,
    #[error("the account is suspended")]
    Suspended,
}

/// The scopes a token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(pub Vec<String>);

impl Scopes {
    pub fn parse(text: &str) -> Self {
        let mut scopes: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        scopes.sort();
        scopes.dedup();
        Scopes(scopes)
    }

    /// Whether these scopes cover `scope`: itself, its parent (`read`
    /// covers `read:statuses`), `follow` for the follow and block scopes,
    /// `profile` for reading one's own account.
    pub fn allows(&self, scope: &str) -> bool {
        self.0.iter().any(|s| {
            s == scope
                || scope.split_once(':').is_some_and(|(parent, _)| s == parent)
                || (s == "follow"
                    && matches!(
                        scope,
                        "read:follows" | "write:follows" | "read:blocks" | "write:blocks"
                    ))
                || (s == "profile" && scope == "profile:read")
        })
    }

    pub fn as_text(&self) -> String {
        self.0.join(" ")
    }
}

/// Who a bearer token speaks for.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub account: super::accounts::Account,
    pub scopes: Scopes,
}

/// Checks a bearer token: known, not expired, not revoked.
pub async fn authenticate(
    store: &Store,
    token: &str,
) -> Result<Result<Authenticated, TokenError>, DomainError> {
    let token_hash = hash_token(token);
    store
        .run(move |conn| {
            let Some((row, account)) = rows::find_with_account(conn, &token_hash)? else {
                return Ok(Err(TokenError::Unknown));
            };
            if row.revoked_at.is_some() {
                return Ok(Err(TokenError::Revoked));
            }
            if row
                .expires_at
                .is_some_and(|at| at <= Utc::now().naive_utc())
            {
                return Ok(Err(TokenError::Expired));
            }
            let account = super::accounts::row_to_account(account);
            let account = match account.is_hidden() {
                true => Err(TokenError::Suspended),
                false => Ok(account),
            };
            Ok(account.map(|account| Authenticated {
                account,
                scopes: Scopes::parse(&row.scopes),
            }))
        })
        .await
}

/// A new random token with the Estuary prefix.
pub fn new_token() -> Result<String, DomainError> {
    let mut secret = [0u8; 32];
    openssl::rand::rand_bytes(&mut secret)?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    ))
}
