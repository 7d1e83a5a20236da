//! Reading as a client app does: timelines, one post with its thread,
//! notifications and direct-message conversations, each as a page of
//! views completed by a fixed number of batch queries (never one query per
//! post), and always filtered by who may see what (`audience::may_see`).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};

use super::DomainError;
use super::accounts::{Account, row_to_account};
use super::audience::{Viewer, Visibility, may_see};
use super::posts::{Post, row_to_post};
use crate::store::accounts::AccountRow;
use crate::store::mastodon::{self as rows, IdRange};
use crate::store::objects::ObjectRow;
use crate::store::{AnyConnection, Store};

/// An account with the counts clients show.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: Account,
    pub followers: i64,
    pub following: i64,
    pub statuses: i64,
}

/// A post with everything a client shows about it.
#[derive(Debug, Clone)]
pub struct PostView {
    /// The `objects` row id (the API's status id).
    pub id: i64,
    pub post: Post,
    pub author: AccountView,
    /// Row id and author id of the parent, when it is stored.
    pub parent: Option<(i64, i64)>,
    /// Known accounts the post mentions.
    pub mentions: Vec<Account>,
    pub favourites: i64,
    pub reblogs: i64,
    pub replies: i64,
    pub favourited: bool,
    pub reblogged: bool,
}

/// A notification: an inbox item that concerns its owner.
#[derive(Debug, Clone)]
pub struct NotificationView {
    /// The inbox item's id.
    pub id: i64,
    /// `mention`, `follow`, `follow_request`, `favourite` or `reblog`.
    pub kind: &'static str,
    pub created_at: NaiveDateTime,
    pub account: AccountView,
    pub status: Option<PostView>,
}

/// A direct-message thread as one participant sees it.
#[derive(Debug, Clone)]
pub struct ConversationView {
    /// The row id of the thread's first post this participant can see.
    pub id: i64,
    pub context: String,
    pub accounts: Vec<AccountView>,
    pub last: PostView,
    pub unread: bool,
}

/// What a relationship between the viewer and one account is.
#[derive(Debug, Clone, Default)]
pub struct Relationship {
    pub id: i64,
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
}

/// A page request as the API gives it.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl PageQuery {
    fn range(self) -> IdRange {
        IdRange {
            below: self.max_id.unwrap_or(i64::MAX),
            above: self.min_id.or(self.since_id).unwrap_or(0),
            ascending: self.min_id.is_some(),
            limit: self.limit.clamp(1, 80),
        }
    }
}

fn viewer_sees(post: &Post, author: &Account, viewer: Option<&Account>, follows: bool) -> bool {
    if post.deleted_at.is_some() {
        return false;
    }
    let viewer = viewer.map(|v| Viewer {
        actor_url: &v.actor_url,
        follows_author: follows,
    });
    may_see(post.visibility, &post.addressees, &author.actor_url, viewer)
}

fn mention_hrefs(document: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(document) else {
        return Vec::new();
    };
    let tags = match value.get("tag") {
        Some(serde_json::Value::Array(tags)) => tags.clone(),
        Some(tag) => vec![tag.clone()],
        None => Vec::new(),
    };
    tags.iter()
        .filter(|t| t.get("type").and_then(|t| t.as_str()) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(|h| h.as_str()).map(str::to_owned))
        .collect()
}

fn account_views(
    conn: &mut AnyConnection,
    rows_: Vec<AccountRow>,
) -> Result<HashMap<i64, AccountView>, DomainError> {
    let ids: Vec<i64> = rows_.iter().map(|r| r.id).collect();
    let counts = rows::account_counts(conn, &ids)?;
    Ok(rows_
        .into_iter()
        .map(row_to_account)
        .map(|account| {
            let (_, followers, following, statuses) = counts
                .iter()
                .find(|c| c.0 == account.id)
                .copied()
                .unwrap_or_default();
            (
                account.id,
                AccountView {
                    account,
                    followers,
                    following,
                    statuses,
                },
            )
        })
        .collect())
}

/// Keeps the posts `viewer` may see and completes them: a fixed number of
/// batch queries for the whole page.
fn complete(
    conn: &mut AnyConnection,
    viewer: Option<&Account>,
    objects: Vec<ObjectRow>,
) -> Result<Vec<PostView>, DomainError> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let posts: Vec<(i64, Post)> = objects
        .into_iter()
        .map(|r| (r.id, row_to_post(r)))
        .collect();
    let author_ids: Vec<i64> = posts
        .iter()
        .map(|(_, p)| p.author_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let authors = {
        let found = rows::accounts_by_ids(conn, &author_ids)?;
        account_views(conn, found)?
    };
    let followed: HashSet<i64> = match viewer {
        Some(viewer) => rows::follows_among(conn, viewer.id, &author_ids)?
            .into_iter()
            .filter(|(_, accepted)| *accepted)
            .map(|(id, _)| id)
            .collect(),
        None => HashSet::new(),
    };
    let posts: Vec<(i64, Post)> = posts
        .into_iter()
        .filter(|(_, post)| {
            authors.get(&post.author_id).is_some_and(|author| {
                viewer_sees(
                    post,
                    &author.account,
                    viewer,
                    followed.contains(&post.author_id),
                )
            })
        })
        .collect();
    let ap_ids: Vec<String> = posts.iter().map(|(_, p)| p.ap_id.clone()).collect();
    let parent_ids: Vec<String> = posts
        .iter()
        .filter_map(|(_, p)| p.in_reply_to.clone())
        .collect();
    let parents: HashMap<String, (i64, i64)> = rows::objects_by_ap_ids(conn, &parent_ids)?
        .into_iter()
        .map(|r| (r.ap_id, (r.id, r.author_id)))
        .collect();
    let mut counts: HashMap<(String, String), i64> = HashMap::new();
    for (object, kind, n) in rows::reaction_counts(conn, &ap_ids)? {
        counts.insert((object, kind), n);
    }
    let mine: HashSet<(String, String)> = match viewer {
        Some(viewer) => rows::reactions_by(conn, viewer.id, &ap_ids)?
            .into_iter()
            .map(|(object, kind, _)| (object, kind))
            .collect(),
        None => HashSet::new(),
    };
    let replies: HashMap<String, i64> = rows::reply_counts(conn, &ap_ids)?
        .into_iter()
        .filter_map(|(parent, n)| parent.map(|p| (p, n)))
        .collect();
    let hrefs: Vec<Vec<String>> = posts
        .iter()
        .map(|(_, p)| mention_hrefs(&p.document))
        .collect();
    let all_hrefs: Vec<String> = hrefs.iter().flatten().cloned().collect();
    let mentioned: HashMap<String, Account> = rows::accounts_by_actor_urls(conn, &all_hrefs)?
        .into_iter()
        .map(row_to_account)
        .map(|a| (a.actor_url.clone(), a))
        .collect();
    Ok(posts
        .into_iter()
        .zip(hrefs)
        .map(|((id, post), hrefs)| {
            let key = |kind: &str| (post.ap_id.clone(), kind.to_owned());
            PostView {
                id,
                author: authors[&post.author_id].clone(),
                parent: post
                    .in_reply_to
                    .as_ref()
                    .and_then(|p| parents.get(p).copied()),
                mentions: hrefs
                    .iter()
                    .filter_map(|h| mentioned.get(h).cloned())
                    .collect(),
                favourites: counts.get(&key("Like")).copied().unwrap_or(0),
                reblogs: counts.get(&key("Announce")).copied().unwrap_or(0),
                replies: replies.get(&post.ap_id).copied().unwrap_or(0),
                favourited: mine.contains(&key("Like")),
                reblogged: mine.contains(&key("Announce")),
                post,
            }
        })
        .collect())
}

fn in_order(mut views: Vec<PostView>, page: PageQuery) -> Vec<PostView> {
    // `min_id` pages are read oldest first; clients want newest first.
    if page.min_id.is_some() {
        views.reverse();
    }
    views
}

/// The home timeline of a local account.
pub async fn home(
    store: &Store,
    me: &Account,
    page: PageQuery,
) -> Result<Vec<PostView>, DomainError> {
    let me = me.clone();
    store
        .run(move |conn| {
            let objects = rows::home(conn, me.id, page.range())?;
            Ok(in_order(complete(conn, Some(&me), objects)?, page))
        })
        .await
}

/// Public posts known here (unlisted ones are not listed).
pub async fn public(
    store: &Store,
    viewer: Option<Account>,
    local_only: bool,
    page: PageQuery,
) -> Result<Vec<PostView>, DomainError> {
    store
        .run(move |conn| {
            let objects = rows::public(conn, local_only, page.range())?;
            let listed = objects
                .into_iter()
                .filter(|o| public_in_to(&o.document))
                .collect();
            Ok(in_order(complete(conn, viewer.as_ref(), listed)?, page))
        })
        .await
}

/// Whether a public post is listed (the public collection in `to`), not
/// unlisted (only in `cc`).
pub fn public_in_to(document: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(document) else {
        return false;
    };
    let listed = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => super::audience::is_public_address(s),
        serde_json::Value::Array(items) => items
            .iter()
            .any(|i| i.as_str().is_some_and(super::audience::is_public_address)),
        _ => false,
    };
    value.get("to").is_some_and(listed)
}

/// An account's posts as `viewer` may see them.
pub async fn account_posts(
    store: &Store,
    viewer: Option<Account>,
    author_id: i64,
    page: PageQuery,
) -> Result<Vec<PostView>, DomainError> {
    store
        .run(move |conn| {
            let objects = rows::by_author(conn, author_id, page.range())?;
            Ok(in_order(complete(conn, viewer.as_ref(), objects)?, page))
        })
        .await
}

/// One post by row id, if `viewer` may see it.
pub async fn status(
    store: &Store,
    viewer: Option<Account>,
    id: i64,
) -> Result<Option<PostView>, DomainError> {
    store
        .run(move |conn| {
            let Some(row) = rows::object_by_id(conn, id)? else {
                return Ok(None);
            };
            Ok(complete(conn, viewer.as_ref(), vec![row])?.pop())
        })
        .await
}

/// The thread around a post: its ancestors (oldest first) and descendants,
/// as `viewer` may see them; `None` if the post itself is not visible.
pub async fn thread(
    store: &Store,
    viewer: Option<Account>,
    id: i64,
) -> Result<Option<(Vec<PostView>, Vec<PostView>)>, DomainError> {
    store
        .run(move |conn| {
            let Some(row) = rows::object_by_id(conn, id)? else {
                return Ok(None);
            };
            let Some(this) = complete(conn, viewer.as_ref(), vec![row])?.pop() else {
                return Ok(None);
            };
            let members = match &this.post.context {
                Some(context) => crate::store::objects::in_context(conn, context)?,
                None => Vec::new(),
            };
            let visible = complete(conn, viewer.as_ref(), members)?;
            let by_ap: HashMap<&str, &PostView> =
                visible.iter().map(|v| (v.post.ap_id.as_str(), v)).collect();
            let mut ancestors = Vec::new();
            let mut cursor = this.post.in_reply_to.clone();
            while let Some(parent) = cursor {
                match by_ap.get(parent.as_str()) {
                    Some(view) if !ancestors.iter().any(|a: &PostView| a.id == view.id) => {
                        ancestors.push((*view).clone());
                        cursor = view.post.in_reply_to.clone();
                    }
                    _ => break,
                }
            }
            ancestors.reverse();
            let mut descendants = Vec::new();
            let mut frontier = vec![this.post.ap_id.clone()];
            while let Some(parent) = frontier.pop() {
                for view in &visible {
                    if view.post.in_reply_to.as_deref() == Some(parent.as_str())
                        && !descendants.iter().any(|d: &PostView| d.id == view.id)
                    {
                        descendants.push(view.clone());
                        frontier.push(view.post.ap_id.clone());
                    }
                }
            }
            descendants.sort_by_key(|d| d.id);
            Ok(Some((ancestors, descendants)))
        })
        .await
}

/// Accounts by id, with counts, in the order asked.
pub async fn accounts(store: &Store, ids: Vec<i64>) -> Result<Vec<AccountView>, DomainError> {
    store
        .run(move |conn| {
            let views = {
                let found = rows::accounts_by_ids(conn, &ids)?;
                account_views(conn, found)?
            };
            Ok(ids.iter().filter_map(|id| views.get(id).cloned()).collect())
        })
        .await
}

/// An account by `user` (local) or `user@domain`.
pub async fn account_by_acct(
    store: &Store,
    local_host: &str,
    acct: &str,
) -> Result<Option<AccountView>, DomainError> {
    let acct = acct.trim_start_matches('@').to_owned();
    let local_host = local_host.to_owned();
    store
        .run(move |conn| {
            let (name, domain) = match acct.split_once('@') {
                Some((name, domain)) if domain.eq_ignore_ascii_case(&local_host) => (name, None),
                Some((name, domain)) => (name, Some(domain)),
                None => (acct.as_str(), None),
            };
            let name = match domain {
                None => super::names::normalize_name(name).unwrap_or_default(),
                Some(_) => name.to_owned(),
            };
            let Some(row) = rows::account_by_acct(conn, &name, domain)? else {
                return Ok(None);
            };
            Ok(account_views(conn, vec![row])?.into_values().next())
        })
        .await
}

/// Wraps accounts as views (with counts).
pub async fn views_of(
    store: &Store,
    accounts: Vec<Account>,
) -> Result<Vec<AccountView>, DomainError> {
    accounts_in_order(store, accounts.iter().map(|a| a.id).collect()).await
}

async fn accounts_in_order(store: &Store, ids: Vec<i64>) -> Result<Vec<AccountView>, DomainError> {
    accounts(store, ids).await
}

/// Followers or followees of an account (newest first), with counts.
pub async fn follow_list(
    store: &Store,
    account_id: i64,
    followers: bool,
    limit: i64,
) -> Result<Vec<AccountView>, DomainError> {
    let list = if followers {
        super::follows::followers(store, account_id).await?
    } else {
        super::follows::following(store, account_id).await?
    };
    let mut list: Vec<Account> = list.into_iter().collect();
    list.truncate(limit.clamp(1, 80) as usize);
    views_of(store, list).await
}

/// Accounts `me` blocks, or that wait for `me` to accept them.
pub async fn blocks_or_requests(
    store: &Store,
    me: &Account,
    blocks: bool,
) -> Result<Vec<AccountView>, DomainError> {
    let id = me.id;
    store
        .run(move |conn| {
            let found = if blocks {
                rows::blocked_by(conn, id)?
            } else {
                rows::follow_requesters(conn, id)?
            };
            Ok(account_views(conn, found)?.into_values().collect())
        })
        .await
}

/// How `me` stands with each of `ids`.
pub async fn relationships(
    store: &Store,
    me: &Account,
    ids: Vec<i64>,
) -> Result<Vec<Relationship>, DomainError> {
    let me_id = me.id;
    store
        .run(move |conn| {
            let out = rows::follows_among(conn, me_id, &ids)?;
            let inc = rows::followers_among(conn, me_id, &ids)?;
            let blocks = rows::blocks_among(conn, me_id, &ids)?;
            Ok(ids
                .iter()
                .map(|&id| {
                    let outgoing = out.iter().find(|(k, _)| *k == id).map(|(_, a)| *a);
                    let incoming = inc.iter().find(|(k, _)| *k == id).map(|(_, a)| *a);
                    Relationship {
                        id,
                        following: outgoing == Some(true),
                        requested: outgoing == Some(false),
                        followed_by: incoming == Some(true),
                        requested_by: incoming == Some(false),
                        blocking: blocks.contains(&(me_id, id)),
                        blocked_by: blocks.contains(&(id, me_id)),
                    }
                })
                .collect())
        })
        .await
}

/// Notification kinds a client may ask for.
pub const NOTIFICATION_KINDS: &[&str] =
    &["mention", "follow", "follow_request", "favourite", "reblog"];

/// `me`'s notifications of the given kinds, newest first.
pub async fn notifications(
    store: &Store,
    me: &Account,
    kinds: Vec<String>,
    page: PageQuery,
) -> Result<Vec<NotificationView>, DomainError> {
    let me = me.clone();
    store
        .run(move |conn| {
            let wants = |k: &str| kinds.iter().any(|w| w == k);
            let mut verbs = Vec::new();
            if wants("mention") {
                verbs.push("Create");
            }
            if wants("follow") || wants("follow_request") {
                verbs.push("Follow");
            }
            if wants("favourite") {
                verbs.push("Like");
            }
            if wants("reblog") {
                verbs.push("Announce");
            }
            let pattern = format!("%\"{}\"%", me.actor_url);
            let items = rows::notification_items(conn, me.id, &verbs, &pattern, page.range())?;
            let actor_ids: Vec<i64> = items.iter().map(|(_, a)| a.actor_id).collect();
            let actors = {
                let found = rows::accounts_by_ids(conn, &actor_ids)?;
                account_views(conn, found)?
            };
            let object_ids: Vec<String> = items
                .iter()
                .filter_map(|(_, a)| a.object_ap_id.clone())
                .collect();
            let objects = rows::objects_by_ap_ids(conn, &object_ids)?;
            let statuses: HashMap<String, PostView> = complete(conn, Some(&me), objects)?
                .into_iter()
                .map(|v| (v.post.ap_id.clone(), v))
                .collect();
            let followers = rows::followers_among(conn, me.id, &actor_ids)?;
            let mut out = Vec::new();
            for (item_id, activity) in items {
                let Some(account) = actors.get(&activity.actor_id).cloned() else {
                    continue;
                };
                let status = activity
                    .object_ap_id
                    .as_ref()
                    .and_then(|o| statuses.get(o).cloned());
                let kind = match activity.kind.as_str() {
                    "Create" => {
                        let addressed: Vec<String> =
                            serde_json::from_str(&activity.addressed_to).unwrap_or_default();
                        if !addressed.contains(&me.actor_url) || status.is_none() {
                            continue;
                        }
                        "mention"
                    }
                    "Follow" => match followers.iter().find(|(id, _)| *id == activity.actor_id) {
                        Some((_, true)) => "follow",
                        Some((_, false)) => "follow_request",
                        None => continue,
                    },
                    "Like" | "Announce" => {
                        // Only reactions to one's own posts that one may see.
                        if status.as_ref().is_none_or(|s| s.post.author_id != me.id) {
                            continue;
                        }
                        if activity.kind == "Like" {
                            "favourite"
                        } else {
                            "reblog"
                        }
                    }
                    _ => continue,
                };
                if !wants(kind) {
                    continue;
                }
                let status = if matches!(kind, "follow" | "follow_request") {
                    None
                } else {
                    status
                };
                out.push(NotificationView {
                    id: item_id,
                    kind,
                    created_at: activity.published,
                    account,
                    status,
                });
            }
            if page.min_id.is_some() {
                out.reverse();
            }
            Ok(out)
        })
        .await
}

/// Dismisses one notification.
pub async fn dismiss(store: &Store, me: &Account, id: i64) -> Result<(), DomainError> {
    let me_id = me.id;
    store
        .run(move |conn| {
            rows::dismiss(conn, me_id, id)?;
            Ok(())
        })
        .await
}

/// How many direct posts a conversation list looks at.
const CONVERSATION_WINDOW: i64 = 1000;

/// `me`'s direct-message threads, the most recently active first.
pub async fn conversations(
    store: &Store,
    me: &Account,
    page: PageQuery,
) -> Result<Vec<ConversationView>, DomainError> {
    let me = me.clone();
    store
        .run(move |conn| {
            let objects = rows::direct_for(conn, me.id, CONVERSATION_WINDOW)?;
            let views = complete(conn, Some(&me), objects)?;
            let marks: HashMap<String, (i64, i64)> = rows::conversation_marks(conn, me.id)?
                .into_iter()
                .map(|(c, r, h)| (c, (r, h)))
                .collect();
            // Newest first: the first post seen of a context is its last.
            let mut threads: Vec<(String, Vec<PostView>)> = Vec::new();
            for view in views {
                let context = view
                    .post
                    .context
                    .clone()
                    .unwrap_or_else(|| view.post.ap_id.clone());
                match threads.iter_mut().find(|(c, _)| *c == context) {
                    Some((_, posts)) => posts.push(view),
                    None => threads.push((context, vec![view])),
                }
            }
            let range = page.range();
            let mut participants_ids = HashSet::new();
            for (_, posts) in &threads {
                for post in posts {
                    participants_ids.insert(post.author.account.id);
                    participants_ids.extend(post.mentions.iter().map(|m| m.id));
                }
            }
            participants_ids.remove(&me.id);
            let ids: Vec<i64> = participants_ids.into_iter().collect();
            let participants = {
                let found = rows::accounts_by_ids(conn, &ids)?;
                account_views(conn, found)?
            };
            let mut out = Vec::new();
            for (context, posts) in threads {
                let last = posts[0].clone();
                let (read, hidden) = marks.get(&context).copied().unwrap_or((0, 0));
                if last.id <= hidden || last.id >= range.below || last.id <= range.above {
                    continue;
                }
                let mut accounts: Vec<AccountView> = Vec::new();
                for post in &posts {
                    let ids = std::iter::once(post.author.account.id)
                        .chain(post.mentions.iter().map(|m| m.id));
                    for id in ids {
                        if let Some(view) = participants.get(&id)
                            && !accounts.iter().any(|a| a.account.id == id)
                        {
                            accounts.push(view.clone());
                        }
                    }
                }
                let unread = posts
                    .iter()
                    .any(|p| p.id > read && p.post.author_id != me.id);
                out.push(ConversationView {
                    id: posts.iter().map(|p| p.id).min().unwrap_or(last.id),
                    context,
                    accounts,
                    last,
                    unread,
                });
            }
            if range.ascending {
                out.reverse();
            }
            out.truncate(range.limit as usize);
            if range.ascending {
                out.reverse();
            }
            Ok(out)
        })
        .await
}

/// Marks a conversation read (`hide` also hides it until a new message).
pub async fn mark_conversation(
    store: &Store,
    me: &Account,
    id: i64,
    hide: bool,
) -> Result<Option<ConversationView>, DomainError> {
    let page = PageQuery {
        max_id: None,
        since_id: None,
        min_id: None,
        limit: 80,
    };
    let Some(found) = conversations(store, me, page)
        .await?
        .into_iter()
        .find(|c| c.id == id)
    else {
        return Ok(None);
    };
    let (me_id, context, last) = (me.id, found.context.clone(), found.last.id);
    store
        .run(move |conn| {
            rows::mark_conversation(conn, me_id, &context, last, if hide { last } else { 0 })?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(Some(ConversationView {
        unread: false,
        ..found
    }))
}

/// The post an `Idempotency-Key` of `me` made before.
pub async fn idempotent_post(
    store: &Store,
    me: &Account,
    key: &str,
) -> Result<Option<String>, DomainError> {
    let (me_id, key) = (me.id, key.to_owned());
    store
        .run(move |conn| Ok(rows::idempotent_post(conn, me_id, &key)?))
        .await
}

pub async fn remember_idempotent_post(
    store: &Store,
    me: &Account,
    key: &str,
    object_ap_id: &str,
) -> Result<(), DomainError> {
    let (me_id, key, object_ap_id) = (me.id, key.to_owned(), object_ap_id.to_owned());
    store
        .run(move |conn| {
            rows::remember_idempotent_post(
                conn,
                me_id,
                &key,
                &object_ap_id,
                Utc::now().naive_utc(),
            )?;
            Ok(())
        })
        .await
}

/// The row id of a stored post (by its id URL).
pub async fn row_id_of(store: &Store, ap_id: &str) -> Result<Option<i64>, DomainError> {
    let ap_id = vec![ap_id.to_owned()];
    store
        .run(move |conn| Ok(rows::objects_by_ap_ids(conn, &ap_id)?.first().map(|r| r.id)))
        .await
}

/// `me`'s own reaction (`Like` or `Announce`) to a post, by its id.
pub async fn own_reaction(
    store: &Store,
    me: &Account,
    object_ap_id: &str,
    kind: &str,
) -> Result<Option<String>, DomainError> {
    let (me_id, ap_ids, kind) = (me.id, vec![object_ap_id.to_owned()], kind.to_owned());
    store
        .run(move |conn| {
            Ok(rows::reactions_by(conn, me_id, &ap_ids)?
                .into_iter()
                .find(|(_, k, _)| *k == kind)
                .map(|(_, _, id)| id))
        })
        .await
}

/// Whether a visibility is shown to everyone.
pub fn is_public(visibility: Visibility) -> bool {
    visibility == Visibility::Public
}

/// The id of `me`'s Follow of `followee_id`, if `me` follows or asked to.
pub async fn own_follow_id(
    store: &Store,
    me: &Account,
    followee_id: i64,
) -> Result<Option<String>, DomainError> {
    let me_id = me.id;
    store
        .run(move |conn| {
            Ok(crate::store::follows::find(conn, me_id, followee_id)?.map(|f| f.follow_ap_id))
        })
        .await
}

/// How many accounts wait for `me` to accept them.
pub async fn follow_request_count(store: &Store, me: &Account) -> Result<i64, DomainError> {
    let me_id = me.id;
    store
        .run(move |conn| Ok(rows::follow_requesters(conn, me_id)?.len() as i64))
        .await
}

/// The id of `me`'s Block of `blocked_id`, if it stands.
pub async fn own_block_id(
    store: &Store,
    me: &Account,
    blocked_id: i64,
) -> Result<Option<String>, DomainError> {
    let me_id = me.id;
    store
        .run(move |conn| Ok(rows::block_ap_id(conn, me_id, blocked_id)?))
        .await
}
