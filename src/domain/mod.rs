//! What things mean, independent of any protocol: accounts, names, tokens,
//! instance statistics. Never imports axum or wire types.

pub mod accounts;
pub mod actions;
pub mod admin;
pub mod audience;
pub mod follows;
pub mod instance;
pub mod keys;
pub mod ledger;
pub mod logins;
pub mod media;
pub mod moderation;
pub mod names;
pub mod oauth;
pub mod posts;
pub mod route;
pub mod site_grants;
pub mod timelines;
pub mod tokens;
pub mod webmentions;

use crate::store::StoreError;

/// Why a domain operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0:?} is not a valid name: use 1 to 30 of a-z, 0-9 and _")]
    InvalidName(String),
    #[error("the name {0:?} is already taken")]
    NameTaken(String),
    #[error("there is no user named {0:?}")]
    NoSuchUser(String),
    #[error("there is no object {0}")]
    NoSuchObject(String),
    #[error("not a member of the room {0}")]
    NotMember(String),
    #[error("only the owner may change or delete this object")]
    NotOwner,
    #[error("{0} exists already")]
    Conflict(String),
    #[error("a stored document is unreadable: {0}")]
    CorruptDocument(String),
    #[error("password: {0}")]
    Password(String),
    #[error("generating a key pair failed: {0}")]
    Key(#[from] openssl::error::ErrorStack),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for DomainError {
    fn from(error: diesel::result::Error) -> Self {
        DomainError::Store(StoreError::Query(error))
    }
}
