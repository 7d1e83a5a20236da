//! Follows and blocks between accounts as they stand: who follows whom,
//! who blocks whom, pending requests. Changes go through the ledger.

use super::DomainError;
use super::accounts::{Account, row_to_account};
use super::audience::is_public_address;
use crate::store::follows as rows;
use crate::store::{AnyConnection, Store, blocks};

/// Whether `blocker` blocks `blocked`.
pub async fn is_blocked(
    store: &Store,
    blocker_id: i64,
    blocked_id: i64,
) -> Result<bool, DomainError> {
    store
        .run(move |conn| Ok(blocks::exists(conn, blocker_id, blocked_id)?))
        .await
}

/// (blocker, blocked) of the standing Block with this id.
pub async fn block_by_id(store: &Store, ap_id: &str) -> Result<Option<(i64, i64)>, DomainError> {
    let ap_id = ap_id.to_owned();
    store
        .run(move |conn| Ok(blocks::find_by_ap_id(conn, &ap_id)?))
        .await
}

/// Who a fan-out of an activity by one sender reaches, as one read.
#[derive(Debug)]
pub struct Audience {
    /// The sender (`None`: it is gone).
    pub sender: Option<Account>,
    /// The inboxes of the remote followers of the local accounts whose
    /// followers collection is addressed (shared inboxes once each; those
    /// who block the sender left out).
    pub follower_inboxes: Vec<String>,
    /// The other addressees (neither public nor a local followers
    /// collection): actors to resolve.
    pub others: Vec<String>,
    /// The accounts that block the sender.
    pub blockers: std::collections::HashSet<i64>,
}

impl Audience {
    /// Every inbox to deliver to, once each: the followers' inboxes, then
    /// those of `resolved` (account id, inbox: the [`Audience::others`]
    /// once resolved) whose account does not block the sender.
    pub fn inboxes(self, resolved: Vec<(i64, String)>) -> Vec<String> {
        let mut seen: std::collections::HashSet<String> =
            self.follower_inboxes.iter().cloned().collect();
        let mut inboxes = self.follower_inboxes;
        for (id, inbox) in resolved {
            if !self.blockers.contains(&id) && seen.insert(inbox.clone()) {
                inboxes.push(inbox);
            }
        }
        inboxes
    }
}

/// Reads a fan-out's [`Audience`] in one trip to the database: the sender,
/// the inboxes behind each addressed local followers collection (oldest
/// follow first), and who blocks the sender; the public address in
/// `addressees` is passed over.
pub async fn fan_out_audience(
    store: &Store,
    sender_id: i64,
    addressees: Vec<String>,
) -> Result<Audience, DomainError> {
    store
        .run(move |conn| audience_in(conn, sender_id, &addressees))
        .await
}

/// [`fan_out_audience`] inside a transaction the caller holds.
pub fn audience_in(
    conn: &mut AnyConnection,
    sender_id: i64,
    addressees: &[String],
) -> Result<Audience, DomainError> {
    let Some(sender) = crate::store::accounts::find(conn, sender_id)? else {
        return Ok(Audience {
            sender: None,
            follower_inboxes: Vec::new(),
            others: Vec::new(),
            blockers: Default::default(),
        });
    };
    let mut follower_inboxes: Vec<String> = Vec::new();
    // Two collections addressed (the sender's and a thread's) may share
    // followers' inboxes.
    let mut seen = std::collections::HashSet::new();
    let mut others = Vec::new();
    for address in addressees.iter().filter(|a| !is_public_address(a)) {
        match crate::store::accounts::find_local_by_followers_url(conn, address)? {
            Some(owner) => follower_inboxes.extend(
                rows::remote_follower_inboxes(conn, owner.id, sender_id)?
                    .into_iter()
                    .filter(|inbox| seen.insert(inbox.clone())),
            ),
            None => others.push(address.clone()),
        }
    }
    Ok(Audience {
        blockers: blocks::blockers_of(conn, sender_id)?.into_iter().collect(),
        sender: Some(row_to_account(sender)),
        follower_inboxes,
        others,
    })
}

/// Accepted followers of an account.
pub async fn followers(store: &Store, account_id: i64) -> Result<Vec<Account>, DomainError> {
    store
        .run(move |conn| {
            Ok(rows::followers(conn, account_id)?
                .into_iter()
                .map(row_to_account)
                .collect())
        })
        .await
}

/// Accounts an account follows (accepted).
pub async fn following(store: &Store, account_id: i64) -> Result<Vec<Account>, DomainError> {
    store
        .run(move |conn| {
            Ok(rows::following(conn, account_id)?
                .into_iter()
                .map(row_to_account)
                .collect())
        })
        .await
}

/// Whether `follower` follows `followee` (accepted).
pub async fn follows(
    store: &Store,
    follower_id: i64,
    followee_id: i64,
) -> Result<bool, DomainError> {
    store
        .run(
            move |conn| Ok(rows::find(conn, follower_id, followee_id)?.is_some_and(|f| f.accepted)),
        )
        .await
}

/// The state of the follow of `followee_id` by `follower_id`: `None` when
/// there is none, `Some(accepted)` otherwise.
pub async fn follow_state(
    store: &Store,
    follower_id: i64,
    followee_id: i64,
) -> Result<Option<bool>, DomainError> {
    store
        .run(move |conn| Ok(rows::find(conn, follower_id, followee_id)?.map(|f| f.accepted)))
        .await
}

/// A follow request `author` received and has not answered.
pub async fn pending_follow(
    store: &Store,
    author: &Account,
    follow_ap_id: &str,
) -> Result<Option<Account>, DomainError> {
    let (author_id, follow_ap_id) = (author.id, follow_ap_id.to_owned());
    store
        .run(move |conn| {
            let Some(follow) = rows::find_by_ap_id(conn, &follow_ap_id)?
                .filter(|f| f.followee_id == author_id && !f.accepted)
            else {
                return Ok(None);
            };
            Ok(crate::store::accounts::find(conn, follow.follower_id)?.map(row_to_account))
        })
        .await
}
