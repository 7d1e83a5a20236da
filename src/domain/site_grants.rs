//! What a site may read that nobody else may: a direct note handed to it
//! (Private Webmention), or, by Ticket Auth, the conversation of a
//! members-only room it is a member of or the followers-only posts of a
//! person it follows. The site gets a short-lived, single-use code or
//! ticket; the token endpoint exchanges it for a bearer token that reads
//! exactly that note, or that feed while the membership or follow lasts.
//! Codes, tickets and tokens carry 256 random bits and are stored as
//! SHA-256; a stored hash is compared in constant time.

use chrono::{Duration, NaiveDateTime, Utc};

use super::DomainError;
use super::actions::{self, Action};
use super::posts::{Post, row_to_post};
use super::tokens::{hash_token, new_token};
use crate::store::Store;
use crate::store::private_pages::{self as pages, NewPrivatePageRow, PrivatePageRow};
use crate::store::site_grants::{self as grants, NewSiteGrantRow, SiteGrantRow};

/// How long a code may wait to be redeemed.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// How long a token from a code reads its note.
pub const TOKEN_LIFETIME: Duration = Duration::days(30);
/// How long a ticket may wait to be redeemed.
pub const TICKET_LIFETIME: Duration = Duration::hours(1);

/// A direct note to hand to a site.
#[derive(Debug, Clone)]
pub struct Handover {
    pub object_ap_id: String,
    pub activity_ap_id: String,
    pub proxy_id: i64,
    pub sender_id: i64,
    pub site_url: String,
}

/// A page made for a site, and the code to send it.
#[derive(Debug, Clone)]
pub struct Granted {
    pub page_key: String,
    /// Shown once; only its hash is stored.
    pub code: String,
    pub code_expires_at: NaiveDateTime,
}

/// A private page, as stored.
#[derive(Debug, Clone)]
pub struct PrivatePage {
    pub id: i64,
    pub page_key: String,
    pub object_ap_id: String,
    pub activity_ap_id: String,
    pub proxy_id: i64,
    pub sender_id: i64,
    pub site_url: String,
}

fn row_to_page(row: PrivatePageRow) -> PrivatePage {
    PrivatePage {
        id: row.id,
        page_key: row.page_key,
        object_ap_id: row.object_ap_id,
        activity_ap_id: row.activity_ap_id,
        proxy_id: row.proxy_id,
        sender_id: row.sender_id,
        site_url: row.site_url,
    }
}

fn random_key() -> Result<String, DomainError> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether the stored hash is the hash of `secret`, compared in constant time.
fn hash_matches(stored: &str, secret: &str) -> bool {
    let computed = hash_token(secret);
    stored.len() == computed.len() && openssl::memcmp::eq(stored.as_bytes(), computed.as_bytes())
}

/// The grant whose token is `token` (compared in constant time), if it is
/// neither revoked nor expired.
fn live_grant(
    conn: &mut crate::store::AnyConnection,
    token: &str,
) -> Result<Option<SiteGrantRow>, DomainError> {
    let now = Utc::now().naive_utc();
    Ok(
        grants::find_by_token_hash(conn, &hash_token(token))?.filter(|grant| {
            grant
                .token_hash
                .as_deref()
                .is_some_and(|stored| hash_matches(stored, token))
                && grant.revoked_at.is_none()
                && grant.token_expires_at.is_some_and(|at| at > now)
        }),
    )
}

/// Makes the private page of a note for its site with a fresh code, and
/// queues the check that refuses the note to its sender if the site has not
/// redeemed the code by the time it expires.
pub async fn hand_over(store: &Store, handover: Handover) -> Result<Granted, DomainError> {
    let page_key = random_key()?;
    let code = new_token()?;
    let code_hash = hash_token(&code);
    let now = Utc::now().naive_utc();
    let code_expires_at = now + CODE_LIFETIME;
    let key = page_key.clone();
    store
        .transaction(move |conn| {
            let page_id = pages::insert(
                conn,
                &NewPrivatePageRow {
                    page_key: &key,
                    object_ap_id: &handover.object_ap_id,
                    activity_ap_id: &handover.activity_ap_id,
                    proxy_id: handover.proxy_id,
                    sender_id: handover.sender_id,
                    site_url: &handover.site_url,
                    created_at: now,
                },
            )?;
            grants::insert(
                conn,
                &NewSiteGrantRow {
                    code_hash: &code_hash,
                    code_expires_at,
                    site_url: &handover.site_url,
                    page_id: Some(page_id),
                    feed_account_id: None,
                    created_at: now,
                },
            )?;
            // A second past expiry, so that a redemption at the last
            // moment is seen.
            actions::enqueue_later(
                conn,
                &[Action::PrivateNoteCheck { page_id }],
                code_expires_at + Duration::seconds(1),
            )?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(Granted {
        page_key,
        code,
        code_expires_at,
    })
}

pub async fn find_page(store: &Store, id: i64) -> Result<Option<PrivatePage>, DomainError> {
    store
        .run(move |conn| Ok(pages::find(conn, id)?.map(row_to_page)))
        .await
}

/// What became of a hand-over once its code expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// The site redeemed a code for the note.
    Collected,
    /// A newer hand-over of the same note is pending: its check decides.
    Superseded,
    /// The site never redeemed the code.
    Uncollected,
}

/// Whether the site collected the note of `page` (through this page or
/// another hand-over of the same note).
pub async fn collection(store: &Store, page: &PrivatePage) -> Result<Collection, DomainError> {
    let (activity, proxy_id, page_id) = (page.activity_ap_id.clone(), page.proxy_id, page.id);
    store
        .run(move |conn| {
            let all = pages::for_handover(conn, &activity, proxy_id)?;
            for other in &all {
                if grants::page_collected(conn, other.id)? {
                    return Ok(Collection::Collected);
                }
            }
            Ok(match all.last() {
                Some(newest) if newest.id != page_id => Collection::Superseded,
                _ => Collection::Uncollected,
            })
        })
        .await
}

/// A token the token endpoint gives for a code.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub access_token: String,
    pub expires_in: i64,
    /// The site the grant was made for (the token's `me`).
    pub site_url: String,
}

/// Why a code was not exchanged (OAuth's `invalid_grant`, whatever the cause:
/// the caller learns nothing more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("the code is unknown")]
    Unknown,
    #[error("the code has expired")]
    Expired,
    #[error("the code was used already")]
    Reused,
    #[error("the site is no longer a member or follower")]
    NotAMember,
}

/// What is presented at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// A Private Webmention's code (`grant_type=authorization_code`).
    Code,
    /// A Ticket Auth ticket (`grant_type=ticket`).
    Ticket,
}

/// Whether the site at `site_url` (through its proxy actor) may still read
/// the feed of `account_id`: a member of the room, or an accepted follower
/// of the person, not banned or blocked.
fn site_may_read(
    conn: &mut crate::store::AnyConnection,
    account_id: i64,
    site_url: &str,
) -> diesel::QueryResult<bool> {
    let Some(proxy) = crate::store::accounts::find_by_site(conn, site_url)? else {
        return Ok(false);
    };
    super::route::may_post_in_room(conn, account_id, proxy.id)
}

/// Exchanges a code or ticket for a bearer token, once. One presented again
/// revokes what it gave (the first token may have been stolen with it). A
/// ticket is refused once its site is no longer a member.
pub async fn redeem(
    store: &Store,
    grant_type: GrantType,
    code: &str,
) -> Result<Result<Redeemed, GrantError>, DomainError> {
    let code = code.to_owned();
    let token = new_token()?;
    let token_hash = hash_token(&token);
    store
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            let Some(grant) = grants::find_by_code_hash(conn, &hash_token(&code))?
                .filter(|g: &SiteGrantRow| hash_matches(&g.code_hash, &code))
                .filter(|g| match grant_type {
                    GrantType::Code => g.page_id.is_some(),
                    GrantType::Ticket => g.feed_account_id.is_some(),
                })
            else {
                return Ok(Err(GrantError::Unknown));
            };
            if grant.redeemed_at.is_some() || grant.revoked_at.is_some() {
                grants::burn(conn, grant.id, now)?;
                return Ok(Err(GrantError::Reused));
            }
            if grant.code_expires_at <= now {
                return Ok(Err(GrantError::Expired));
            }
            if let Some(account_id) = grant.feed_account_id
                && !site_may_read(conn, account_id, &grant.site_url)?
            {
                return Ok(Err(GrantError::NotAMember));
            }
            let expires_at = now + TOKEN_LIFETIME;
            if !grants::redeem(conn, grant.id, &token_hash, expires_at, now)? {
                return Ok(Err(GrantError::Reused));
            }
            Ok::<_, DomainError>(Ok(Redeemed {
                access_token: token,
                expires_in: TOKEN_LIFETIME.num_seconds(),
                site_url: grant.site_url,
            }))
        })
        .await
}

/// What a request for a private page may see.
#[derive(Debug, Clone)]
pub enum PageAccess {
    /// No token, or one that is unknown, expired or revoked: 401.
    Unauthorized,
    /// A valid token for something else, or no such page: 404 (never
    /// tell which).
    NotFound,
    Granted {
        page: Box<PrivatePage>,
        post: Box<Post>,
    },
}

/// Who may read the page `page_key`: only a bearer of a live token granted
/// for it.
pub async fn page_for_bearer(
    store: &Store,
    page_key: &str,
    bearer: Option<&str>,
) -> Result<PageAccess, DomainError> {
    let Some(token) = bearer.map(str::to_owned) else {
        return Ok(PageAccess::Unauthorized);
    };
    let page_key = page_key.to_owned();
    store
        .run(move |conn| {
            let Some(grant) = live_grant(conn, &token)? else {
                return Ok(PageAccess::Unauthorized);
            };
            let Some(page) = pages::find_by_key(conn, &page_key)?
                .filter(|page| grant.page_id == Some(page.id))
                .map(row_to_page)
            else {
                return Ok(PageAccess::NotFound);
            };
            let Some(post) =
                crate::store::objects::find_by_ap_id(conn, &page.object_ap_id)?.map(row_to_post)
            else {
                return Ok(PageAccess::NotFound);
            };
            Ok(PageAccess::Granted {
                page: Box::new(page),
                post: Box::new(post),
            })
        })
        .await
}

/// The private page `page_key` when it was made for the site at `origin`
/// (a site's private reply to it is addressed to the note's sender).
pub async fn page_of_site(
    store: &Store,
    page_key: &str,
    site_origin: &url::Url,
) -> Result<Option<PrivatePage>, DomainError> {
    let page_key = page_key.to_owned();
    let origin = site_origin.origin();
    store
        .run(move |conn| {
            Ok(pages::find_by_key(conn, &page_key)?
                .map(row_to_page)
                .filter(|page| {
                    url::Url::parse(&page.site_url).is_ok_and(|site| site.origin() == origin)
                }))
        })
        .await
}

/// A ticket for the site at `site_url` to read the feed of `account_id`
/// (a members-only room it was just admitted to). Shown once.
pub async fn issue_ticket(
    store: &Store,
    account_id: i64,
    site_url: &str,
) -> Result<String, DomainError> {
    let ticket = new_token()?;
    let ticket_hash = hash_token(&ticket);
    let site_url = site_url.to_owned();
    store
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            grants::insert(
                conn,
                &NewSiteGrantRow {
                    code_hash: &ticket_hash,
                    code_expires_at: now + TICKET_LIFETIME,
                    site_url: &site_url,
                    page_id: None,
                    feed_account_id: Some(account_id),
                    created_at: now,
                },
            )?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(ticket)
}

/// Whether `bearer` reads the private feed of `account_id`: a live token
/// from a ticket for it, whose site is still a member (or follower).
pub async fn reads_feed(
    store: &Store,
    account_id: i64,
    bearer: Option<&str>,
) -> Result<bool, DomainError> {
    let Some(token) = bearer.map(str::to_owned) else {
        return Ok(false);
    };
    store
        .run(move |conn| {
            let Some(grant) = live_grant(conn, &token)? else {
                return Ok(false);
            };
            Ok(grant.feed_account_id == Some(account_id)
                && site_may_read(conn, account_id, &grant.site_url)?)
        })
        .await
}

/// What a request for a person's feed may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedAccess {
    /// No token: the public posts.
    Public,
    /// A live token from a ticket for this feed, whose site still follows:
    /// the public and followers-only posts (never direct ones).
    Followers,
    /// A token that is unknown, expired or revoked (its site stopped
    /// following): 401.
    Unauthorized,
    /// A live token for something else: 404.
    NotFound,
}

/// What the bearer of `bearer` reads of the feed of `account_id`.
pub async fn feed_for_bearer(
    store: &Store,
    account_id: i64,
    bearer: Option<&str>,
) -> Result<FeedAccess, DomainError> {
    let Some(token) = bearer.map(str::to_owned) else {
        return Ok(FeedAccess::Public);
    };
    store
        .run(move |conn| {
            let Some(grant) = live_grant(conn, &token)? else {
                return Ok(FeedAccess::Unauthorized);
            };
            if grant.feed_account_id != Some(account_id) {
                return Ok(FeedAccess::NotFound);
            }
            Ok(if site_may_read(conn, account_id, &grant.site_url)? {
                FeedAccess::Followers
            } else {
                FeedAccess::Unauthorized
            })
        })
        .await
}

/// Whether the site on the origin of `callback` reads the private feed of
/// `account_id` now: it holds a live token from a ticket for it and still
/// follows (a WebSub subscriber that is pushed the followers-only posts).
pub fn site_of_callback_reads_feed(
    conn: &mut crate::store::AnyConnection,
    account_id: i64,
    callback: &str,
    now: NaiveDateTime,
) -> Result<bool, DomainError> {
    let Ok(callback) = url::Url::parse(callback) else {
        return Ok(false);
    };
    for grant in grants::live_feed_grants(conn, account_id, now)? {
        let same_site =
            url::Url::parse(&grant.site_url).is_ok_and(|site| site.origin() == callback.origin());
        if same_site && site_may_read(conn, account_id, &grant.site_url)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A site stops reading the feed of `account_id` (it left the room, stopped
/// following, was removed or blocked): its tokens are revoked and its WebSub
/// subscriptions to the feed end.
pub fn end_feed_access(
    conn: &mut crate::store::AnyConnection,
    account_id: i64,
    site_url: &str,
    at: NaiveDateTime,
) -> diesel::QueryResult<()> {
    crate::store::websub::delete_for_site(conn, account_id, site_url)?;
    grants::revoke_feed(conn, account_id, site_url, at)?;
    Ok(())
}
