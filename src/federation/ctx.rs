//! The shared state of the federation layer: the store, the URL layout, the
//! outbound client, the key caches and the instance actor.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use openssl::pkey::{PKey, Private};
use tokio::sync::Notify;

use super::actor_cache::ActorCache;
use super::fetch::{Fetcher, Signer};
use super::keys::KeyCache;
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::moderation::DomainPolicy;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::urls::Urls;

/// Why a local signing key is unavailable.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("account {0} has no private key")]
    NoKey(i64),
    #[error("the private key of account {0} does not parse: {1}")]
    BadKey(i64, openssl::error::ErrorStack),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// Everything federation code needs; cheap to clone.
#[derive(Clone)]
pub struct Federation {
    pub store: Store,
    pub urls: Urls,
    pub fetcher: Fetcher,
    pub keys: Arc<KeyCache>,
    /// Local accounts and their documents, as this process last read them.
    pub actors: Arc<ActorCache>,
    pub metrics: Arc<Metrics>,
    /// Wakes this process's workers when work was queued.
    pub wake: Arc<Notify>,
    pub instance_actor: Arc<Account>,
    /// Bounds on parsing a foreign page for microformats.
    pub mf2_limits: crate::indieweb::mf2::Limits,
    /// The operator's domain rules, as this process sees them (the outbound
    /// client refuses blocked hosts through the same policy).
    pub moderation: DomainPolicy,
    signers: Arc<RwLock<HashMap<i64, Arc<PKey<Private>>>>>,
}

impl Federation {
    /// Builds the context, creating the instance actor on first start.
    pub async fn new(
        store: Store,
        urls: Urls,
        fetcher: Fetcher,
        metrics: Arc<Metrics>,
    ) -> Result<Self, DomainError> {
        let instance_actor = accounts::ensure_instance_actor(&store, &urls).await?;
        let moderation = DomainPolicy::new(store.clone());
        let fetcher = fetcher.with_host_policy(Arc::new(moderation.clone()));
        Ok(Federation {
            store,
            urls,
            fetcher,
            moderation,
            keys: Arc::new(KeyCache::default()),
            actors: Arc::default(),
            metrics,
            wake: Arc::new(Notify::new()),
            instance_actor: Arc::new(instance_actor),
            mf2_limits: crate::indieweb::mf2::Limits::default(),
            signers: Arc::default(),
        })
    }

    /// The signer of a local account; its PEM is parsed once per process.
    pub async fn signer_for(&self, account: &Account) -> Result<Signer, SignerError> {
        let key_id = account
            .key_id
            .clone()
            .unwrap_or_else(|| format!("{}#main-key", account.actor_url));
        if let Some(key) = self.signers.read().expect("signers lock").get(&account.id) {
            return Ok(Signer {
                key_id,
                key: key.clone(),
            });
        }
        let pem = accounts::private_key_pem(&self.store, account.id)
            .await?
            .ok_or(SignerError::NoKey(account.id))?;
        let key = Arc::new(
            PKey::private_key_from_pem(pem.as_bytes())
                .map_err(|e| SignerError::BadKey(account.id, e))?,
        );
        self.signers
            .write()
            .expect("signers lock")
            .insert(account.id, key.clone());
        Ok(Signer { key_id, key })
    }

    /// Forgets what was read once of local accounts besides their cached
    /// documents: parsed private keys and local public keys (a key may have
    /// changed, or its account been suspended).
    pub fn forget_local_secrets(&self) {
        self.signers.write().expect("signers lock").clear();
        self.keys.forget_local();
    }

    /// The signer of the instance actor, for the instance's own fetches.
    pub async fn instance_signer(&self) -> Result<Signer, SignerError> {
        let actor = self.instance_actor.clone();
        self.signer_for(&actor).await
    }
}
