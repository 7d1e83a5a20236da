//! A site follows a person here the IndieWeb way: a follow post (an h-entry
//! whose `u-follow-of` names the person's profile, actor, h-feed or Atom
//! feed) sent as a Webmention becomes a Follow from the site's proxy actor,
//! answered as any follow (at once, or held while the person approves
//! followers by hand). When the post is gone (410) or no longer links, the
//! follow is undone. An accepted follow is offered the person's private
//! feed by Ticket Auth (the ledger queues the ticket).

use chrono::Utc;

use crate::domain::DomainError;
use crate::domain::accounts::{self, Account, AccountKind};
use crate::domain::ledger::{self, Bookkeeping, Effect};
use crate::domain::posts::{Activity, NewActivity};
use crate::federation::answers::answer_follow;
use crate::federation::builders::build_follow;
use crate::federation::ctx::Federation;
use crate::federation::documents::{
    ActivityDocument, ActivityKind, ActivityObject, stored_document,
};

/// The local person a `u-follow-of` URL names: their actor, profile
/// (`/@NAME`), h-feed (outbox) or Atom feed. Rooms are joined by replying,
/// and sites' proxies are not followed this way.
pub async fn person_followed(fed: &Federation, url: &str) -> Result<Option<Account>, DomainError> {
    let actor_or_profile = url
        .strip_suffix("/feed.atom")
        .or_else(|| url.strip_suffix("/outbox"))
        .unwrap_or(url);
    let name = match fed.urls.local_name_of(actor_or_profile) {
        Some((None | Some(crate::urls::USERS), name)) => name,
        _ => return Ok(None),
    };
    Ok(accounts::find_local(&fed.store, name)
        .await?
        .filter(|a| a.kind == AccountKind::Person && a.site_url.is_none() && !a.is_hidden()))
}

/// The proxy follows `person`; the mention is verified with the Follow in
/// the same transaction. Returns the Follow's id.
pub async fn follow(
    fed: &Federation,
    proxy: &Account,
    mention_id: i64,
    person: &Account,
) -> Result<String, DomainError> {
    let id = fed.urls.mint("activities");
    let document = build_follow(&id, proxy, &person.actor_url);
    let activity = NewActivity::minted(
        proxy,
        id.clone(),
        "Follow",
        Some(person.actor_url.clone()),
        vec![person.actor_url.clone()],
        document.to_string(),
        Utc::now().naive_utc(),
    );
    let answer = answer_follow(fed, proxy, person, &document).await?;
    let effect = Effect::Follow {
        followee: Box::new(person.clone()),
        answer: Some(answer),
    };
    let kept = vec![Bookkeeping::MentionVerified {
        mention_id,
        object_ap_id: id.clone(),
    }];
    ledger::record_with(&fed.store, &fed.urls, proxy, activity, effect, kept).await?;
    fed.wake.notify_one();
    Ok(id)
}

/// The follow post is gone: the proxy's Follow is undone (its tokens to
/// the person's feed are revoked and its subscriptions end with it).
pub async fn unfollow(fed: &Federation, follow: &Activity) -> Result<(), DomainError> {
    let (Some(proxy), Some(person)) = (
        accounts::find_by_id(&fed.store, follow.actor_id).await?,
        match &follow.object_ap_id {
            Some(url) => accounts::find_by_actor_url(&fed.store, url).await?,
            None => None,
        },
    ) else {
        return Ok(());
    };
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("activities");
    let object = ActivityObject::embed(stored_document(&follow.ap_id, &follow.document)?);
    let document = ActivityDocument::builder(ActivityKind::Undo, &id, &proxy.actor_url, object)
        .to([person.actor_url.clone()])
        .published(now)
        .build();
    let undo = NewActivity::minted(
        &proxy,
        id,
        "Undo",
        Some(follow.ap_id.clone()),
        vec![person.actor_url.clone()],
        document.to_json(),
        now,
    );
    let effect = Effect::Unfollow {
        followee_id: person.id,
    };
    match ledger::record(&fed.store, &fed.urls, &proxy, undo, effect).await {
        Ok(_) | Err(DomainError::NoSuchObject(_)) => {}
        Err(error) => return Err(error),
    }
    fed.wake.notify_one();
    Ok(())
}
