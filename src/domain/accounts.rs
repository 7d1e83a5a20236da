//! Local and remote accounts: creating local users and rooms, finding them.

use chrono::{NaiveDateTime, Utc};

use super::DomainError;
use super::keys::generate_key_pair;
use super::names::normalize_name;
use crate::store::accounts::{self as rows, AccountRow, NewAccountRow};
use crate::store::{AnyConnection, Store, is_unique_violation};
use crate::urls::{ROOMS, USERS, Urls};

/// The ActivityStreams actor type of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Person,
    Group,
    Application,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Person => "Person",
            AccountKind::Group => "Group",
            AccountKind::Application => "Application",
        }
    }

    pub fn from_stored(text: &str) -> Self {
        match text {
            "Group" => AccountKind::Group,
            "Application" => AccountKind::Application,
            _ => AccountKind::Person,
        }
    }

    /// The path prefix of local actors of this kind.
    pub fn path_prefix(self) -> &'static str {
        match self {
            AccountKind::Group => ROOMS,
            _ => USERS,
        }
    }
}

/// An account as the rest of the program sees it. The private key is not
/// part of it: signing code asks for it separately.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub kind: AccountKind,
    pub username: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub actor_url: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub profile_url: Option<String>,
    pub public_key_pem: String,
    pub key_id: Option<String>,
    pub display_name: Option<String>,
    /// Plain text, as the operator wrote it.
    pub summary: Option<String>,
    pub avatar_url: Option<String>,
    pub manually_approves_followers: bool,
    /// For proxy actors: the site they stand for.
    pub site_url: Option<String>,
    /// A header image (local accounts set it with `estuary user edit`).
    pub header_url: Option<String>,
    /// Suspended by the operator: hidden and refused, until unsuspended.
    pub suspended_at: Option<NaiveDateTime>,
    /// Deleted by the operator: gone for good (410), the name stays taken.
    pub deleted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Account {
    /// The path prefix of a local actor's URLs.
    pub fn path_prefix(&self) -> &'static str {
        if self.site_url.is_some() {
            crate::urls::SITES
        } else {
            self.kind.path_prefix()
        }
    }

    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }

    /// Suspended or deleted: its pages, actor and posts are not shown, its
    /// tokens and password are refused, its inbox POSTs turned away.
    pub fn is_hidden(&self) -> bool {
        self.suspended_at.is_some() || self.deleted_at.is_some()
    }

    /// The name to show: the display name, else the username.
    pub fn shown_name(&self) -> &str {
        self.display_name
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or(&self.username)
    }
}

pub(crate) fn row_to_account(row: AccountRow) -> Account {
    Account {
        id: row.id,
        kind: AccountKind::from_stored(&row.kind),
        username: row.username,
        domain: row.domain,
        actor_url: row.actor_url,
        inbox_url: row.inbox_url,
        shared_inbox_url: row.shared_inbox_url,
        outbox_url: row.outbox_url,
        followers_url: row.followers_url,
        following_url: row.following_url,
        profile_url: row.profile_url,
        public_key_pem: row.public_key_pem,
        key_id: row.key_id,
        display_name: row.display_name,
        summary: row.summary,
        avatar_url: row.avatar_url,
        manually_approves_followers: row.manually_approves_followers,
        site_url: row.site_url,
        header_url: row.header_url,
        suspended_at: row.suspended_at,
        deleted_at: row.deleted_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// What the operator asked for when creating a local user or room.
#[derive(Debug, Clone, Default)]
pub struct NewLocalAccount {
    pub name: String,
    pub display_name: Option<String>,
    pub summary: Option<String>,
    /// Rooms only: the local user who moderates it.
    pub owner: Option<String>,
    /// Rooms only: follow requests wait for the owner.
    pub members_only: bool,
}

/// Creates a local Person.
pub async fn create_user(
    store: &Store,
    urls: &Urls,
    new: NewLocalAccount,
) -> Result<Account, DomainError> {
    create_local(store, urls, AccountKind::Person, new).await
}

/// Creates a room: a local Group actor.
pub async fn create_room(
    store: &Store,
    urls: &Urls,
    new: NewLocalAccount,
) -> Result<Account, DomainError> {
    create_local(store, urls, AccountKind::Group, new).await
}

async fn create_local(
    store: &Store,
    urls: &Urls,
    kind: AccountKind,
    new: NewLocalAccount,
) -> Result<Account, DomainError> {
    let name =
        normalize_name(&new.name).ok_or_else(|| DomainError::InvalidName(new.name.clone()))?;
    let owner = match &new.owner {
        Some(raw) => Some(normalize_name(raw).ok_or_else(|| DomainError::NoSuchUser(raw.clone()))?),
        None => None,
    };
    let keys = tokio::task::spawn_blocking(generate_key_pair)
        .await
        .map_err(|_| crate::store::StoreError::Cancelled)??;
    let actor = urls.actor(kind.path_prefix(), &name);
    let key_id = format!("{}#main-key", actor.actor);
    let shared_inbox = urls.shared_inbox();
    store
        .transaction(move |conn| {
            let owner_id = match &owner {
                Some(owner) => Some(
                    rows::find_local(conn, owner)?
                        .filter(|row| row.kind == AccountKind::Person.as_str())
                        .ok_or_else(|| DomainError::NoSuchUser(owner.clone()))?
                        .id,
                ),
                None => None,
            };
            let now = Utc::now().naive_utc();
            let row = NewAccountRow {
                kind: kind.as_str(),
                username: &name,
                domain: None,
                actor_url: &actor.actor,
                inbox_url: &actor.inbox,
                shared_inbox_url: Some(&shared_inbox),
                outbox_url: Some(&actor.outbox),
                followers_url: Some(&actor.followers),
                following_url: Some(&actor.following),
                profile_url: Some(&actor.profile),
                public_key_pem: &keys.public_pem,
                private_key_pem: Some(&keys.private_pem),
                display_name: new.display_name.as_deref(),
                summary: new.summary.as_deref(),
                avatar_url: None,
                manually_approves_followers: new.members_only,
                owner_id,
                created_at: now,
                updated_at: now,
                key_id: Some(&key_id),
                fetched_at: None,
                site_url: None,
            };
            match rows::insert(conn, &row) {
                Ok(row) => Ok(row_to_account(row)),
                Err(e) if is_unique_violation(&e) => Err(DomainError::NameTaken(name.clone())),
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// The local account with this name, whatever its kind.
pub async fn find_local(store: &Store, name: &str) -> Result<Option<Account>, DomainError> {
    let Some(name) = normalize_name(name) else {
        return Ok(None);
    };
    store
        .run(move |conn| Ok(rows::find_local(conn, &name)?.map(row_to_account)))
        .await
}

/// The account whose actor id is `actor_url`.
pub async fn find_by_actor_url(
    store: &Store,
    actor_url: &str,
) -> Result<Option<Account>, DomainError> {
    let actor_url = actor_url.to_owned();
    store
        .run(move |conn| Ok(rows::find_by_actor_url(conn, &actor_url)?.map(row_to_account)))
        .await
}

/// The local account with this row id.
pub async fn find_by_id(store: &Store, id: i64) -> Result<Option<Account>, DomainError> {
    store.run(move |conn| find_by_id_in(conn, id)).await
}

/// [`find_by_id`] inside a transaction the caller holds.
pub fn find_by_id_in(conn: &mut AnyConnection, id: i64) -> Result<Option<Account>, DomainError> {
    Ok(rows::find(conn, id)?.map(row_to_account))
}

/// The account that signs with `key_id`.
pub async fn find_by_key_id(store: &Store, key_id: &str) -> Result<Option<Account>, DomainError> {
    let key_id = key_id.to_owned();
    store
        .run(move |conn| Ok(rows::find_by_key_id(conn, &key_id)?.map(row_to_account)))
        .await
}

/// The PEM private key of a local account.
pub async fn private_key_pem(store: &Store, id: i64) -> Result<Option<String>, DomainError> {
    store
        .run(move |conn| Ok(rows::private_key_pem(conn, id)?))
        .await
}

/// What is known of a remote actor from its document.
#[derive(Debug, Clone)]
pub struct RemoteActor {
    pub kind: AccountKind,
    pub username: String,
    pub domain: String,
    pub actor_url: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub profile_url: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub display_name: Option<String>,
    /// Sanitised HTML.
    pub summary: Option<String>,
    pub avatar_url: Option<String>,
    pub manually_approves_followers: bool,
}

/// Stores a remote actor, or refreshes the stored copy.
pub async fn upsert_remote(store: &Store, actor: RemoteActor) -> Result<Account, DomainError> {
    store
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            // The operator may refuse this domain's media.
            let avatar_url = match super::moderation::rejects_media(conn, &actor.domain)? {
                true => None,
                false => actor.avatar_url.as_deref(),
            };
            let row = NewAccountRow {
                kind: actor.kind.as_str(),
                username: &actor.username,
                domain: Some(&actor.domain),
                actor_url: &actor.actor_url,
                inbox_url: &actor.inbox_url,
                shared_inbox_url: actor.shared_inbox_url.as_deref(),
                outbox_url: actor.outbox_url.as_deref(),
                followers_url: actor.followers_url.as_deref(),
                following_url: actor.following_url.as_deref(),
                profile_url: actor.profile_url.as_deref(),
                public_key_pem: &actor.public_key_pem,
                private_key_pem: None,
                display_name: actor.display_name.as_deref(),
                summary: actor.summary.as_deref(),
                avatar_url,
                manually_approves_followers: actor.manually_approves_followers,
                owner_id: None,
                created_at: now,
                updated_at: now,
                key_id: Some(&actor.key_id),
                fetched_at: Some(now),
                site_url: None,
            };
            Ok(row_to_account(rows::upsert_remote(conn, &row)?))
        })
        .await
}

/// Name of the instance actor (not a valid user name, so it cannot clash).
pub const INSTANCE_ACTOR: &str = "instance.actor";

/// The instance actor: the Application that signs the instance's own
/// fetches. Created on first use; safe when several processes race.
pub async fn ensure_instance_actor(store: &Store, urls: &Urls) -> Result<Account, DomainError> {
    if let Some(found) = store
        .run(|conn| Ok::<_, DomainError>(rows::find_local(conn, INSTANCE_ACTOR)?))
        .await?
    {
        return Ok(row_to_account(found));
    }
    let keys = tokio::task::spawn_blocking(generate_key_pair)
        .await
        .map_err(|_| crate::store::StoreError::Cancelled)??;
    let actor = urls.instance_actor();
    let inbox = format!("{actor}/inbox");
    let outbox = format!("{actor}/outbox");
    let shared_inbox = urls.shared_inbox();
    let profile = urls.origin();
    store
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            let key_id = format!("{actor}#main-key");
            let row = NewAccountRow {
                kind: AccountKind::Application.as_str(),
                username: INSTANCE_ACTOR,
                domain: None,
                actor_url: &actor,
                inbox_url: &inbox,
                shared_inbox_url: Some(&shared_inbox),
                outbox_url: Some(&outbox),
                followers_url: None,
                following_url: None,
                profile_url: Some(&profile),
                public_key_pem: &keys.public_pem,
                private_key_pem: Some(&keys.private_pem),
                display_name: None,
                summary: None,
                avatar_url: None,
                manually_approves_followers: true,
                owner_id: None,
                created_at: now,
                updated_at: now,
                key_id: Some(&key_id),
                fetched_at: None,
                site_url: None,
            };
            match rows::insert(conn, &row) {
                Ok(row) => Ok(row_to_account(row)),
                Err(e) if is_unique_violation(&e) => rows::find_local(conn, INSTANCE_ACTOR)?
                    .map(row_to_account)
                    .ok_or(DomainError::Store(e.into())),
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// What a site's h-card says about its author.
#[derive(Debug, Clone, Default)]
pub struct SiteProfile {
    /// The site's origin with a trailing slash (`https://site.example/`).
    pub site_url: String,
    /// Its host, the proxy actor's user name.
    pub domain: String,
    pub name: Option<String>,
    pub photo: Option<String>,
}

/// The proxy actor of a site, created the first time the site appears and
/// refreshed from its h-card afterwards.
pub async fn ensure_proxy(
    store: &Store,
    urls: &Urls,
    site: SiteProfile,
) -> Result<Account, DomainError> {
    let existing = {
        let site_url = site.site_url.clone();
        store
            .run(move |conn| Ok::<_, DomainError>(rows::find_by_site(conn, &site_url)?))
            .await?
    };
    if let Some(row) = existing {
        let changed = row.display_name != site.name || row.avatar_url != site.photo;
        if !changed {
            return Ok(row_to_account(row));
        }
        return store
            .run(move |conn| {
                rows::update_profile(
                    conn,
                    row.id,
                    site.name.as_deref(),
                    site.photo.as_deref(),
                    Utc::now().naive_utc(),
                )?;
                Ok(rows::find(conn, row.id)?
                    .map(row_to_account)
                    .expect("just updated"))
            })
            .await;
    }
    let keys = tokio::task::spawn_blocking(generate_key_pair)
        .await
        .map_err(|_| crate::store::StoreError::Cancelled)??;
    let actor = urls.actor(crate::urls::SITES, &site.domain);
    let shared_inbox = urls.shared_inbox();
    store
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            let key_id = format!("{}#main-key", actor.actor);
            let row = NewAccountRow {
                kind: AccountKind::Person.as_str(),
                username: &site.domain,
                domain: None,
                actor_url: &actor.actor,
                inbox_url: &actor.inbox,
                shared_inbox_url: Some(&shared_inbox),
                outbox_url: Some(&actor.outbox),
                followers_url: Some(&actor.followers),
                following_url: Some(&actor.following),
                profile_url: Some(&site.site_url),
                public_key_pem: &keys.public_pem,
                private_key_pem: Some(&keys.private_pem),
                display_name: site.name.as_deref(),
                summary: None,
                avatar_url: site.photo.as_deref(),
                manually_approves_followers: false,
                owner_id: None,
                created_at: now,
                updated_at: now,
                key_id: Some(&key_id),
                fetched_at: None,
                site_url: Some(&site.site_url),
            };
            match rows::insert(conn, &row) {
                Ok(row) => Ok(row_to_account(row)),
                // Another worker created it meanwhile.
                Err(e) if is_unique_violation(&e) => rows::find_by_site(conn, &site.site_url)?
                    .map(row_to_account)
                    .ok_or(DomainError::Store(e.into())),
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// The proxy actor with this user name (its site's host).
pub async fn find_proxy(store: &Store, domain: &str) -> Result<Option<Account>, DomainError> {
    let domain = domain.to_ascii_lowercase();
    store
        .run(move |conn| {
            Ok(rows::find_local(conn, &domain)?
                .filter(|row| row.site_url.is_some())
                .map(row_to_account))
        })
        .await
}

/// The local account whose followers collection is `url`.
pub async fn find_local_by_followers_url(
    store: &Store,
    url: &str,
) -> Result<Option<Account>, DomainError> {
    let url = url.to_owned();
    store
        .run(move |conn| Ok(rows::find_local_by_followers_url(conn, &url)?.map(row_to_account)))
        .await
}

/// Actor ids of the suspended or deleted remote accounts.
pub async fn hidden_remote_actor_urls(store: &Store) -> Result<Vec<String>, DomainError> {
    store
        .run(|conn| Ok(rows::hidden_remote_actor_urls(conn)?))
        .await
}

/// The `cache_generation` counter: it moves whenever a local account, or a
/// remote account's suspension, changes (in any process).
pub async fn cache_generation(store: &Store) -> Result<i64, DomainError> {
    store
        .run(|conn| Ok(crate::store::cache_generation::current(conn)?))
        .await
}
