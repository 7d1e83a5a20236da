//! Public keys of signers: found by key id in the process cache, then in
//! the database, then by fetching the key's actor. Each PEM is parsed once,
//! and one key id is fetched by one request at a time: concurrent requests
//! signed with an unknown key wait for that fetch instead of repeating it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use openssl::pkey::{PKey, Public};

use super::ctx::Federation;
use super::resolve::{self, ResolveError};
use super::signatures::parse_public_key_pem;
use crate::domain::accounts::{self, Account};

/// Keys kept in a process; bounded so a flood of key ids cannot grow it.
const MAX_CACHED_KEYS: usize = 50_000;
/// A key is fetched again after a failed verification at most this often,
/// so bad signatures cannot make us hammer the key's server.
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// A verified binding of a key to its owner.
#[derive(Clone)]
pub struct OwnedKey {
    pub owner: Account,
    pub key: Arc<PKey<Public>>,
}

#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, OwnedKey>>,
    refreshed: Mutex<HashMap<String, Instant>>,
    /// One lock per key id being looked up or fetched right now.
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Removes a key id's in-flight lock when its last user is done.
struct InFlight<'a> {
    cache: &'a KeyCache,
    key_id: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut in_flight = self.cache.in_flight.lock().expect("in-flight lock");
        // Ours and the map's: nobody else waits on it.
        if Arc::strong_count(&self.lock) == 2 {
            in_flight.remove(self.key_id);
        }
    }
}

impl KeyCache {
    fn in_flight<'a>(&'a self, key_id: &'a str) -> InFlight<'a> {
        let lock = self
            .in_flight
            .lock()
            .expect("in-flight lock")
            .entry(key_id.to_owned())
            .or_default()
            .clone();
        InFlight {
            cache: self,
            key_id,
            lock,
        }
    }

    /// Whether `key_id` may be fetched again now; records the attempt.
    fn may_refresh(&self, key_id: &str) -> bool {
        let mut refreshed = self.refreshed.lock().expect("refresh lock");
        let now = Instant::now();
        if refreshed.len() >= MAX_CACHED_KEYS {
            refreshed.retain(|_, at| now.duration_since(*at) < REFRESH_INTERVAL);
        }
        match refreshed.get(key_id) {
            Some(at) if now.duration_since(*at) < REFRESH_INTERVAL => false,
            _ => {
                refreshed.insert(key_id.to_owned(), now);
                true
            }
        }
    }

    fn get(&self, key_id: &str) -> Option<OwnedKey> {
        self.keys
            .read()
            .expect("key cache lock")
            .get(key_id)
            .cloned()
    }

    /// Forgets the keys of local accounts (they changed, or may have).
    pub fn forget_local(&self) {
        self.keys
            .write()
            .expect("key cache lock")
            .retain(|_, key| !key.owner.is_local());
    }

    fn put(&self, key_id: &str, key: OwnedKey) {
        let mut keys = self.keys.write().expect("key cache lock");
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(key_id.to_owned(), key);
    }
}

/// Why a key could not be found.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key {0} cannot be obtained: {1}")]
    Unavailable(String, ResolveError),
    #[error("the key {0} does not parse")]
    BadPem(String),
    #[error("the actor does not publish the key {0}")]
    NotPublished(String),
}

fn owned(account: Account) -> Result<OwnedKey, KeyError> {
    let key = parse_public_key_pem(&account.public_key_pem)
        .map_err(|_| KeyError::BadPem(account.key_id.clone().unwrap_or_default()))?;
    Ok(OwnedKey {
        owner: account,
        key: Arc::new(key),
    })
}

/// The key `key_id` and its owner. With `refresh`, the owner's actor is
/// fetched again (the key may have rotated), at most once a minute per key.
pub async fn key_for(fed: &Federation, key_id: &str, refresh: bool) -> Result<OwnedKey, KeyError> {
    let refresh = refresh && fed.keys.may_refresh(key_id);
    if !refresh && let Some(found) = fed.keys.get(key_id) {
        return Ok(found);
    }
    // One lookup per key id at a time; whoever waited finds the key cached.
    let in_flight = fed.keys.in_flight(key_id);
    let _turn = in_flight.lock.lock().await;
    if !refresh {
        if let Some(found) = fed.keys.get(key_id) {
            return Ok(found);
        }
        if let Ok(Some(account)) = accounts::find_by_key_id(&fed.store, key_id).await {
            let found = owned(account)?;
            fed.keys.put(key_id, found.clone());
            return Ok(found);
        }
    }
    let account = resolve::fetch_key_owner(fed, key_id)
        .await
        .map_err(|e| KeyError::Unavailable(key_id.to_owned(), e))?;
    if account.key_id.as_deref() != Some(key_id) {
        return Err(KeyError::NotPublished(key_id.to_owned()));
    }
    let found = owned(account)?;
    fed.keys.put(key_id, found.clone());
    Ok(found)
}
