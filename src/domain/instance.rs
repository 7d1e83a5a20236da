//! Facts about the whole instance: usage counts as NodeInfo reports them,
//! the directory of its home page, the facts a profile page shows.

use super::DomainError;
use super::accounts::{Account, AccountKind, row_to_account};
use super::posts::{Post, public_posts_of};
use crate::store::Store;
use crate::store::accounts as rows;

/// Counts of local things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceUsage {
    pub users: i64,
    pub rooms: i64,
}

pub async fn usage(store: &Store) -> Result<InstanceUsage, DomainError> {
    store
        .run(|conn| {
            Ok(InstanceUsage {
                users: rows::count_local(conn, AccountKind::Person.as_str())?,
                rooms: rows::count_local(conn, AccountKind::Group.as_str())?,
            })
        })
        .await
}

/// What a client app is told about the instance: counts, and the account
/// to contact (the first local person, usually the one who set it up).
#[derive(Debug, Clone)]
pub struct Overview {
    pub users: i64,
    pub statuses: i64,
    pub domains: i64,
    pub contact: Option<Account>,
}

pub async fn overview(store: &Store) -> Result<Overview, DomainError> {
    store
        .run(|conn| {
            Ok(Overview {
                users: rows::count_local(conn, AccountKind::Person.as_str())?,
                statuses: crate::store::objects::count_local(conn)?,
                domains: rows::count_remote_domains(conn)?,
                contact: rows::first_active_local_person(conn)?.map(row_to_account),
            })
        })
        .await
}

/// The local people and rooms the home page lists: active ones, by name
/// (members-only rooms included: they can be asked to join).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub people: Vec<Account>,
    pub rooms: Vec<Account>,
}

pub async fn directory(store: &Store) -> Result<Directory, DomainError> {
    store
        .run(|conn| {
            let active = |kind: AccountKind, conn: &mut crate::store::AnyConnection| {
                Ok::<_, DomainError>(
                    rows::list_local(conn, kind.as_str())?
                        .into_iter()
                        .map(row_to_account)
                        .filter(|a| !a.is_hidden())
                        .collect::<Vec<_>>(),
                )
            };
            Ok(Directory {
                people: active(AccountKind::Person, conn)?,
                rooms: active(AccountKind::Group, conn)?,
            })
        })
        .await
}

/// What a profile page shows besides the account itself.
#[derive(Debug, Clone, Default)]
pub struct ProfileFacts {
    pub followers: i64,
    pub following: i64,
    pub posts: i64,
    /// The latest public posts, newest first.
    pub latest: Vec<Post>,
}

/// How many latest posts a profile page shows.
pub const PROFILE_POSTS: i64 = 5;

pub async fn profile_facts(store: &Store, account: &Account) -> Result<ProfileFacts, DomainError> {
    let id = account.id;
    let (followers, following) = store
        .run(move |conn| Ok::<_, DomainError>(crate::store::follows::counts(conn, id)?))
        .await?;
    let page = public_posts_of(store, id, 0, PROFILE_POSTS).await?;
    Ok(ProfileFacts {
        followers,
        following,
        posts: page.total,
        latest: page.items,
    })
}
