//! Local and remote accounts: creating local users and rooms, finding them.

use chrono::{NaiveDateTime, Utc};

use super::DomainError;
use super::keys::generate_key_pair;
use super::names::normalize_name;
use crate::store::accounts::{self as rows, AccountRow, NewAccountRow};
use crate::store::{Store, is_unique_violation};
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

    fn from_stored(text: &str) -> Self {
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
    pub display_name: Option<String>,
    /// Plain text, as the operator wrote it.
    pub summary: Option<String>,
    pub avatar_url: Option<String>,
    pub manually_approves_followers: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Account {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }

    /// The name to show: the display name, else the username.
    pub fn shown_name(&self) -> &str {
        self.display_name
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or(&self.username)
    }
}

fn row_to_account(row: AccountRow) -> Account {
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
        display_name: row.display_name,
        summary: row.summary,
        avatar_url: row.avatar_url,
        manually_approves_followers: row.manually_approves_followers,
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
    let shared_inbox = urls.shared_inbox();
    store
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
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
                };
                match rows::insert(conn, &row) {
                    Ok(row) => Ok(row_to_account(row)),
                    Err(e) if is_unique_violation(&e) => Err(DomainError::NameTaken(name.clone())),
                    Err(e) => Err(e.into()),
                }
            })
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
