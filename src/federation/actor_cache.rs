//! Local actors as this process last read them: accounts by name and by
//! actor id, each with its actor document and WebFinger answer serialised
//! once, and the ids of suspended remote actors. A hit touches neither the
//! database nor the blocking pool.
//!
//! Staleness is bounded. A change made here forgets what it changed at
//! once ([`ActorCache::forget`]). Every change to a local account, and to a
//! remote account's suspension, also bumps the `cache_generation` row (by
//! database triggers, whichever process or tool made it); [`refresh`], one
//! task per server, reads that row every `ESTUARY_CACHE_REFRESH_MS` and
//! forgets everything when it moved or cannot be read. A load that began
//! before something was forgotten does not store what it read, so what is
//! served is never older than one refresh interval (plus the time one read
//! of the row takes).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use super::actor::account_to_actor;
use super::ctx::Federation;
use super::webfinger::account_to_jrd;
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::names::normalize_name;
use crate::store::Store;
use crate::urls::Urls;

/// Accounts kept at most; past it the cache starts over (a flood of new
/// site proxies cannot grow it without bound).
const MAX_ENTRIES: usize = 100_000;

/// A local account and its documents, rendered on first use.
#[derive(Debug)]
pub struct LocalActor {
    pub account: Account,
    actor_json: OnceLock<Arc<[u8]>>,
    jrd_json: OnceLock<Arc<[u8]>>,
}

impl LocalActor {
    pub fn new(account: Account) -> Self {
        LocalActor {
            account,
            actor_json: OnceLock::new(),
            jrd_json: OnceLock::new(),
        }
    }

    /// The actor document as JSON.
    pub fn actor_json(&self) -> Result<Arc<[u8]>, serde_json::Error> {
        rendered(&self.actor_json, || {
            serde_json::to_vec(&account_to_actor(&self.account))
        })
    }

    /// The WebFinger answer (JRD) as JSON.
    pub fn jrd_json(&self, urls: &Urls) -> Result<Arc<[u8]>, serde_json::Error> {
        rendered(&self.jrd_json, || {
            let subject = urls.acct(&self.account.username);
            serde_json::to_vec(&account_to_jrd(&self.account, &subject))
        })
    }
}

fn rendered(
    slot: &OnceLock<Arc<[u8]>>,
    render: impl FnOnce() -> Result<Vec<u8>, serde_json::Error>,
) -> Result<Arc<[u8]>, serde_json::Error> {
    if let Some(bytes) = slot.get() {
        return Ok(bytes.clone());
    }
    let bytes: Arc<[u8]> = render()?.into();
    Ok(slot.get_or_init(|| bytes).clone())
}

#[derive(Default)]
struct Entries {
    /// By stored user name (a person's, a room's, a site proxy's host).
    by_name: HashMap<String, Arc<LocalActor>>,
    by_url: HashMap<String, Arc<LocalActor>>,
    /// Actor ids of suspended or deleted remote accounts.
    hidden_remote: Option<Arc<HashSet<String>>>,
}

/// The cache of one process (in [`Federation`]).
#[derive(Default)]
pub struct ActorCache {
    entries: RwLock<Entries>,
    /// Moves whenever anything is forgotten (under the write lock): a load
    /// that began in an earlier epoch may have read what was just changed,
    /// and is not stored.
    epoch: AtomicU64,
    /// The `cache_generation` last read by [`refresh`].
    generation: Mutex<Option<i64>>,
}

impl std::fmt::Debug for ActorCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorCache").finish_non_exhaustive()
    }
}

impl ActorCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Stores what a load that began in `epoch` read, unless something was
    /// forgotten meanwhile.
    fn keep(&self, epoch: u64, account: Account) -> Arc<LocalActor> {
        let actor = Arc::new(LocalActor::new(account));
        let mut entries = self.write();
        if self.epoch() == epoch {
            if entries.by_name.len() >= MAX_ENTRIES {
                entries.by_name.clear();
                entries.by_url.clear();
            }
            entries
                .by_name
                .insert(actor.account.username.clone(), actor.clone());
            entries
                .by_url
                .insert(actor.account.actor_url.clone(), actor.clone());
        }
        actor
    }

    /// The local account with this name (case-folded as local names are),
    /// whatever its kind, hidden or not.
    pub async fn local(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<Option<Arc<LocalActor>>, DomainError> {
        let Some(name) = normalize_name(name) else {
            return Ok(None);
        };
        if let Some(hit) = self.read().by_name.get(&name) {
            return Ok(Some(hit.clone()));
        }
        let epoch = self.epoch();
        let found = accounts::find_local(store, &name).await?;
        Ok(found.map(|account| self.keep(epoch, account)))
    }

    /// The proxy actor of the site whose host is `domain`.
    pub async fn proxy(
        &self,
        store: &Store,
        domain: &str,
    ) -> Result<Option<Arc<LocalActor>>, DomainError> {
        let name = domain.to_ascii_lowercase();
        if let Some(hit) = self.read().by_name.get(&name) {
            return Ok(Some(hit.clone()).filter(|a| a.account.site_url.is_some()));
        }
        let epoch = self.epoch();
        let found = accounts::find_proxy(store, &name).await?;
        Ok(found.map(|account| self.keep(epoch, account)))
    }

    /// The local account whose actor id is `actor_url` (remote accounts are
    /// neither returned nor kept).
    pub async fn local_by_actor_url(
        &self,
        store: &Store,
        actor_url: &str,
    ) -> Result<Option<Arc<LocalActor>>, DomainError> {
        if let Some(hit) = self.read().by_url.get(actor_url) {
            return Ok(Some(hit.clone()));
        }
        let epoch = self.epoch();
        let found = accounts::find_by_actor_url(store, actor_url).await?;
        Ok(found
            .filter(Account::is_local)
            .map(|account| self.keep(epoch, account)))
    }

    /// Whether `actor_url` is a suspended or deleted remote account.
    pub async fn is_hidden_remote(
        &self,
        store: &Store,
        actor_url: &str,
    ) -> Result<bool, DomainError> {
        if let Some(hidden) = &self.read().hidden_remote {
            return Ok(hidden.contains(actor_url));
        }
        let epoch = self.epoch();
        let hidden: HashSet<String> = accounts::hidden_remote_actor_urls(store)
            .await?
            .into_iter()
            .collect();
        let found = hidden.contains(actor_url);
        let mut entries = self.write();
        if self.epoch() == epoch {
            entries.hidden_remote = Some(Arc::new(hidden));
        }
        Ok(found)
    }

    /// Forgets one local account (after this process changed it).
    pub fn forget(&self, account: &Account) {
        let mut entries = self.write();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.by_name.remove(&account.username);
        entries.by_url.remove(&account.actor_url);
    }

    /// Forgets the cached copy of `account` if it is older than this one
    /// (this process has just written or read it afresh).
    pub fn saw(&self, account: &Account) {
        let stale = self
            .read()
            .by_name
            .get(&account.username)
            .is_some_and(|cached| cached.account.updated_at != account.updated_at);
        if stale {
            self.forget(account);
        }
    }

    /// Forgets everything.
    pub fn forget_all(&self) {
        let mut entries = self.write();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        *entries = Entries::default();
    }

    /// Records the generation just read; true when it moved (or is the
    /// first one read), and then everything is forgotten.
    pub fn observe(&self, generation: Option<i64>) -> bool {
        let mut last = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let moved = generation.is_none() || *last != generation;
        if moved {
            self.forget_all();
        }
        *last = generation;
        moved
    }
}

/// The proxy actor of a site, created or refreshed from its h-card
/// (`accounts::ensure_proxy`); a refreshed proxy is served at once.
pub async fn ensure_proxy(
    fed: &Federation,
    site: accounts::SiteProfile,
) -> Result<Account, DomainError> {
    let proxy = accounts::ensure_proxy(&fed.store, &fed.urls, site).await?;
    fed.actors.saw(&proxy);
    Ok(proxy)
}

/// Reads the `cache_generation` row every `interval` until `stop` turns
/// true, and makes `fed` forget its cached accounts, keys and signers when
/// the row moved. A failed read forgets them too (what changed meanwhile
/// cannot be known), and is logged once until a read succeeds.
pub async fn refresh(fed: Federation, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
        }
        let generation = match accounts::cache_generation(&fed.store).await {
            Ok(generation) => {
                failing = false;
                Some(generation)
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "cannot read the cache generation; caches are bypassed");
                }
                failing = true;
                None
            }
        };
        if fed.actors.observe(generation) {
            fed.forget_local_secrets();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::AccountKind;

    fn account(name: &str) -> Account {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        Account {
            id: 1,
            kind: AccountKind::Person,
            username: name.into(),
            domain: None,
            actor_url: format!("https://e.example/users/{name}"),
            inbox_url: format!("https://e.example/users/{name}/inbox"),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            profile_url: Some(format!("https://e.example/@{name}")),
            public_key_pem: "-----BEGIN PUBLIC KEY-----\n...".into(),
            key_id: None,
            display_name: None,
            summary: None,
            avatar_url: None,
            manually_approves_followers: false,
            site_url: None,
            header_url: None,
            suspended_at: None,
            deleted_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_load_that_began_before_a_change_is_not_kept() {
        let cache = ActorCache::default();
        let epoch = cache.epoch();
        cache.forget(&account("alice"));
        cache.keep(epoch, account("alice"));
        assert!(cache.read().by_name.is_empty(), "read before the change");
        cache.keep(cache.epoch(), account("alice"));
        assert!(cache.read().by_name.contains_key("alice"));
        assert!(
            cache
                .read()
                .by_url
                .contains_key("https://e.example/users/alice")
        );
    }

    #[test]
    fn a_moved_generation_forgets_everything() {
        let cache = ActorCache::default();
        assert!(cache.observe(Some(3)), "the first reading counts as moved");
        cache.keep(cache.epoch(), account("alice"));
        assert!(!cache.observe(Some(3)));
        assert!(cache.read().by_name.contains_key("alice"));
        assert!(cache.observe(Some(4)));
        assert!(cache.read().by_name.is_empty());
        cache.keep(cache.epoch(), account("alice"));
        assert!(cache.observe(None), "an unreadable generation forgets too");
        assert!(cache.read().by_name.is_empty());
        assert!(cache.observe(Some(4)), "and the next reading starts over");
    }

    #[test]
    fn documents_are_rendered_once() {
        let actor = LocalActor::new(account("alice"));
        let first = actor.actor_json().unwrap();
        assert!(Arc::ptr_eq(&first, &actor.actor_json().unwrap()));
        let json: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(json["id"], "https://e.example/users/alice");
        let urls = Urls::new(url::Url::parse("https://e.example").unwrap());
        let jrd: serde_json::Value =
            serde_json::from_slice(&actor.jrd_json(&urls).unwrap()).unwrap();
        assert_eq!(jrd["subject"], "acct:alice@e.example");
    }
}
