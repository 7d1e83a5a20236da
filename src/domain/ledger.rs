//! The ledger: every activity, from every way in (a signed inbox POST, a
//! client's outbox, a site's proxy, a room), is recorded here in one
//! transaction: deduplicated by activity id, authorised (the owner of the
//! object, a member of the room), applied, and routed — [`super::route`]
//! decides what it causes, and the consequences (inbox items, deliveries,
//! room relays, Webmentions, WebSub pushes, private notes to sites) are
//! written in the same transaction. Protocol code only translates.

use chrono::{NaiveDateTime, Utc};

use super::DomainError;
use super::accounts::Account;
use super::actions::{self, Action};
use super::audience::Visibility;
use super::follows;
use super::posts::{Applied, NewActivity, NewPost, PostChanges, insert_activity, insert_post};
use super::route::{self, Subject, Verb};
use crate::store::follows::{self as follow_rows, NewFollowRow};
use crate::store::objects::{self as object_rows, ObjectChanges};
use crate::store::reactions::{self as reaction_rows, NewReactionRow};
use crate::store::{AnyConnection, Store, blocks, inbox_items};
use crate::urls::Urls;

/// How a local account answers a follow request.
#[derive(Debug, Clone)]
pub enum FollowAnswer {
    /// Accept at once: this Accept activity (from the followee) is recorded
    /// and routed to the follower.
    Accept(NewActivity),
    /// Refuse: this Reject activity is recorded and routed.
    Reject(NewActivity),
    /// Hold the request for the followee to decide.
    Pending,
}

/// What an activity does to the state here, besides being stored.
#[derive(Debug, Clone)]
pub enum Effect {
    None,
    /// A Create: store the post.
    Post(NewPost),
    /// An Update of the sender's own post.
    UpdatePost {
        object_ap_id: String,
        changes: PostChanges,
    },
    /// A Delete of the sender's own post: it becomes a tombstone and leaves
    /// every inbox it was filed in.
    DeletePost {
        object_ap_id: String,
    },
    /// A Like or Announce of an object.
    React {
        object_ap_id: String,
    },
    /// The Undo of the sender's Like or Announce.
    Unreact {
        reaction_ap_id: String,
    },
    /// A Follow of `followee`; `answer` is given when the followee is local
    /// (it takes effect here, directly), `None` when it is remote.
    Follow {
        followee: Box<Account>,
        answer: Option<FollowAnswer>,
    },
    /// The Undo of the sender's Follow.
    Unfollow {
        followee_id: i64,
    },
    /// A Block: follows both ways end.
    Block {
        blocked_id: i64,
    },
    /// The Undo of the sender's Block.
    Unblock {
        blocked_id: i64,
    },
    /// An Accept or Reject of a follow request the sender received.
    AnswerFollow {
        follow_ap_id: String,
        accept: bool,
    },
}

/// What the way in keeps with the activity, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bookkeeping {
    /// The sender (a site's proxy) joins an open room by posting to it.
    JoinOpenRoom { room_id: i64, follow_ap_id: String },
    /// The Webmention behind the activity is verified and made this object.
    MentionVerified {
        mention_id: i64,
        object_ap_id: String,
    },
    /// A site admitted to a members-only room is offered its feed with a
    /// ticket (Ticket Auth).
    TicketToSite { room_id: i64, proxy_id: i64 },
}

/// Records `activity` by `sender` with its effect and all its consequences
/// in one transaction. An activity minted here whose id exists already is a
/// [`DomainError::Conflict`]; a received one is a [`Applied::Replay`].
pub async fn record(
    store: &Store,
    urls: &Urls,
    sender: &Account,
    activity: NewActivity,
    effect: Effect,
) -> Result<Applied, DomainError> {
    record_with(store, urls, sender, activity, effect, Vec::new()).await
}

/// [`record`], keeping the way in's `bookkeeping` in the same transaction.
pub async fn record_with(
    store: &Store,
    urls: &Urls,
    sender: &Account,
    activity: NewActivity,
    effect: Effect,
    bookkeeping: Vec<Bookkeeping>,
) -> Result<Applied, DomainError> {
    let (sender, urls) = (sender.clone(), urls.clone());
    store
        .write(move |conn| {
            keep(conn, &sender, &bookkeeping)?;
            record_in(conn, &urls, &sender, &activity, &effect)
        })
        .await
}

fn keep(
    conn: &mut AnyConnection,
    sender: &Account,
    bookkeeping: &[Bookkeeping],
) -> Result<(), DomainError> {
    let now = Utc::now().naive_utc();
    for item in bookkeeping {
        match item {
            Bookkeeping::JoinOpenRoom {
                room_id,
                follow_ap_id,
            } => {
                if blocks::exists(conn, *room_id, sender.id)? {
                    return Err(DomainError::NotMember(format!("room {room_id} (banned)")));
                }
                if follow_rows::find(conn, sender.id, *room_id)?.is_none() {
                    follow_rows::upsert(
                        conn,
                        &NewFollowRow {
                            follower_id: sender.id,
                            followee_id: *room_id,
                            follow_ap_id,
                            accepted: true,
                            created_at: now,
                        },
                    )?;
                }
            }
            Bookkeeping::MentionVerified {
                mention_id,
                object_ap_id,
            } => {
                crate::store::webmentions::set_status(
                    conn,
                    *mention_id,
                    super::webmentions::MentionStatus::Verified.as_str(),
                    None,
                    Some(object_ap_id),
                    now,
                )?;
            }
            Bookkeeping::TicketToSite { room_id, proxy_id } => {
                actions::enqueue(
                    conn,
                    &[Action::SendTicket {
                        room_id: *room_id,
                        proxy_id: *proxy_id,
                        accept: None,
                    }],
                )?;
            }
        }
    }
    Ok(())
}

/// [`record`] inside a transaction the caller holds.
pub fn record_in(
    conn: &mut AnyConnection,
    urls: &Urls,
    sender: &Account,
    activity: &NewActivity,
    effect: &Effect,
) -> Result<Applied, DomainError> {
    record_routed(conn, urls, sender, activity, effect, FanOutBy::Job).map(|(applied, _)| applied)
}

/// [`record_in`] for a local sender whose caller delivers at once (push
/// first): the deliveries of the activity's fan-out are read in this
/// transaction and returned, for the caller to queue (leased to itself)
/// in it, instead of a fan-out job being queued. When an addressee must
/// first be resolved over the network, the fan-out job is queued as usual
/// and no delivery is returned.
pub fn record_delivering_in(
    conn: &mut AnyConnection,
    urls: &Urls,
    sender: &Account,
    activity: &NewActivity,
    effect: &Effect,
) -> Result<(Applied, Vec<Action>), DomainError> {
    record_routed(conn, urls, sender, activity, effect, FanOutBy::Caller)
}

/// Who turns a local sender's fan-out into deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FanOutBy {
    /// A `fanout` job, queued in the transaction.
    Job,
    /// The caller, given the deliveries.
    Caller,
}

fn record_routed(
    conn: &mut AnyConnection,
    urls: &Urls,
    sender: &Account,
    activity: &NewActivity,
    effect: &Effect,
    fan_out_by: FanOutBy,
) -> Result<(Applied, Vec<Action>), DomainError> {
    let local = activity.local;
    // Authorise what needs the stored object before anything is written.
    let target = match effect {
        Effect::UpdatePost { object_ap_id, .. } | Effect::DeletePost { object_ap_id } => {
            let object = object_rows::find_by_ap_id(conn, object_ap_id)?
                .filter(|o| !local || (o.local && o.deleted_at.is_none()));
            let Some(object) = object else {
                return if local {
                    Err(DomainError::NoSuchObject(object_ap_id.clone()))
                } else {
                    Ok((Applied::Ignored, Vec::new()))
                };
            };
            if object.author_id != sender.id {
                return Err(DomainError::NotOwner);
            }
            Some(object)
        }
        _ => None,
    };
    if let Effect::AnswerFollow { follow_ap_id, .. } = effect {
        let follow = follow_rows::find_by_ap_id(conn, follow_ap_id)?;
        match follow {
            Some(f) if f.followee_id != sender.id && !local => {
                return Err(DomainError::NotOwner);
            }
            Some(f) if f.followee_id == sender.id && !(local && f.accepted) => {}
            _ if local => return Err(DomainError::NoSuchObject(follow_ap_id.clone())),
            _ => return Ok((Applied::Ignored, Vec::new())),
        }
    }
    let Some(stored) = insert_activity(conn, activity)? else {
        return if local {
            Err(DomainError::Conflict(activity.ap_id.clone()))
        } else {
            Ok((Applied::Replay, Vec::new()))
        };
    };
    let changed = apply(conn, sender, activity, effect, target.as_ref())?;

    // Route: the post's own visibility decides for updates and deletes.
    let visibility = target
        .as_ref()
        .map(|o| Visibility::from_stored(&o.visibility))
        .unwrap_or(activity.visibility);
    let subject = subject_of(effect, target.as_ref());
    let facts = route::gather(
        conn,
        sender,
        &activity.kind,
        visibility,
        &activity.addressees,
        &subject,
    )?;
    let plan = route::plan(&facts)?;
    let now = Utc::now().naive_utc();
    let filed = inbox_items::file(conn, &plan.file_for, stored.id, now)?;
    let mut consequences = Vec::new();
    let mut deliveries = Vec::new();
    if sender.is_local() && !plan.deliver_to.is_empty() {
        let audience = match fan_out_by {
            FanOutBy::Caller => Some(follows::audience_in(conn, sender.id, &plan.deliver_to)?),
            FanOutBy::Job => None,
        };
        match audience.filter(|audience| audience.others.is_empty()) {
            Some(audience) => {
                deliveries = audience
                    .inboxes(Vec::new())
                    .into_iter()
                    .map(|inbox| Action::Deliver {
                        activity: activity.ap_id.clone(),
                        sender_id: sender.id,
                        inbox,
                    })
                    .collect();
            }
            None => consequences.push(Action::FanOut {
                activity: activity.ap_id.clone(),
                sender_id: sender.id,
                addressees: plan.deliver_to.clone(),
            }),
        }
    }
    consequences.extend(plan.relay_in.iter().map(|room_id| Action::RoomRelay {
        room_id: *room_id,
        activity: activity.ap_id.clone(),
    }));
    if let Some(target_page) = &plan.webmention_to {
        consequences.push(webmention(urls, activity, effect, target_page));
    }
    consequences.extend(
        plan.private_to_sites
            .iter()
            .map(|proxy_id| Action::PrivateNoteToSite {
                activity: activity.ap_id.clone(),
                proxy_id: *proxy_id,
                sender_id: sender.id,
            }),
    );
    // A room's relay, or a local person's public post, changes a feed the
    // hub pushes to its subscribers; a person's followers-only post changes
    // only the private feed of the sites that follow them (Ticket Auth).
    let person_feed_changed = facts.sender.role == route::Role::Person
        && sender.is_local()
        && visibility != Visibility::Direct
        && matches!(facts.verb, Verb::Create | Verb::Update | Verb::Delete);
    if (facts.sender.role == route::Role::Room && facts.verb == Verb::Announce)
        || person_feed_changed
    {
        let mut subscribers = crate::store::websub::active_for_room(conn, sender.id, now)?;
        if person_feed_changed && visibility != Visibility::Public {
            let mut followers_only = Vec::new();
            for subscription in subscribers {
                if super::site_grants::site_of_callback_reads_feed(
                    conn,
                    sender.id,
                    &subscription.callback,
                    now,
                )? {
                    followers_only.push(subscription);
                }
            }
            subscribers = followers_only;
        }
        consequences.extend(subscribers.into_iter().map(|s| Action::WebSubDeliver {
            subscription_id: s.id,
            version: activity.ap_id.clone(),
        }));
    }
    consequences.extend(ticket_for(conn, sender, activity, effect)?);
    actions::enqueue(conn, &consequences)?;

    // A local followee answers at once, in this transaction.
    if let Effect::Follow {
        followee,
        answer: Some(FollowAnswer::Accept(reply) | FollowAnswer::Reject(reply)),
    } = effect
    {
        record_in(conn, urls, followee, reply, &Effect::None)?;
    }
    let applied = if changed {
        Applied::Stored { filed }
    } else {
        Applied::Ignored
    };
    Ok((applied, deliveries))
}

/// A site whose follow of a local person is accepted (at once, or when the
/// person approves it) is offered the person's private feed by Ticket Auth.
fn ticket_for(
    conn: &mut AnyConnection,
    sender: &Account,
    activity: &NewActivity,
    effect: &Effect,
) -> Result<Option<Action>, DomainError> {
    let has_private_feed = |account: &Account| {
        account.is_local()
            && account.site_url.is_none()
            && account.kind == super::accounts::AccountKind::Person
    };
    let (person_id, proxy_id, accept) = match effect {
        Effect::Follow {
            followee,
            answer: Some(FollowAnswer::Accept(reply)),
        } if sender.is_local() && sender.site_url.is_some() && has_private_feed(followee) => {
            (followee.id, sender.id, reply.ap_id.clone())
        }
        Effect::AnswerFollow {
            follow_ap_id,
            accept: true,
        } if has_private_feed(sender) => {
            let Some(follow) = follow_rows::find_by_ap_id(conn, follow_ap_id)? else {
                return Ok(None);
            };
            let site_proxy = crate::store::accounts::find(conn, follow.follower_id)?
                .is_some_and(|a| a.domain.is_none() && a.site_url.is_some());
            if !site_proxy {
                return Ok(None);
            }
            (sender.id, follow.follower_id, activity.ap_id.clone())
        }
        _ => return Ok(None),
    };
    Ok(Some(Action::SendTicket {
        room_id: person_id,
        proxy_id,
        accept: Some(accept),
    }))
}

/// A site that stops following `followee_id` (or is refused, removed or
/// blocked) stops reading its private feed.
fn end_site_access(
    conn: &mut AnyConnection,
    follower_id: i64,
    followee_id: i64,
    now: NaiveDateTime,
) -> Result<(), DomainError> {
    if let Some(site) = crate::store::accounts::find(conn, follower_id)?.and_then(|a| a.site_url) {
        super::site_grants::end_feed_access(conn, followee_id, &site, now)?;
    }
    Ok(())
}

/// The post routing looks at: the parent of a post, the object of a
/// reaction.
fn subject_of(effect: &Effect, target: Option<&object_rows::ObjectRow>) -> Subject {
    let parent = match effect {
        Effect::Post(post) => post.in_reply_to.clone(),
        Effect::React { object_ap_id } => Some(object_ap_id.clone()),
        Effect::UpdatePost { .. } | Effect::DeletePost { .. } => {
            target.and_then(|o| o.in_reply_to.clone())
        }
        _ => None,
    };
    let own = match effect {
        Effect::UpdatePost { object_ap_id, .. } | Effect::DeletePost { object_ap_id } => {
            Some(object_ap_id.clone())
        }
        _ => None,
    };
    Subject { parent, own }
}

fn version_of(activity: &NewActivity) -> String {
    let at = activity.published.and_utc().to_rfc3339();
    match Verb::of(&activity.kind) {
        Verb::Update => format!("updated {at}"),
        Verb::Delete => format!("deleted {at}"),
        Verb::Like | Verb::Announce => "1".to_owned(),
        _ => at,
    }
}

/// The Webmention a routed activity sends to a site page: from the post's
/// own page when it is ours, else from our mirror of it.
fn webmention(urls: &Urls, activity: &NewActivity, effect: &Effect, target: &str) -> Action {
    let object = match effect {
        Effect::Post(post) => Some(post.ap_id.as_str()),
        Effect::UpdatePost { object_ap_id, .. } | Effect::DeletePost { object_ap_id } => {
            Some(object_ap_id.as_str())
        }
        _ => None,
    };
    let source = match object {
        Some(object) if activity.local => object.to_owned(),
        Some(object) => urls.mirror(object),
        None => urls.mirror(&activity.ap_id),
    };
    Action::SendWebmention {
        source,
        target: target.to_owned(),
        version: version_of(activity),
    }
}

/// Applies an effect; `false` when there was nothing to change.
fn apply(
    conn: &mut AnyConnection,
    sender: &Account,
    activity: &NewActivity,
    effect: &Effect,
    target: Option<&object_rows::ObjectRow>,
) -> Result<bool, DomainError> {
    let now = Utc::now().naive_utc();
    let local = activity.local;
    match effect {
        Effect::None => {}
        Effect::Post(post) => insert_post(conn, post)?,
        Effect::UpdatePost { changes, .. } => {
            let object = target.expect("authorised above");
            if object.deleted_at.is_none() {
                object_rows::update(
                    conn,
                    object.id,
                    &ObjectChanges {
                        content: changes.content.as_deref(),
                        summary: changes.summary.as_deref(),
                        name: changes.name.as_deref(),
                        document: &changes.document,
                        updated: changes.updated,
                    },
                )?;
            }
        }
        Effect::DeletePost { object_ap_id } => {
            let object = target.expect("authorised above");
            object_rows::mark_deleted(conn, object.id, now)?;
            inbox_items::unfile_about(conn, object_ap_id)?;
        }
        Effect::React { object_ap_id } => {
            reaction_rows::insert(
                conn,
                &NewReactionRow {
                    ap_id: &activity.ap_id,
                    kind: &activity.kind,
                    actor_id: sender.id,
                    object_ap_id,
                    created_at: now,
                },
            )?;
        }
        Effect::Unreact { reaction_ap_id } => {
            let removed = reaction_rows::delete(conn, reaction_ap_id, sender.id)?;
            inbox_items::unfile(conn, std::slice::from_ref(reaction_ap_id))?;
            if removed == 0 {
                if local {
                    return Err(DomainError::NoSuchObject(reaction_ap_id.clone()));
                }
                return Ok(false);
            }
        }
        Effect::Follow { followee, answer } => {
            apply_follow(conn, sender, followee, activity, answer.as_ref(), now)?;
        }
        Effect::Unfollow { followee_id } => {
            let existing = follow_rows::find(conn, sender.id, *followee_id)?;
            let removed = follow_rows::delete(conn, sender.id, *followee_id)?;
            if let Some(follow) = existing {
                inbox_items::unfile(conn, &[follow.follow_ap_id])?;
            }
            if let Some(site) = &sender.site_url {
                super::site_grants::end_feed_access(conn, *followee_id, site, now)?;
            }
            if removed == 0 {
                if local {
                    return Err(DomainError::NoSuchObject(format!(
                        "a follow of account {followee_id}"
                    )));
                }
                return Ok(false);
            }
        }
        Effect::Block { blocked_id } => {
            blocks::insert(
                conn,
                &blocks::NewBlockRow {
                    ap_id: &activity.ap_id,
                    blocker_id: sender.id,
                    blocked_id: *blocked_id,
                    created_at: now,
                },
            )?;
            follow_rows::delete(conn, sender.id, *blocked_id)?;
            follow_rows::delete(conn, *blocked_id, sender.id)?;
            end_site_access(conn, *blocked_id, sender.id, now)?;
        }
        Effect::Unblock { blocked_id } => {
            if blocks::delete(conn, sender.id, *blocked_id)? == 0 && local {
                return Err(DomainError::NoSuchObject(blocked_id.to_string()));
            }
        }
        Effect::AnswerFollow {
            follow_ap_id,
            accept,
        } => {
            let follow = follow_rows::find_by_ap_id(conn, follow_ap_id)?
                .ok_or_else(|| DomainError::NoSuchObject(follow_ap_id.clone()))?;
            if *accept {
                follow_rows::set_accepted(conn, follow.id)?;
            } else {
                follow_rows::delete(conn, follow.follower_id, follow.followee_id)?;
                end_site_access(conn, follow.follower_id, follow.followee_id, now)?;
            }
        }
    }
    Ok(true)
}

/// A Follow: an accepted follow stays accepted (a repeated Follow is
/// answered again, never downgraded); a refused one ends any follow.
fn apply_follow(
    conn: &mut AnyConnection,
    follower: &Account,
    followee: &Account,
    follow: &NewActivity,
    answer: Option<&FollowAnswer>,
    now: NaiveDateTime,
) -> Result<(), DomainError> {
    let existing = follow_rows::find(conn, follower.id, followee.id)?;
    if let Some(FollowAnswer::Reject(_)) = answer {
        follow_rows::delete(conn, follower.id, followee.id)?;
        return Ok(());
    }
    let already = existing.as_ref().is_some_and(|f| f.accepted);
    let accepted = already || matches!(answer, Some(FollowAnswer::Accept(_)));
    follow_rows::upsert(
        conn,
        &NewFollowRow {
            follower_id: follower.id,
            followee_id: followee.id,
            follow_ap_id: &follow.ap_id,
            accepted,
            created_at: now,
        },
    )?;
    Ok(())
}
