//! Verifying a received Webmention (queued, one job per mention): fetch the
//! source, check that it links to the target, read its h-entry and author,
//! and publish it through the site's proxy actor — a Create, an Update when
//! the content changed, a Like or Announce, a Follow of a person here — or
//! withdraw it when the source is gone or no longer links.

use chrono::Utc;
use serde_json::Value;
use url::Url;

use super::convert::{Entry, EntryKind, entry_to_note, hentry_to_entry};
use super::links::page_facts;
use super::mf2::{self, AuthorRef, Item};
use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account, SiteProfile};
use crate::domain::actions::Action;
use crate::domain::audience::{PUBLIC, Visibility, classify};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{self, NewActivity, NewPost, PostChanges};
use crate::domain::webmentions::{self, Mention, MentionStatus};
use crate::federation::builders::{build_create, build_delete, build_tombstone};
use crate::federation::ctx::Federation;
use crate::federation::documents::{
    ActivityDocument, ActivityKind, ActivityObject, build_updated_note, stored_document,
};
use crate::federation::fetch::FetchError;

/// Largest source page read.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;
/// Redirects followed to reach a source.
pub const MAX_SOURCE_REDIRECTS: usize = 20;
/// Time allowed to fetch a source.
pub const SOURCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `webmention_verify` jobs.
pub struct Verify(pub Federation);

impl JobHandler for Verify {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let id = match serde_json::from_str(&job.payload) {
                Ok(Action::VerifyWebmention { id, .. }) => id,
                _ => {
                    return JobOutcome::Fail {
                        error: "unreadable payload".into(),
                    };
                }
            };
            match verify(&fed, id).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

pub(super) async fn record(
    fed: &Federation,
    mention: &Mention,
    status: MentionStatus,
    reason: Option<&str>,
    object: Option<String>,
) -> Result<(), DomainError> {
    if let Some(reason) = reason {
        tracing::info!(source = ?mention.source, target = ?mention.target, status = status.as_str(), reason, "webmention");
    }
    webmentions::record(
        &fed.store,
        mention.id,
        status,
        reason.map(str::to_owned),
        object,
    )
    .await
}

/// Verifies mention `id`; an `Err` means try again later.
pub async fn verify(fed: &Federation, id: i64) -> Result<JobOutcome, DomainError> {
    let Some(mention) = webmentions::by_id(&fed.store, id).await? else {
        return Ok(JobOutcome::Done);
    };
    if mention.private {
        return super::private_mention::verify(fed, &mention).await;
    }
    let Ok(source) = Url::parse(&mention.source) else {
        record(
            fed,
            &mention,
            MentionStatus::Rejected,
            Some("the source is not a URL"),
            None,
        )
        .await?;
        return Ok(JobOutcome::Done);
    };
    let page = match tokio::time::timeout(
        SOURCE_TIMEOUT,
        fed.fetcher
            .get_page(&source, MAX_SOURCE_BYTES + 1, MAX_SOURCE_REDIRECTS),
    )
    .await
    {
        Ok(Ok(page)) => page,
        // A slow source may be busy: try again. One that refuses connections
        // or has no address is refused now; its sender may send again.
        Ok(Err(FetchError::Timeout)) => {
            return Ok(JobOutcome::Retry {
                error: "the source timed out".into(),
                retry_after: None,
            });
        }
        Ok(Err(error)) => {
            let reason = match error {
                FetchError::ForbiddenAddress(_) => "the source is on a private address".to_owned(),
                other => format!("the source cannot be fetched: {other}"),
            };
            record(fed, &mention, MentionStatus::Rejected, Some(&reason), None).await?;
            return Ok(JobOutcome::Done);
        }
        Err(_) => {
            return Ok(JobOutcome::Retry {
                error: "the source timed out".into(),
                retry_after: None,
            });
        }
    };
    if page.status == http::StatusCode::GONE {
        withdraw(fed, &mention, "the source is gone (410)").await?;
        return Ok(JobOutcome::Done);
    }
    if page.status.is_server_error() {
        return Ok(JobOutcome::Retry {
            error: format!("the source answered {}", page.status),
            retry_after: None,
        });
    }
    if !page.status.is_success() {
        let reason = format!("the source answered {}", page.status);
        record(fed, &mention, MentionStatus::Rejected, Some(&reason), None).await?;
        return Ok(JobOutcome::Done);
    }
    if page.body.len() > MAX_SOURCE_BYTES {
        record(
            fed,
            &mention,
            MentionStatus::Rejected,
            Some("the source is larger than 1 MiB"),
            None,
        )
        .await?;
        return Ok(JobOutcome::Done);
    }
    let html = String::from_utf8_lossy(&page.body);
    let facts = page_facts(&html, &page.final_url);
    if facts.gone {
        withdraw(fed, &mention, "the source says it is gone (410)").await?;
        return Ok(JobOutcome::Done);
    }
    if !facts.links_to(&mention.target) {
        if mention.object_ap_id.is_some() {
            withdraw(fed, &mention, "the source no longer links to the target").await?;
        } else {
            record(
                fed,
                &mention,
                MentionStatus::Rejected,
                Some("the source does not link to the target"),
                None,
            )
            .await?;
        }
        return Ok(JobOutcome::Done);
    }
    let document = match mf2::parse_blocking(
        html.into_owned(),
        page.final_url.clone(),
        fed.mf2_limits,
    )
    .await
    {
        Ok(document) => document,
        Err(error) => {
            let reason = format!("the source cannot be read: {error}");
            record(fed, &mention, MentionStatus::Rejected, Some(&reason), None).await?;
            return Ok(JobOutcome::Done);
        }
    };
    let entries = mf2::find_items(&document, "h-entry");
    let Some(entry_item) = entries
        .iter()
        .find(|e| {
            e.first_url("url").as_deref() == Some(page.final_url.as_str())
                || e.first_url("url").as_deref() == Some(mention.source.as_str())
        })
        .or(entries.first())
        .copied()
    else {
        record(
            fed,
            &mention,
            MentionStatus::Verified,
            Some("no h-entry: nothing to relay"),
            None,
        )
        .await?;
        return Ok(JobOutcome::Done);
    };
    let mut entry = hentry_to_entry(&entry_item.to_json());
    // The page speaks for the site it was served from: the origin of the
    // final URL after redirects, not of the URL the sender named (an open
    // redirect on a victim's site must not make the page the victim's).
    let same_site =
        |url: &str| Url::parse(url).is_ok_and(|u| u.origin() == page.final_url.origin());
    entry.url = entry.url.filter(|u| same_site(u));
    let source_url = if same_site(&mention.source) {
        mention.source.clone()
    } else {
        page.final_url.to_string()
    };
    let site = site_profile(fed, &document, entry_item, &page.final_url).await;
    let proxy = crate::federation::actor_cache::ensure_proxy(fed, site).await?;
    let is_follow = matches!(entry.kind, EntryKind::Follow(_));
    let (object, recorded) = match publish_entry(fed, &proxy, &mention, entry, source_url).await {
        Ok(published) => published,
        Err(DomainError::NotMember(room)) => {
            let reason = format!(
                "not a member of the room {room} (banned, or awaiting the owner's approval)"
            );
            record(fed, &mention, MentionStatus::Rejected, Some(&reason), None).await?;
            return Ok(JobOutcome::Done);
        }
        Err(DomainError::NoSuchObject(followed)) if is_follow => {
            let reason = format!("{followed} is not a person here to follow");
            record(fed, &mention, MentionStatus::Rejected, Some(&reason), None).await?;
            return Ok(JobOutcome::Done);
        }
        Err(error) => return Err(error),
    };
    if !recorded {
        record(fed, &mention, MentionStatus::Verified, None, Some(object)).await?;
    }
    fed.wake.notify_one();
    Ok(JobOutcome::Done)
}

fn card_profile(card: &Item, origin: &Url) -> (Option<String>, Option<String>) {
    // An author URL elsewhere than the source's site is not trusted: a page
    // cannot speak for another site.
    let same_site = |url: &str| Url::parse(url).is_ok_and(|u| u.origin() == origin.origin());
    let photo = card
        .first_url("photo")
        .filter(|u| crate::urls::is_http_url(u));
    let claims_elsewhere = card.first_url("url").is_some_and(|u| !same_site(&u));
    if claims_elsewhere {
        return (None, None);
    }
    (card.first_text("name"), photo)
}

/// The author of the entry, per the authorship algorithm: on the page, on
/// the author page it points to, else the site's home page. The site is the
/// origin of `page_url`, where the page was finally served from.
pub(super) async fn site_profile(
    fed: &Federation,
    document: &mf2::Document,
    entry: &Item,
    page_url: &Url,
) -> SiteProfile {
    let mut origin = page_url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    let domain = crate::config::host_of(page_url).to_ascii_lowercase();
    let mut profile = SiteProfile {
        site_url: origin.to_string(),
        domain,
        name: None,
        photo: None,
    };
    let card = match mf2::entry_author(document, entry, page_url) {
        Some(AuthorRef::Card(card)) => Some(card),
        Some(AuthorRef::Url(url)) => fetch_card(fed, &url).await,
        None => None,
    };
    let card = match card {
        Some(card) => Some(card),
        None => fetch_card(fed, origin.as_str()).await,
    };
    if let Some(card) = card {
        (profile.name, profile.photo) = card_profile(&card, &origin);
        // A card that only names its author's page: complete it from there.
        if profile.photo.is_none()
            && let Some(url) = card.first_url("url")
            && let Some(home) = fetch_card(fed, &url).await
        {
            let (name, photo) = card_profile(&home, &origin);
            profile.name = profile.name.or(name);
            profile.photo = photo;
        }
    }
    profile
}

async fn fetch_card(fed: &Federation, url: &str) -> Option<Item> {
    let url = Url::parse(url).ok()?;
    let page = fed.fetcher.get_page(&url, MAX_SOURCE_BYTES, 5).await.ok()?;
    if !page.status.is_success() {
        return None;
    }
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let document = mf2::parse_blocking(html, page.final_url.clone(), fed.mf2_limits)
        .await
        .ok()?;
    mf2::representative_hcard(&document, &page.final_url)
}

/// The actor id of the author of a stored post.
async fn author_of(fed: &Federation, object: &str) -> Result<Option<String>, DomainError> {
    let Some(post) = posts::find_post(&fed.store, object).await? else {
        return Ok(None);
    };
    Ok(accounts::find_by_id(&fed.store, post.author_id)
        .await?
        .map(|a| a.actor_url))
}

/// Publishes what the entry says, through the proxy; returns the id stored
/// on the mention (the post, or the Like/Announce activity), and whether
/// the mention was marked verified in the same transaction as the activity.
async fn publish_entry(
    fed: &Federation,
    proxy: &Account,
    mention: &Mention,
    entry: Entry,
    page_url: String,
) -> Result<(String, bool), DomainError> {
    let verified = |object_ap_id: &str| ledger::Bookkeeping::MentionVerified {
        mention_id: mention.id,
        object_ap_id: object_ap_id.to_owned(),
    };
    let now = Utc::now().naive_utc();
    let source_url = entry.url.clone().unwrap_or(page_url);
    let followers = proxy.followers_url.clone().unwrap_or_default();
    match &entry.kind {
        EntryKind::Follow(followed) => {
            let Some(person) = super::follow_post::person_followed(fed, followed).await? else {
                return Err(DomainError::NoSuchObject(followed.clone()));
            };
            let id = super::follow_post::follow(fed, proxy, mention.id, &person).await?;
            Ok((id, true))
        }
        EntryKind::Like(object) | EntryKind::Announce(object) => {
            if let Some(existing) = mention.object_ap_id.clone() {
                return Ok((existing, false));
            }
            let author = author_of(fed, object).await?;
            let (kind, to, cc) = match entry.kind {
                EntryKind::Like(_) => (
                    ActivityKind::Like,
                    author.into_iter().collect::<Vec<_>>(),
                    Vec::new(),
                ),
                _ => (
                    ActivityKind::Announce,
                    vec![PUBLIC.to_owned()],
                    [Some(followers), author].into_iter().flatten().collect(),
                ),
            };
            let id = fed.urls.mint("activities");
            let document = ActivityDocument::builder(
                kind,
                &id,
                &proxy.actor_url,
                ActivityObject::Id(object.clone()),
            )
            .to(to)
            .cc(cc)
            .url(&source_url)
            .published(now)
            .build();
            let activity = NewActivity::minted(
                proxy,
                id.clone(),
                kind.as_str(),
                Some(object.clone()),
                document.addressees(),
                document.to_json(),
                now,
            );
            let effect = Effect::React {
                object_ap_id: object.clone(),
            };
            let kept = vec![verified(&id)];
            ledger::record_with(&fed.store, &fed.urls, proxy, activity, effect, kept).await?;
            Ok((id, true))
        }
        EntryKind::Note | EntryKind::Article => {
            if let Some(existing) = posts::find_by_source(&fed.store, &source_url, proxy.id).await?
            {
                let updated = update_post(
                    fed,
                    proxy,
                    &existing,
                    &entry,
                    now,
                    verified(&existing.ap_id),
                )
                .await?;
                return Ok((existing.ap_id, updated));
            }
            // A reply to a room: the site joins it (through its proxy) and
            // posts to it; the room relays the post to its members.
            let room = room_addressed(fed, &mention.target, &entry.in_reply_to).await?;
            let mut entry = entry;
            let mut kept = Vec::new();
            if let Some(room) = &room {
                // An open room is joined with the post, in its transaction;
                // a members-only one keeps the request for its owner.
                if room.manually_approves_followers {
                    if !crate::rooms::membership::join(&fed.store, room, proxy).await? {
                        return Err(DomainError::NotMember(room.username.clone()));
                    }
                } else {
                    kept.push(ledger::Bookkeeping::JoinOpenRoom {
                        room_id: room.id,
                        follow_ap_id: format!("{}#join-{}", proxy.actor_url, room.username),
                    });
                }
                let room_urls = [
                    room.actor_url.clone(),
                    room.profile_url.clone().unwrap_or_default(),
                ];
                entry.in_reply_to.retain(|url| !room_urls.contains(url));
            }
            let mut cc = vec![followers];
            // A reply reaches the replied-to author and, as a thread's
            // audience, a local author's followers (inbox forwarding).
            for reply in &entry.in_reply_to {
                if let Some(post) = posts::find_post(&fed.store, reply).await?
                    && let Some(author) = accounts::find_by_id(&fed.store, post.author_id).await?
                {
                    cc.push(author.actor_url.clone());
                    if author.is_local()
                        && let Some(followers) = author.followers_url
                    {
                        cc.push(followers);
                    }
                }
            }
            // A mention of a person here (not a reply): tell them.
            if let Some(person) = accounts::find_by_actor_url(&fed.store, &mention.target)
                .await?
                .or(match fed.urls.local_name_of(&mention.target) {
                    Some((None, name)) => accounts::find_local(&fed.store, name).await?,
                    _ => None,
                })
            {
                cc.push(person.actor_url);
            }
            cc.dedup();
            let to = match &room {
                Some(room) if room.manually_approves_followers => {
                    cc.clear();
                    vec![room.actor_url.clone()]
                }
                Some(room) => vec![room.actor_url.clone(), PUBLIC.to_owned()],
                None => vec![PUBLIC.to_owned()],
            };
            let visibility = {
                let addressees: Vec<String> = to.iter().chain(&cc).cloned().collect();
                classify(&addressees, proxy.followers_url.as_deref())
            };
            let addressing = Addressing { to, cc, visibility };
            let id = create_from_entry(fed, proxy, entry, source_url, addressing, kept, verified)
                .await?;
            Ok((id, true))
        }
    }
}

/// The local room a mention is about: its target, or a room the entry
/// replies to.
async fn room_addressed(
    fed: &Federation,
    target: &str,
    in_reply_to: &[String],
) -> Result<Option<Account>, DomainError> {
    for url in std::iter::once(target).chain(in_reply_to.iter().map(String::as_str)) {
        let found = match fed.urls.local_name_of(url) {
            Some((Some(crate::urls::ROOMS) | None, name)) => {
                accounts::find_local(&fed.store, name).await?
            }
            _ => None,
        };
        if let Some(room) = found.filter(|a| a.kind == crate::domain::accounts::AccountKind::Group)
        {
            return Ok(Some(room));
        }
    }
    Ok(None)
}

/// A re-sent mention whose content changed becomes an Update.
pub(super) async fn update_post(
    fed: &Federation,
    proxy: &Account,
    existing: &posts::Post,
    entry: &Entry,
    now: chrono::NaiveDateTime,
    verified: ledger::Bookkeeping,
) -> Result<bool, DomainError> {
    if existing.content == entry.content_html && existing.name == entry.name {
        return Ok(false);
    }
    let stored = stored_document(&existing.ap_id, &existing.document)?;
    let content = entry.content_html.clone().unwrap_or_default();
    let document = build_updated_note(&stored, &content, entry.name.as_deref(), now);
    let id = fed.urls.mint("activities");
    let listed = |field: &str| -> Vec<String> {
        document
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let update = ActivityDocument::builder(
        ActivityKind::Update,
        &id,
        &proxy.actor_url,
        ActivityObject::embed(document.clone()),
    )
    .to(listed("to"))
    .cc(listed("cc"))
    .published(now)
    .build();
    let activity = NewActivity {
        ap_id: id,
        kind: "Update".into(),
        actor_id: proxy.id,
        object_ap_id: Some(existing.ap_id.clone()),
        addressees: existing.addressees.clone(),
        visibility: existing.visibility,
        document: update.to_json(),
        local: true,
        published: now,
    };
    let changes = PostChanges {
        content: entry.content_html.clone(),
        summary: entry.summary.clone(),
        name: entry.name.clone(),
        document: document.to_string(),
        updated: now,
    };
    let effect = Effect::UpdatePost {
        object_ap_id: existing.ap_id.clone(),
        changes,
    };
    let kept = vec![verified];
    ledger::record_with(&fed.store, &fed.urls, proxy, activity, effect, kept).await?;
    Ok(true)
}

/// The source is gone or no longer links: what it made here is withdrawn
/// (a Delete of the post, an Undo of a Like or Announce).
pub(super) async fn withdraw(
    fed: &Federation,
    mention: &Mention,
    reason: &str,
) -> Result<(), DomainError> {
    let Some(made) = mention.object_ap_id.clone() else {
        record(fed, mention, MentionStatus::Deleted, Some(reason), None).await?;
        return Ok(());
    };
    let now = Utc::now().naive_utc();
    if let Some(post) = posts::find_post(&fed.store, &made)
        .await?
        .filter(|p| p.deleted_at.is_none())
        && let Some(proxy) = accounts::find_by_id(&fed.store, post.author_id).await?
    {
        let id = fed.urls.mint("activities");
        let tombstone = build_tombstone(&made, &post.kind, now);
        let others: Vec<String> = post
            .addressees
            .iter()
            .filter(|a| a.as_str() != PUBLIC)
            .cloned()
            .collect();
        // A private note's Delete goes to its addressees only.
        let (to, cc) = if post.visibility == crate::domain::audience::Visibility::Direct {
            (others, Vec::new())
        } else {
            (vec![PUBLIC.to_owned()], others)
        };
        let document = build_delete(&id, &proxy, &tombstone, &to, &cc);
        let delete = NewActivity {
            ap_id: id,
            kind: "Delete".into(),
            actor_id: proxy.id,
            object_ap_id: Some(made.clone()),
            addressees: post.addressees.clone(),
            visibility: post.visibility,
            document: document.to_string(),
            local: true,
            published: now,
        };
        let effect = Effect::DeletePost {
            object_ap_id: made.clone(),
        };
        ledger::record(&fed.store, &fed.urls, &proxy, delete, effect).await?;
    } else if let Some(follow) = posts::find_activity(&fed.store, &made)
        .await?
        .filter(|a| a.kind == "Follow")
    {
        // A follow post gone: the site unfollows.
        super::follow_post::unfollow(fed, &follow).await?;
    } else if let Some(reaction) = posts::find_activity(&fed.store, &made).await?
        && matches!(reaction.kind.as_str(), "Like" | "Announce")
        && let Some(proxy) = accounts::find_by_id(&fed.store, reaction.actor_id).await?
    {
        let id = fed.urls.mint("activities");
        let object = ActivityObject::embed(stored_document(&reaction.ap_id, &reaction.document)?);
        let document = ActivityDocument::builder(ActivityKind::Undo, &id, &proxy.actor_url, object)
            .to(reaction.addressees.clone())
            .published(now)
            .build();
        let undo = NewActivity {
            ap_id: id,
            kind: "Undo".into(),
            actor_id: proxy.id,
            object_ap_id: Some(made.clone()),
            addressees: reaction.addressees.clone(),
            visibility: reaction.visibility,
            document: document.to_json(),
            local: true,
            published: now,
        };
        let effect = Effect::Unreact {
            reaction_ap_id: made.clone(),
        };
        match ledger::record(&fed.store, &fed.urls, &proxy, undo, effect).await {
            Ok(_) | Err(DomainError::NoSuchObject(_)) => {}
            Err(error) => return Err(error),
        }
    }
    // A site leaves a room by deleting the post that joined it.
    if let Some(room) = room_addressed(fed, &mention.target, &[]).await?
        && let Ok(source) = Url::parse(&mention.source)
    {
        let domain = crate::config::host_of(&source).to_ascii_lowercase();
        if let Some(proxy) = accounts::find_proxy(&fed.store, &domain).await? {
            crate::rooms::membership::leave(&fed.store, room.id, proxy.id).await?;
        }
    }
    record(
        fed,
        mention,
        MentionStatus::Deleted,
        Some(reason),
        Some(made),
    )
    .await?;
    fed.wake.notify_one();
    Ok(())
}

/// Who a new post made from a site's entry is addressed to.
pub(super) struct Addressing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub visibility: Visibility,
}

/// Records a verified `entry` as a new post by the site's `proxy`: a Create
/// of a Note addressed as `addressing`, kept with `kept` and the mention
/// marked verified (`verified`) in the same transaction. Returns the
/// post's id.
pub(super) async fn create_from_entry(
    fed: &Federation,
    proxy: &Account,
    mut entry: Entry,
    source_url: String,
    addressing: Addressing,
    mut kept: Vec<ledger::Bookkeeping>,
    verified: impl Fn(&str) -> ledger::Bookkeeping,
) -> Result<String, DomainError> {
    let Addressing { to, cc, visibility } = addressing;
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("objects");
    let activity_id = fed.urls.mint("activities");
    let published = entry.published.unwrap_or(now);
    entry.url = Some(source_url.clone());
    let note = entry_to_note(&id, &proxy.actor_url, &entry, &to, &cc, published);
    let create = build_create(&activity_id, proxy, &note);
    let addressees: Vec<String> = to.into_iter().chain(cc).collect();
    let post = NewPost {
        ap_id: id.clone(),
        kind: note["type"].as_str().unwrap_or("Note").to_owned(),
        author_id: proxy.id,
        content: entry.content_html,
        summary: entry.summary,
        name: entry.name,
        in_reply_to: entry.in_reply_to.into_iter().next(),
        context: None,
        url: Some(source_url),
        addressees: addressees.clone(),
        visibility,
        document: note.to_string(),
        local: true,
        published,
    };
    let activity = NewActivity {
        ap_id: activity_id,
        kind: "Create".into(),
        actor_id: proxy.id,
        object_ap_id: Some(id.clone()),
        addressees,
        visibility,
        document: create.to_string(),
        local: true,
        published: now,
    };
    kept.push(verified(&id));
    let effect = Effect::Post(post);
    ledger::record_with(&fed.store, &fed.urls, proxy, activity, effect, kept).await?;
    Ok(id)
}
