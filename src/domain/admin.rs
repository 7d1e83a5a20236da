//! The operator's administration of local accounts: listing, showing,
//! editing, suspending and deleting users and rooms, their tokens and the
//! join requests rooms wait on. The command line calls these.

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;

use super::DomainError;
use super::accounts::{Account, AccountKind, row_to_account};
use super::ledger::Effect;
use super::media::{self, MediaError};
use super::names::normalize_name;
use super::posts::NewActivity;
use crate::store::Store;
use crate::store::accounts::{self as account_rows, ProfileChanges};
use crate::store::follows as follow_rows;
use crate::store::objects as object_rows;
use crate::store::tokens::{self as token_rows, TokenRow};
use crate::urls::Urls;

/// Why an administrative command was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("there is no user named {0:?}")]
    NoSuchUser(String),
    #[error("there is no room named {0:?}")]
    NoSuchRoom(String),
    #[error("there is no token {0}")]
    NoSuchToken(i64),
    #[error("token {0} is revoked already")]
    AlreadyRevoked(i64),
    #[error("{0} is deleted")]
    Deleted(String),
    #[error(
        "nothing to change: give at least one of --display-name, --summary, --avatar, --header"
    )]
    NothingToChange,
    #[error("{which}: {source}")]
    Image {
        which: &'static str,
        source: MediaError,
    },
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::store::StoreError> for AdminError {
    fn from(error: crate::store::StoreError) -> Self {
        AdminError::Domain(error.into())
    }
}

impl From<diesel::result::Error> for AdminError {
    fn from(error: diesel::result::Error) -> Self {
        AdminError::Domain(error.into())
    }
}

/// An account's state, as the operator sees it.
pub fn status_of(account: &Account) -> &'static str {
    if account.deleted_at.is_some() {
        "deleted"
    } else if account.suspended_at.is_some() {
        "suspended"
    } else {
        "active"
    }
}

/// One line of `user list` / `room list`.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub name: String,
    pub id: String,
    pub acct: String,
    pub display_name: Option<String>,
    pub status: &'static str,
    pub created_at: NaiveDateTime,
}

/// What `user show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct AccountDetails {
    #[serde(flatten)]
    pub summary: AccountSummary,
    pub kind: &'static str,
    pub profile: Option<String>,
    pub description: Option<String>,
    pub avatar: Option<String>,
    pub header: Option<String>,
    pub members_only: bool,
    pub followers: i64,
    pub following: i64,
    pub public_posts: i64,
    /// Tokens neither revoked nor expired.
    pub live_tokens: usize,
    pub password_set: bool,
    pub suspended_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
}

fn summary_of(account: &Account, urls: &Urls) -> AccountSummary {
    AccountSummary {
        name: account.username.clone(),
        id: account.actor_url.clone(),
        acct: urls
            .acct(&account.username)
            .trim_start_matches("acct:")
            .to_owned(),
        display_name: account.display_name.clone(),
        status: status_of(account),
        created_at: account.created_at,
    }
}

/// Local users (`Person`) or rooms (`Group`), by name.
pub async fn list(
    store: &Store,
    urls: &Urls,
    kind: AccountKind,
) -> Result<Vec<AccountSummary>, AdminError> {
    let rows = store
        .run(move |conn| Ok::<_, AdminError>(account_rows::list_local(conn, kind.as_str())?))
        .await?;
    Ok(rows
        .into_iter()
        .map(row_to_account)
        .map(|a| summary_of(&a, urls))
        .collect())
}

/// The local account of `kind` named `name`, deleted ones included.
pub async fn find(store: &Store, name: &str, kind: AccountKind) -> Result<Account, AdminError> {
    let missing = || match kind {
        AccountKind::Group => AdminError::NoSuchRoom(name.to_owned()),
        _ => AdminError::NoSuchUser(name.to_owned()),
    };
    let Some(normal) = normalize_name(name) else {
        return Err(missing());
    };
    store
        .run(move |conn| Ok::<_, AdminError>(account_rows::find_local(conn, &normal)?))
        .await?
        .filter(|row| row.kind == kind.as_str() && row.site_url.is_none())
        .map(row_to_account)
        .ok_or_else(missing)
}

/// Everything about one local account.
pub async fn show(
    store: &Store,
    urls: &Urls,
    account: &Account,
) -> Result<AccountDetails, AdminError> {
    let id = account.id;
    let (followers, following, public_posts, tokens, password_set) = store
        .run(move |conn| {
            let (followers, following) = follow_rows::counts(conn, id)?;
            let posts = object_rows::count_public_by_author(conn, id)?;
            let tokens = token_rows::list_for(conn, id)?;
            let password = crate::store::oauth::password_hash(conn, id)?.is_some();
            Ok::<_, AdminError>((followers, following, posts, tokens, password))
        })
        .await?;
    let now = Utc::now().naive_utc();
    Ok(AccountDetails {
        summary: summary_of(account, urls),
        kind: account.kind.as_str(),
        profile: account.profile_url.clone(),
        description: account.summary.clone(),
        avatar: account.avatar_url.clone(),
        header: account.header_url.clone(),
        members_only: account.manually_approves_followers,
        followers,
        following,
        public_posts,
        live_tokens: tokens.iter().filter(|t| token_is_live(t, now)).count(),
        password_set,
        suspended_at: account.suspended_at,
        deleted_at: account.deleted_at,
    })
}

/// What `user edit` changes. Empty text clears a field.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    pub display_name: Option<String>,
    pub summary: Option<String>,
    /// Image bytes, read from a file by the caller.
    pub avatar: Option<Vec<u8>>,
    pub header: Option<Vec<u8>>,
}

/// Changes a local account's profile; images are checked and stored first.
pub async fn edit(
    store: &Store,
    urls: &Urls,
    account: &Account,
    edit: ProfileEdit,
) -> Result<Account, AdminError> {
    if account.deleted_at.is_some() {
        return Err(AdminError::Deleted(account.username.clone()));
    }
    if edit.display_name.is_none()
        && edit.summary.is_none()
        && edit.avatar.is_none()
        && edit.header.is_none()
    {
        return Err(AdminError::NothingToChange);
    }
    let stored = |which: &'static str| move |source| AdminError::Image { which, source };
    // Check both images before storing either, so a bad one changes nothing.
    for (which, bytes) in [("avatar", &edit.avatar), ("header", &edit.header)] {
        if let Some(bytes) = bytes {
            check_image(bytes).map_err(stored(which))?;
        }
    }
    let avatar = match edit.avatar {
        Some(bytes) => Some(
            media::store_image(store, urls, account.id, bytes)
                .await
                .map_err(stored("avatar"))?,
        ),
        None => None,
    };
    let header = match edit.header {
        Some(bytes) => Some(
            media::store_image(store, urls, account.id, bytes)
                .await
                .map_err(stored("header"))?,
        ),
        None => None,
    };
    let id = account.id;
    store
        .run(move |conn| {
            fn text(value: &Option<String>) -> Option<Option<&str>> {
                value
                    .as_deref()
                    .map(|v| Some(v.trim()).filter(|v| !v.is_empty()))
            }
            let changes = ProfileChanges {
                display_name: text(&edit.display_name),
                summary: text(&edit.summary),
                avatar_url: avatar.as_deref().map(Some),
                header_url: header.as_deref().map(Some),
                updated_at: Some(Utc::now().naive_utc()),
            };
            account_rows::update_local_profile(conn, id, &changes)?;
            account_rows::find(conn, id)?
                .map(row_to_account)
                .ok_or(AdminError::NoSuchUser(id.to_string()))
        })
        .await
}

fn check_image(bytes: &[u8]) -> Result<(), MediaError> {
    if bytes.is_empty() {
        Err(MediaError::Empty)
    } else if bytes.len() > media::MAX_IMAGE_BYTES {
        Err(MediaError::TooLarge)
    } else if media::sniff_image(bytes).is_none() {
        Err(MediaError::UnknownType)
    } else {
        Ok(())
    }
}

/// Suspends or unsuspends a local account. A suspended account cannot sign
/// in or use its tokens, and its pages, actor and posts are not served.
pub async fn set_suspended(
    store: &Store,
    account: &Account,
    suspended: bool,
) -> Result<Account, AdminError> {
    if account.deleted_at.is_some() {
        return Err(AdminError::Deleted(account.username.clone()));
    }
    let id = account.id;
    store
        .run(move |conn| {
            let at = suspended.then(|| Utc::now().naive_utc());
            account_rows::set_suspended(conn, id, at)?;
            account_rows::find(conn, id)?
                .map(row_to_account)
                .ok_or(AdminError::NoSuchUser(id.to_string()))
        })
        .await
}

/// What deleting an account did.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    pub deleted: String,
    /// The actor `Delete` queued for delivery.
    pub activity: String,
    /// Remote followers it is sent to.
    pub notified: usize,
    pub follows_removed: usize,
    pub tokens_revoked: usize,
}

/// Deletes a local account for good: the actor `Delete` (built by the
/// caller) is queued to every remote follower, then the follows both ways,
/// the tokens and the password go, and the account answers 410 from then
/// on. The row and its key stay: the key signs the Delete, and the name is
/// never given to anyone else.
pub async fn delete(
    store: &Store,
    urls: &crate::urls::Urls,
    account: &Account,
    ap_id: String,
    document: String,
) -> Result<Deleted, AdminError> {
    if account.deleted_at.is_some() {
        return Err(AdminError::Deleted(account.username.clone()));
    }
    let (account, urls) = (account.clone(), urls.clone());
    store
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            // The followers are named one by one: the follows are gone by
            // the time the workers expand the addressing.
            let remote: Vec<String> = follow_rows::followers(conn, account.id)?
                .into_iter()
                .filter(|row| row.domain.is_some())
                .map(|row| row.actor_url)
                .collect();
            let activity = NewActivity::minted(
                &account,
                ap_id.clone(),
                "Delete",
                Some(account.actor_url.clone()),
                remote.clone(),
                document,
                now,
            );
            // The ledger routes it to those followers (a fan-out).
            super::ledger::record_in(conn, &urls, &account, &activity, &Effect::None)?;
            let follows_removed = follow_rows::delete_involving(conn, &[account.id])?;
            let tokens_revoked = token_rows::revoke_all_for(conn, account.id, now)?;
            account_rows::mark_deleted(conn, account.id, now)?;
            Ok(Deleted {
                deleted: account.actor_url.clone(),
                activity: ap_id,
                notified: remote.len(),
                follows_removed,
                tokens_revoked,
            })
        })
        .await
}

/// One token, as `token list` shows it (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub user: String,
    pub scopes: String,
    /// The OAuth client it was issued to; none for `token issue`.
    pub client: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub live: bool,
}

fn token_is_live(row: &TokenRow, now: NaiveDateTime) -> bool {
    row.revoked_at.is_none() && row.expires_at.is_none_or(|at| at > now)
}

fn row_to_token(row: TokenRow, user: &str, now: NaiveDateTime) -> TokenInfo {
    TokenInfo {
        live: token_is_live(&row, now),
        id: row.id,
        user: user.to_owned(),
        scopes: row.scopes,
        client: row.client_id,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    }
}

/// The tokens of a local user, oldest first.
pub async fn tokens(store: &Store, account: &Account) -> Result<Vec<TokenInfo>, AdminError> {
    let (id, user) = (account.id, account.username.clone());
    store
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            Ok(token_rows::list_for(conn, id)?
                .into_iter()
                .map(|row| row_to_token(row, &user, now))
                .collect())
        })
        .await
}

/// Revokes one token by its id (as `token list` shows it).
pub async fn revoke_token(store: &Store, id: i64) -> Result<TokenInfo, AdminError> {
    store
        .transaction(move |conn| {
            let row = token_rows::find(conn, id)?.ok_or(AdminError::NoSuchToken(id))?;
            if row.revoked_at.is_some() {
                return Err(AdminError::AlreadyRevoked(id));
            }
            let now = Utc::now().naive_utc();
            token_rows::revoke(conn, id, now)?;
            let user = account_rows::find(conn, row.account_id)?
                .map(|a| a.username)
                .unwrap_or_default();
            let row = token_rows::find(conn, id)?.ok_or(AdminError::NoSuchToken(id))?;
            Ok(row_to_token(row, &user, now))
        })
        .await
}

/// One request to join a members-only room.
#[derive(Debug, Clone, Serialize)]
pub struct JoinRequest {
    pub actor: String,
    pub name: String,
    pub domain: Option<String>,
    pub requested_at: NaiveDateTime,
}

/// Requests to join `room` that wait for the owner's answer, oldest first.
pub async fn join_requests(store: &Store, room: &Account) -> Result<Vec<JoinRequest>, AdminError> {
    let id = room.id;
    store
        .run(move |conn| {
            Ok(follow_rows::pending_for(conn, id)?
                .into_iter()
                .map(|(follow, who)| JoinRequest {
                    actor: who.actor_url,
                    name: who.username,
                    domain: who.domain,
                    requested_at: follow.created_at,
                })
                .collect())
        })
        .await
}
