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
use crate::store::mastodon::{self as rows, IdRange, PostRow};
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
    /// What the stored document says beyond the columns, read once.
    pub facts: DocumentFacts,
}

/// A hashtag of a post: its name (without `#`) and link, when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashtag {
    pub name: String,
    pub href: Option<String>,
}

/// What a client shows of a post that only its stored document holds,
/// parsed once per post.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFacts {
    /// `href`s of its Mention tags.
    pub mentions: Vec<String>,
    pub hashtags: Vec<Hashtag>,
    /// The first language of its `contentMap`.
    pub language: Option<String>,
    /// Marked sensitive by its author.
    pub sensitive: bool,
    /// The public collection is in `to` (listed), not only in `cc`.
    pub listed: bool,
}

impl DocumentFacts {
    pub fn of(document: &str) -> Self {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(document) else {
            return DocumentFacts::default();
        };
        let tags = match value.get("tag") {
            Some(serde_json::Value::Array(tags)) => tags.iter().collect(),
            Some(tag) => vec![tag],
            None => Vec::new(),
        };
        let kind =
            |t: &serde_json::Value| t.get("type").and_then(|k| k.as_str()).map(str::to_owned);
        let text = |t: &serde_json::Value, key: &str| {
            t.get(key).and_then(|h| h.as_str()).map(str::to_owned)
        };
        DocumentFacts {
            mentions: tags
                .iter()
                .filter(|t| kind(t).as_deref() == Some("Mention"))
                .filter_map(|t| text(t, "href"))
                .collect(),
            hashtags: tags
                .iter()
                .filter(|t| kind(t).as_deref() == Some("Hashtag"))
                .filter_map(|t| {
                    Some(Hashtag {
                        name: text(t, "name")?.trim_start_matches('#').to_owned(),
                        href: text(t, "href"),
                    })
                })
                .collect(),
            language: value
                .get("contentMap")
                .and_then(|m| m.as_object())
                .and_then(|m| m.keys().next().cloned()),
            sensitive: value
                .get("sensitive")
                .and_then(|s| s.as_bool())
                .unwrap_or(false),
            listed: value.get("to").is_some_and(lists_public),
        }
    }
}

fn lists_public(to: &serde_json::Value) -> bool {
    match to {
        serde_json::Value::String(s) => super::audience::is_public_address(s),
        serde_json::Value::Array(items) => items
            .iter()
            .any(|i| i.as_str().is_some_and(super::audience::is_public_address)),
        _ => false,
    }
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

fn account_views(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, AccountView>, DomainError> {
    Ok(rows::accounts_with_counts(conn, ids)?
        .into_iter()
        .map(|(row, followers, following, statuses)| {
            let account = row_to_account(row);
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

fn viewer_id(viewer: Option<&Account>) -> i64 {
    viewer.map_or(-1, |v| v.id)
}

/// Keeps the posts `viewer` may see and completes them. The rows already
/// carry their counts (one statement for the page); the accounts the
/// visible posts mention take one more, and only when there are any.
fn complete(
    conn: &mut AnyConnection,
    viewer: Option<&Account>,
    rows_: Vec<PostRow>,
) -> Result<Vec<PostView>, DomainError> {
    let visible: Vec<(PostRow, Post, Account)> = rows_
        .into_iter()
        .filter_map(|row| {
            let post = row_to_post(row.object.clone());
            let author = row_to_account(row.author.clone());
            viewer_sees(&post, &author, viewer, row.viewer_follows_author)
                .then_some((row, post, author))
        })
        .collect();
    let facts: Vec<DocumentFacts> = visible
        .iter()
        .map(|(_, post, _)| DocumentFacts::of(&post.document))
        .collect();
    let all_hrefs: Vec<String> = facts.iter().flat_map(|f| f.mentions.clone()).collect();
    let mentioned: HashMap<String, Account> = if all_hrefs.is_empty() {
        HashMap::new()
    } else {
        rows::accounts_by_actor_urls(conn, &all_hrefs)?
            .into_iter()
            .map(row_to_account)
            .map(|a| (a.actor_url.clone(), a))
            .collect()
    };
    Ok(visible
        .into_iter()
        .zip(facts)
        .map(|((row, post, account), facts)| PostView {
            id: row.object.id,
            author: AccountView {
                account,
                followers: row.author_followers,
                following: row.author_following,
                statuses: row.author_statuses,
            },
            parent: row.parent_id.zip(row.parent_author_id),
            mentions: facts
                .mentions
                .iter()
                .filter_map(|h| mentioned.get(h).cloned())
                .collect(),
            favourites: row.favourites,
            reblogs: row.reblogs,
            replies: row.replies,
            favourited: row.favourited,
            reblogged: row.reblogged,
            facts,
            post,
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
            let found = rows::home(conn, me.id, page.range())?;
            Ok(in_order(complete(conn, Some(&me), found)?, page))
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
            let found = rows::public(conn, viewer_id(viewer.as_ref()), local_only, page.range())?;
            let listed = found
                .into_iter()
                .filter(|row| public_in_to(&row.object.document))
                .collect();
            Ok(in_order(complete(conn, viewer.as_ref(), listed)?, page))
        })
        .await
}

/// Whether a public post is listed (the public collection in `to`), not
/// unlisted (only in `cc`).
pub fn public_in_to(document: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|value| value.get("to").map(lists_public))
        .unwrap_or(false)
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
            let found = rows::by_author(conn, viewer_id(viewer.as_ref()), author_id, page.range())?;
            Ok(in_order(complete(conn, viewer.as_ref(), found)?, page))
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
            let Some(row) = rows::post_by_id(conn, viewer_id(viewer.as_ref()), id)? else {
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
            let reader = viewer_id(viewer.as_ref());
            let Some(row) = rows::post_by_id(conn, reader, id)? else {
                return Ok(None);
            };
            let Some(this) = complete(conn, viewer.as_ref(), vec![row])?.pop() else {
                return Ok(None);
            };
            let members = match &this.post.context {
                Some(context) => rows::posts_in_context(conn, reader, context)?,
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
            let views = account_views(conn, &ids)?;
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
            Ok(account_views(conn, &[row.id])?.into_values().next())
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

/// A page of an account's followers or followees (newest follow first),
/// with counts; each with the follow's row id, the page's key.
pub async fn follow_list(
    store: &Store,
    account_id: i64,
    followers: bool,
    page: PageQuery,
) -> Result<Vec<(i64, AccountView)>, DomainError> {
    store
        .run(move |conn| {
            let found = rows::follow_page(conn, account_id, followers, page.range())?;
            let ids: Vec<i64> = found.iter().map(|(_, row)| row.id).collect();
            let views = account_views(conn, &ids)?;
            let mut out: Vec<(i64, AccountView)> = found
                .iter()
                .filter(|(_, row)| row.suspended_at.is_none() && row.deleted_at.is_none())
                .filter_map(|(key, row)| views.get(&row.id).map(|v| (*key, v.clone())))
                .collect();
            if page.min_id.is_some() {
                out.reverse();
            }
            Ok(out)
        })
        .await
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
            let ids: Vec<i64> = found.iter().map(|r| r.id).collect();
            Ok(account_views(conn, &ids)?.into_values().collect())
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
            let actors = account_views(conn, &actor_ids)?;
            let object_ids: Vec<String> = items
                .iter()
                .filter_map(|(_, a)| a.object_ap_id.clone())
                .collect();
            let found = rows::posts_by_ap_ids(conn, me.id, &object_ids)?;
            let statuses: HashMap<String, PostView> = complete(conn, Some(&me), found)?
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

/// How many direct posts one step of the conversation walk reads.
const CONVERSATION_BATCH: i64 = 200;
/// How many steps one page may take: the bound on one request's work. A
/// page that reaches it ends early, and the next page goes on from there.
const CONVERSATION_STEPS: usize = 25;

/// The thread a post belongs to: its `context`, or the post itself.
fn thread_key(post: &Post) -> String {
    post.context.clone().unwrap_or_else(|| post.ap_id.clone())
}

/// The direct posts of these threads that `me` may see, newest first,
/// grouped by thread; `seen` are posts already read (threads without a
/// stored `context`).
fn load_threads(
    conn: &mut AnyConnection,
    me: &Account,
    keys: &[String],
    seen: Vec<PostView>,
) -> Result<HashMap<String, Vec<PostView>>, DomainError> {
    let found = rows::direct_in_contexts(conn, me.id, keys)?;
    let mut threads: HashMap<String, Vec<PostView>> = HashMap::new();
    for view in complete(conn, Some(me), found)?.into_iter().chain(seen) {
        let posts = threads.entry(thread_key(&view.post)).or_default();
        if !posts.iter().any(|p| p.id == view.id) {
            posts.push(view);
        }
    }
    for posts in threads.values_mut() {
        posts.sort_by_key(|p| std::cmp::Reverse(p.id));
    }
    Ok(threads)
}

/// Builds the conversations of these threads (each newest first).
fn conversation_views(
    conn: &mut AnyConnection,
    me: &Account,
    threads: Vec<(String, Vec<PostView>)>,
) -> Result<Vec<ConversationView>, DomainError> {
    let marks: HashMap<String, i64> = rows::conversation_marks(conn, me.id)?
        .into_iter()
        .map(|(context, read, _)| (context, read))
        .collect();
    let mut ids = HashSet::new();
    for post in threads.iter().flat_map(|(_, posts)| posts) {
        ids.insert(post.author.account.id);
        ids.extend(post.mentions.iter().map(|m| m.id));
    }
    ids.remove(&me.id);
    let ids: Vec<i64> = ids.into_iter().collect();
    let participants = if ids.is_empty() {
        HashMap::new()
    } else {
        account_views(conn, &ids)?
    };
    Ok(threads
        .into_iter()
        .filter_map(|(context, posts)| {
            let last = posts.first()?.clone();
            let read = marks.get(&context).copied().unwrap_or(0);
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
            Some(ConversationView {
                id: posts.iter().map(|p| p.id).min().unwrap_or(last.id),
                context,
                accounts,
                last,
                unread,
            })
        })
        .collect())
}

/// `me`'s direct-message threads, the most recently active first, paged
/// by the id of each thread's last post. It walks `me`'s direct posts
/// from the cursor in batches and reads each thread it meets whole, so a
/// page's work depends on its size, not on how many messages exist.
pub async fn conversations(
    store: &Store,
    me: &Account,
    page: PageQuery,
) -> Result<Vec<ConversationView>, DomainError> {
    let me = me.clone();
    store
        .run(move |conn| {
            let range = page.range();
            let hidden: HashMap<String, i64> = rows::conversation_marks(conn, me.id)?
                .into_iter()
                .map(|(context, _, hidden)| (context, hidden))
                .collect();
            let mut threads: HashMap<String, Vec<PostView>> = HashMap::new();
            let mut walk = IdRange {
                limit: CONVERSATION_BATCH,
                ..range
            };
            // The walk's position: every thread whose last post lies
            // between the cursor and here has been met.
            let mut reached = None;
            let shown = |key: &String, posts: &Vec<PostView>| {
                let last = posts[0].id;
                last < range.below
                    && last > range.above
                    && last > hidden.get(key).copied().unwrap_or(0)
            };
            for _ in 0..CONVERSATION_STEPS {
                let batch = rows::direct_for(conn, me.id, walk)?;
                let Some(edge) = batch.last().map(|row| row.object.id) else {
                    reached = None;
                    break;
                };
                let finished = (batch.len() as i64) < walk.limit;
                if range.ascending {
                    walk.above = edge;
                } else {
                    walk.below = edge;
                }
                reached = (!finished).then_some(edge);
                let views = complete(conn, Some(&me), batch)?;
                let mut keys: Vec<String> = Vec::new();
                for view in &views {
                    let key = thread_key(&view.post);
                    if !threads.contains_key(&key) && !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                if !keys.is_empty() {
                    let fresh: Vec<PostView> = views
                        .into_iter()
                        .filter(|v| keys.contains(&thread_key(&v.post)))
                        .collect();
                    threads.extend(load_threads(conn, &me, &keys, fresh)?);
                }
                let complete_threads = threads
                    .iter()
                    .filter(|(key, posts)| shown(key, posts))
                    .filter(|(_, posts)| !range.ascending || posts[0].id <= edge)
                    .count();
                if finished || complete_threads >= range.limit as usize {
                    break;
                }
            }
            let mut chosen: Vec<(String, Vec<PostView>)> = threads
                .into_iter()
                .filter(|(key, posts)| shown(key, posts))
                .filter(|(_, posts)| match (range.ascending, reached) {
                    (true, Some(edge)) => posts[0].id <= edge,
                    _ => true,
                })
                .collect();
            chosen.sort_by(|a, b| b.1[0].id.cmp(&a.1[0].id));
            if range.ascending {
                let skip = chosen.len().saturating_sub(range.limit as usize);
                chosen.drain(..skip);
            } else {
                chosen.truncate(range.limit as usize);
            }
            conversation_views(conn, &me, chosen)
        })
        .await
}

/// One of `me`'s conversations by its id (its first visible post's id).
fn conversation_by_id(
    conn: &mut AnyConnection,
    me: &Account,
    id: i64,
) -> Result<Option<ConversationView>, DomainError> {
    let Some(row) = rows::post_by_id(conn, me.id, id)? else {
        return Ok(None);
    };
    let Some(first) = complete(conn, Some(me), vec![row])?.pop() else {
        return Ok(None);
    };
    if first.post.visibility != Visibility::Direct {
        return Ok(None);
    }
    let key = thread_key(&first.post);
    let threads = load_threads(conn, me, std::slice::from_ref(&key), vec![first])?;
    let found = conversation_views(conn, me, threads.into_iter().collect())?;
    Ok(found.into_iter().find(|c| c.id == id))
}

/// Marks a conversation read (`hide` also hides it until a new message).
pub async fn mark_conversation(
    store: &Store,
    me: &Account,
    id: i64,
    hide: bool,
) -> Result<Option<ConversationView>, DomainError> {
    let me = me.clone();
    store
        .run(move |conn| {
            let Some(found) = conversation_by_id(conn, &me, id)? else {
                return Ok(None);
            };
            let last = found.last.id;
            rows::mark_conversation(
                conn,
                me.id,
                &found.context,
                last,
                if hide { last } else { 0 },
            )?;
            Ok(Some(ConversationView {
                unread: false,
                ..found
            }))
        })
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_read_once_for_everything_a_client_shows() {
        let facts = DocumentFacts::of(
            r##"{"to": "https://www.w3.org/ns/activitystreams#Public",
                "contentMap": {"de": "<p>Hallo</p>"}, "sensitive": true,
                "tag": [{"type": "Mention", "href": "https://b.example/users/bob"},
                        {"type": "Hashtag", "name": "#Rivers", "href": "https://b.example/tags/rivers"},
                        {"type": "Hashtag", "name": "deltas"}]}"##,
        );
        assert_eq!(facts.mentions, ["https://b.example/users/bob"]);
        assert_eq!(
            facts.hashtags,
            [
                Hashtag {
                    name: "Rivers".into(),
                    href: Some("https://b.example/tags/rivers".into())
                },
                Hashtag {
                    name: "deltas".into(),
                    href: None
                }
            ]
        );
        assert_eq!(facts.language.as_deref(), Some("de"));
        assert!(facts.sensitive && facts.listed);
        let unlisted = DocumentFacts::of(
            r#"{"to": [], "cc": ["as:Public"], "tag": {"type": "Mention", "href": "x"}}"#,
        );
        assert!(!unlisted.listed);
        assert_eq!(unlisted.mentions, ["x"]);
        assert_eq!(DocumentFacts::of("not json"), DocumentFacts::default());
    }
}
