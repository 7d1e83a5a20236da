//! Posts (objects) and the activities that carry them: storing what was
//! received or published, applying updates and deletions by their owner,
//! and reading them back for a given viewer.

use chrono::{NaiveDateTime, Utc};

use super::DomainError;
use super::accounts::Account;
use super::audience::{Viewer, Visibility, may_see};
use crate::store::activities::{self as activity_rows, ActivityRow, NewActivityRow};
use crate::store::objects::{self as object_rows, NewObjectRow, ObjectRow};
use crate::store::{AnyConnection, Store, accounts as account_rows, follows, inbox_items};

/// An activity to store (received, or minted here).
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub ap_id: String,
    pub kind: String,
    pub actor_id: i64,
    pub object_ap_id: Option<String>,
    pub addressees: Vec<String>,
    pub visibility: Visibility,
    /// The activity as JSON, served back at its id.
    pub document: String,
    pub local: bool,
    pub published: NaiveDateTime,
}

impl NewActivity {
    /// An activity minted here by `author`; its visibility follows from its
    /// addressees.
    pub fn minted(
        author: &Account,
        ap_id: String,
        kind: &str,
        object_ap_id: Option<String>,
        addressees: Vec<String>,
        document: String,
        published: NaiveDateTime,
    ) -> Self {
        NewActivity {
            visibility: super::audience::classify(&addressees, author.followers_url.as_deref()),
            ap_id,
            kind: kind.to_owned(),
            actor_id: author.id,
            object_ap_id,
            addressees,
            document,
            local: true,
            published,
        }
    }
}

/// A post to store.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub ap_id: String,
    pub kind: String,
    pub author_id: i64,
    /// Sanitised HTML.
    pub content: Option<String>,
    pub summary: Option<String>,
    pub name: Option<String>,
    pub in_reply_to: Option<String>,
    pub context: Option<String>,
    pub url: Option<String>,
    pub addressees: Vec<String>,
    pub visibility: Visibility,
    pub document: String,
    pub local: bool,
    pub published: NaiveDateTime,
}

/// A stored post.
#[derive(Debug, Clone)]
pub struct Post {
    pub ap_id: String,
    pub kind: String,
    pub author_id: i64,
    pub content: Option<String>,
    pub summary: Option<String>,
    pub name: Option<String>,
    pub in_reply_to: Option<String>,
    pub context: Option<String>,
    pub url: Option<String>,
    pub visibility: Visibility,
    pub addressees: Vec<String>,
    pub document: String,
    pub local: bool,
    pub published: NaiveDateTime,
    pub updated: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
}

/// A stored activity.
#[derive(Debug, Clone)]
pub struct Activity {
    pub ap_id: String,
    pub kind: String,
    pub actor_id: i64,
    pub object_ap_id: Option<String>,
    pub visibility: Visibility,
    pub addressees: Vec<String>,
    pub document: String,
    pub local: bool,
    pub published: NaiveDateTime,
}

/// What came of applying a received activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Stored; filed in this many local inboxes.
    Stored { filed: usize },
    /// This activity id was seen before; nothing was done again.
    Replay,
    /// Nothing to do (e.g. deleting an object never seen).
    Ignored,
}

fn addressees_to_text(addressees: &[String]) -> String {
    serde_json::to_string(addressees).expect("strings serialise")
}

/// The stored addressees (written by [`addressees_to_text`]); an
/// unreadable list is logged and read as no addressee, which shows the
/// object to nobody but its author.
fn addressees_from_text(text: &str) -> Vec<String> {
    serde_json::from_str(text)
        .inspect_err(|error| tracing::error!(%error, "unreadable stored addressees"))
        .unwrap_or_default()
}

pub(crate) fn row_to_post(row: ObjectRow) -> Post {
    Post {
        ap_id: row.ap_id,
        kind: row.kind,
        author_id: row.author_id,
        content: row.content,
        summary: row.summary,
        name: row.name,
        in_reply_to: row.in_reply_to,
        context: row.context,
        url: row.url,
        visibility: Visibility::from_stored(&row.visibility),
        addressees: addressees_from_text(&row.addressed_to),
        document: row.document,
        local: row.local,
        published: row.published,
        updated: row.updated,
        deleted_at: row.deleted_at,
    }
}

pub(crate) fn row_to_activity(row: ActivityRow) -> Activity {
    Activity {
        ap_id: row.ap_id,
        kind: row.kind,
        actor_id: row.actor_id,
        object_ap_id: row.object_ap_id,
        visibility: Visibility::from_stored(&row.visibility),
        addressees: addressees_from_text(&row.addressed_to),
        document: row.document,
        local: row.local,
        published: row.published,
    }
}

/// Inserts an activity row; `None` on a replay.
pub(crate) fn insert_activity(
    conn: &mut AnyConnection,
    activity: &NewActivity,
) -> Result<Option<ActivityRow>, DomainError> {
    let addressed_to = addressees_to_text(&activity.addressees);
    Ok(activity_rows::insert(
        conn,
        &NewActivityRow {
            ap_id: &activity.ap_id,
            kind: &activity.kind,
            actor_id: activity.actor_id,
            object_ap_id: activity.object_ap_id.as_deref(),
            visibility: activity.visibility.as_str(),
            addressed_to: &addressed_to,
            document: &activity.document,
            local: activity.local,
            published: activity.published,
            created_at: Utc::now().naive_utc(),
        },
    )?)
}

pub(crate) fn insert_post(conn: &mut AnyConnection, post: &NewPost) -> Result<(), DomainError> {
    let addressed_to = addressees_to_text(&post.addressees);
    object_rows::insert(
        conn,
        &NewObjectRow {
            ap_id: &post.ap_id,
            kind: &post.kind,
            author_id: post.author_id,
            content: post.content.as_deref(),
            summary: post.summary.as_deref(),
            name: post.name.as_deref(),
            in_reply_to: post.in_reply_to.as_deref(),
            context: post.context.as_deref(),
            url: post.url.as_deref(),
            visibility: post.visibility.as_str(),
            addressed_to: &addressed_to,
            document: &post.document,
            local: post.local,
            published: post.published,
            created_at: Utc::now().naive_utc(),
        },
    )?;
    Ok(())
}

/// The changes a received Update carries.
#[derive(Debug, Clone)]
pub struct PostChanges {
    pub content: Option<String>,
    pub summary: Option<String>,
    pub name: Option<String>,
    pub document: String,
    pub updated: NaiveDateTime,
}

/// Whether `viewer` (an actor id, if the request was signed) may see a post
/// or activity with this addressing by `author`.
fn viewer_may_see(
    conn: &mut AnyConnection,
    visibility: Visibility,
    addressees: &[String],
    author: &Account,
    viewer: Option<&str>,
) -> Result<bool, DomainError> {
    let viewer = match viewer {
        None => None,
        Some(actor_url) => {
            let follows_author = match account_rows::find_by_actor_url(conn, actor_url)? {
                Some(row) => follows::find(conn, row.id, author.id)?.is_some_and(|f| f.accepted),
                None => false,
            };
            Some(Viewer {
                actor_url,
                follows_author,
            })
        }
    };
    Ok(may_see(visibility, addressees, &author.actor_url, viewer))
}

/// Whether `viewer` may see something by the account `author_id` with this
/// addressing (the author loaded from the store).
fn author_lets_see(
    conn: &mut AnyConnection,
    author_id: i64,
    visibility: Visibility,
    addressees: &[String],
    viewer: Option<&str>,
) -> Result<bool, DomainError> {
    let author = account_rows::find(conn, author_id)?
        .map(super::accounts::row_to_account)
        .ok_or(DomainError::NoSuchUser(author_id.to_string()))?;
    if author.is_hidden() {
        return Ok(false);
    }
    viewer_may_see(conn, visibility, addressees, &author, viewer)
}

/// What a viewer gets when dereferencing an id.
#[derive(Debug, Clone)]
pub enum Lookup<T> {
    Found(T),
    /// It existed and was deleted (410 with a tombstone).
    Gone {
        kind: String,
        deleted_at: NaiveDateTime,
    },
    /// Unknown, or not visible to this viewer (indistinguishable).
    NotFound,
}

/// A local post, if `viewer` may see it.
pub async fn local_post_for(
    store: &Store,
    ap_id: &str,
    viewer: Option<String>,
) -> Result<Lookup<Post>, DomainError> {
    let ap_id = ap_id.to_owned();
    store
        .run(move |conn| {
            let Some(row) = object_rows::find_by_ap_id(conn, &ap_id)? else {
                return Ok(Lookup::NotFound);
            };
            if !row.local {
                return Ok(Lookup::NotFound);
            }
            let post = row_to_post(row);
            if !author_lets_see(
                conn,
                post.author_id,
                post.visibility,
                &post.addressees,
                viewer.as_deref(),
            )? {
                return Ok(Lookup::NotFound);
            }
            Ok(match post.deleted_at {
                Some(deleted_at) => Lookup::Gone {
                    kind: post.kind,
                    deleted_at,
                },
                None => Lookup::Found(post),
            })
        })
        .await
}

/// A local activity, if `viewer` may see it.
pub async fn local_activity_for(
    store: &Store,
    ap_id: &str,
    viewer: Option<String>,
) -> Result<Lookup<Activity>, DomainError> {
    let ap_id = ap_id.to_owned();
    store
        .run(move |conn| {
            let Some(row) = activity_rows::find_by_ap_id(conn, &ap_id)? else {
                return Ok(Lookup::NotFound);
            };
            if !row.local {
                return Ok(Lookup::NotFound);
            }
            let activity = row_to_activity(row);
            if !author_lets_see(
                conn,
                activity.actor_id,
                activity.visibility,
                &activity.addressees,
                viewer.as_deref(),
            )? {
                return Ok(Lookup::NotFound);
            }
            Ok(Lookup::Found(activity))
        })
        .await
}

/// One page of a collection, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Kinds of activity an outbox lists.
pub const OUTBOX_KINDS: &[&str] = &["Create", "Announce"];

/// An account's outbox as `viewer` may see it: public items for anonymous
/// readers, more for a signed reader the items are addressed to.
pub async fn outbox_for(
    store: &Store,
    author: &Account,
    viewer: Option<String>,
    offset: i64,
    limit: i64,
) -> Result<Page<Activity>, DomainError> {
    let author = author.clone();
    store
        .run(move |conn| {
            let mut visible = Vec::new();
            for row in activity_rows::by_actor(conn, author.id, OUTBOX_KINDS)? {
                let activity = row_to_activity(row);
                if viewer_may_see(
                    conn,
                    activity.visibility,
                    &activity.addressees,
                    &author,
                    viewer.as_deref(),
                )? {
                    visible.push(activity);
                }
            }
            let total = visible.len() as i64;
            let items = visible
                .into_iter()
                .skip(offset.max(0) as usize)
                .take(limit.max(0) as usize)
                .collect();
            Ok(Page { items, total })
        })
        .await
}

/// The activities filed in a local account's inbox, newest first.
pub async fn inbox_of(
    store: &Store,
    account_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Page<Activity>, DomainError> {
    store
        .run(move |conn| {
            let total = inbox_items::count(conn, account_id)?;
            let items = inbox_items::list(conn, account_id, limit, offset)?
                .into_iter()
                .map(row_to_activity)
                .collect();
            Ok(Page { items, total })
        })
        .await
}

/// A stored post by id, local or remote, whoever may see it.
pub async fn find_post(store: &Store, ap_id: &str) -> Result<Option<Post>, DomainError> {
    let ap_id = ap_id.to_owned();
    store
        .run(move |conn| Ok(object_rows::find_by_ap_id(conn, &ap_id)?.map(row_to_post)))
        .await
}

/// Posts that reply to `object_ap_id`, oldest first, as `viewer` may see them.
pub async fn replies_for(
    store: &Store,
    object_ap_id: &str,
    viewer: Option<String>,
) -> Result<Vec<Post>, DomainError> {
    let object_ap_id = object_ap_id.to_owned();
    store
        .run(move |conn| {
            let rows = object_rows::replies_to(conn, &object_ap_id)?;
            visible_posts(conn, rows, viewer.as_deref())
        })
        .await
}

/// Posts of one conversation (`context`), oldest first, as `viewer` may see them.
pub async fn context_for(
    store: &Store,
    context: &str,
    viewer: Option<String>,
) -> Result<Vec<Post>, DomainError> {
    let context = context.to_owned();
    store
        .run(move |conn| {
            let rows = object_rows::in_context(conn, &context)?;
            visible_posts(conn, rows, viewer.as_deref())
        })
        .await
}

fn visible_posts(
    conn: &mut AnyConnection,
    rows: Vec<ObjectRow>,
    viewer: Option<&str>,
) -> Result<Vec<Post>, DomainError> {
    let mut visible = Vec::new();
    let moderated = super::moderation::PublicFilter::load(conn)?;
    for row in rows.into_iter().filter(|r| r.deleted_at.is_none()) {
        let Some(author) =
            account_rows::find(conn, row.author_id)?.map(super::accounts::row_to_account)
        else {
            continue;
        };
        if moderated.hides(&author, viewer.is_none()) {
            continue;
        }
        let post = row_to_post(row);
        if viewer_may_see(conn, post.visibility, &post.addressees, &author, viewer)? {
            visible.push(post);
        }
    }
    Ok(visible)
}

/// A stored activity by id, whoever may see it.
pub async fn find_activity(store: &Store, ap_id: &str) -> Result<Option<Activity>, DomainError> {
    let ap_id = ap_id.to_owned();
    store.run(move |conn| find_activity_in(conn, &ap_id)).await
}

/// [`find_activity`] inside a transaction the caller holds.
pub fn find_activity_in(
    conn: &mut AnyConnection,
    ap_id: &str,
) -> Result<Option<Activity>, DomainError> {
    Ok(activity_rows::find_by_ap_id(conn, ap_id)?.map(row_to_activity))
}

/// An account's public posts, newest first (pages and feeds).
pub async fn public_posts_of(
    store: &Store,
    author_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Page<Post>, DomainError> {
    posts_of(store, author_id, false, offset, limit).await
}

/// An account's posts newest first, as everyone reads them or, with
/// `followers`, as a follower does (a site that follows them reads these
/// by Ticket Auth): public and followers-only posts, never direct ones.
pub async fn posts_of(
    store: &Store,
    author_id: i64,
    followers: bool,
    offset: i64,
    limit: i64,
) -> Result<Page<Post>, DomainError> {
    let visible = object_rows::visibilities_for(followers);
    store
        .run(move |conn| {
            let total = object_rows::count_by_author_visible(conn, author_id, visible)?;
            let items = object_rows::by_author_visible(conn, author_id, visible, limit, offset)?
                .into_iter()
                .map(row_to_post)
                .collect();
            Ok(Page { items, total })
        })
        .await
}

/// The post `author_id` published from the page at `url` (IndieWeb sources).
pub async fn find_by_source(
    store: &Store,
    url: &str,
    author_id: i64,
) -> Result<Option<Post>, DomainError> {
    let url = url.to_owned();
    store
        .run(move |conn| {
            Ok(object_rows::find_by_url_and_author(conn, &url, author_id)?.map(row_to_post))
        })
        .await
}

/// An activity `author` published here.
pub async fn own_activity(
    store: &Store,
    author: &Account,
    ap_id: &str,
) -> Result<Option<Activity>, DomainError> {
    let (author_id, ap_id) = (author.id, ap_id.to_owned());
    store
        .run(move |conn| {
            Ok(activity_rows::find_by_ap_id(conn, &ap_id)?
                .filter(|a| a.local && a.actor_id == author_id)
                .map(row_to_activity))
        })
        .await
}

/// A post anyone may read: public, or addressed to or relayed by an open
/// room (whose conversation is public whatever each post's own
/// addressing). A post addressed to a room was accepted from a member, and
/// is shown before the relay job has run.
pub async fn find_shown_post(store: &Store, ap_id: &str) -> Result<Option<Post>, DomainError> {
    let ap_id = ap_id.to_owned();
    store
        .run(move |conn| {
            let Some(post) = object_rows::find_by_ap_id(conn, &ap_id)?.map(row_to_post) else {
                return Ok(None);
            };
            if post.visibility == Visibility::Public {
                return Ok(Some(post));
            }
            let is_open_room = |row: &account_rows::AccountRow| {
                row.domain.is_none()
                    && row.kind == super::accounts::AccountKind::Group.as_str()
                    && !row.manually_approves_followers
            };
            for address in &post.addressees {
                if account_rows::find_by_actor_url(conn, address)?.is_some_and(|r| is_open_room(&r))
                {
                    return Ok(Some(post));
                }
            }
            let relayed_by_open_room = match super::route::room_relaying(conn, &ap_id)? {
                Some(room_id) => {
                    account_rows::find(conn, room_id)?.is_some_and(|r| is_open_room(&r))
                }
                None => false,
            };
            Ok(relayed_by_open_room.then_some(post))
        })
        .await
}
