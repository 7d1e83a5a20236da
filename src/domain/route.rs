//! `route()`: the one place that decides what an activity causes, whatever
//! way it came in (signed inbox POST, client outbox, a site's proxy, a
//! room). [`gather`] reads the facts that matter from the store (who is
//! addressed, who follows the sender, which room a thread is in); [`plan`]
//! is a pure function of those facts, unit-tested as a table below.
//!
//! The rules, as other servers expect them:
//! - followers get a followee's posts by the follow relationship, whatever
//!   the addressing (public, unlisted and followers-only; never direct);
//! - only the sender's own followers collection expands to followers; a
//!   room's followers collection counts as the room; another account's
//!   followers collection is ignored;
//! - a reply reaches the author of its parent (and through a proxy actor,
//!   its site, as a Webmention) unless it is direct, and every account it
//!   addresses or mentions;
//! - a room relays a member's post addressed to it, and a member's reply
//!   whose `inReplyTo` chain leads to a post the room relayed; a
//!   non-member's post addressed to a room is refused;
//! - local addressees get the activity in their inbox directly; only remote
//!   ones are delivered over HTTP, and only for activities minted here.

use diesel::prelude::*;

use super::DomainError;
use super::accounts::{Account, AccountKind};
use super::audience::{Visibility, is_public_address};
use crate::store::AnyConnection;
use crate::store::schema::{accounts, activities, blocks, follows, objects};

/// What an activity does, as far as routing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Update,
    Delete,
    Like,
    Announce,
    Follow,
    Undo,
    /// Accept, Reject, Block and anything else addressed to actors.
    Other,
}

impl Verb {
    pub fn of(kind: &str) -> Self {
        match kind {
            "Create" => Verb::Create,
            "Update" => Verb::Update,
            "Delete" => Verb::Delete,
            "Like" => Verb::Like,
            "Announce" => Verb::Announce,
            "Follow" => Verb::Follow,
            "Undo" => Verb::Undo,
            _ => Verb::Other,
        }
    }

    /// Verbs that carry (or withdraw) a post to the author's audience.
    fn reaches_followers(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Delete | Verb::Announce | Verb::Undo
        )
    }

    /// Verbs a room refuses from a non-member addressing it.
    fn needs_membership(self) -> bool {
        matches!(self, Verb::Create | Verb::Update | Verb::Like)
    }

    /// Verbs a room relays from a member addressing it.
    fn relayed(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Delete | Verb::Like
        )
    }
}

/// What an account is, for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Person,
    /// A site's proxy actor (local): its posts came from the site.
    Site,
    /// A room (a local Group).
    Room,
}

/// An account taking part in a routing decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub id: i64,
    pub actor_url: String,
    pub local: bool,
    pub role: Role,
}

impl Party {
    pub fn of(account: &Account) -> Self {
        let role = if account.is_local() && account.site_url.is_some() {
            Role::Site
        } else if account.is_local() && account.kind == AccountKind::Group {
            Role::Room
        } else {
            Role::Person
        };
        Party {
            id: account.id,
            actor_url: account.actor_url.clone(),
            local: account.is_local(),
            role,
        }
    }
}

/// A local room an activity touches, and whether the sender may post in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomFacts {
    pub room_id: i64,
    /// A member (accepted follow, not banned) or the room's owner.
    pub sender_is_member: bool,
}

/// One addressee, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressee {
    Public,
    /// The sender's own followers collection.
    SenderFollowers,
    /// Someone else's followers collection: not expanded.
    OthersFollowers,
    /// The followers collection of the author of the post this one replies
    /// to, addressed by an actor on the collection's own server: the
    /// thread's audience, which that server forwards to (ActivityPub's
    /// inbox forwarding).
    ThreadFollowers {
        collection: String,
        local_followers: Vec<i64>,
    },
    /// A local room, by its actor id or its followers collection.
    Room(RoomFacts),
    /// A stored account (local or remote).
    Account(Party),
    /// An id we know nothing of (a remote actor not yet fetched).
    Unknown(String),
}

/// The post an activity replies to (Create, Update, Delete) or reacts to
/// (Like, Announce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub author: Party,
    /// When the author is a site's proxy: the post's URL on the site.
    pub site_post_url: Option<String>,
    /// The local room whose conversation the parent's thread is in.
    pub room: Option<RoomFacts>,
    /// Whether the parent's author (a site) is a member of that room.
    pub author_in_room: bool,
}

/// Everything [`plan`] needs to know about an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub verb: Verb,
    pub sender: Party,
    pub visibility: Visibility,
    pub addressed: Vec<Addressee>,
    /// A stored parent post, when there is one.
    pub parent: Option<Parent>,
    /// For an Update or Delete: the local room that relayed the post itself.
    pub own_room: Option<RoomFacts>,
    /// The parent's id when it is not stored here (a URL of a site that
    /// may take Webmentions).
    pub unknown_parent: Option<String>,
    pub sender_local_followers: Vec<i64>,
    /// The sender's followers collection, when it has one.
    pub sender_followers_url: Option<String>,
}

/// Where an activity goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Local accounts whose inbox gets it.
    pub file_for: Vec<i64>,
    /// Remote addressees (actor ids and the sender's followers collection)
    /// it is delivered to; only for activities minted here.
    pub deliver_to: Vec<String>,
    /// Local rooms that relay it.
    pub relay_in: Vec<i64>,
    /// A site page that gets a Webmention about it.
    pub webmention_to: Option<String>,
    /// Proxy actors whose site gets it as a private note.
    pub private_to_sites: Vec<i64>,
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Decides where an activity goes; `Err` names a room the sender may not
/// post to.
pub fn plan(facts: &Facts) -> Result<Plan, DomainError> {
    let mut plan = Plan::default();
    let sender = &facts.sender;
    let direct = facts.visibility == Visibility::Direct;
    let reach = |party: &Party, plan: &mut Plan| {
        if party.id == sender.id {
            return;
        }
        if party.local {
            push_unique(&mut plan.file_for, party.id);
        } else if sender.local {
            push_unique(&mut plan.deliver_to, party.actor_url.clone());
        }
    };
    for addressee in &facts.addressed {
        match addressee {
            Addressee::Public | Addressee::OthersFollowers | Addressee::SenderFollowers => {}
            Addressee::ThreadFollowers {
                collection,
                local_followers,
            } => {
                if !direct && facts.verb != Verb::Like {
                    for follower in local_followers {
                        if *follower != sender.id {
                            push_unique(&mut plan.file_for, *follower);
                        }
                    }
                    if sender.local {
                        push_unique(&mut plan.deliver_to, collection.clone());
                    }
                }
            }
            Addressee::Room(room) if room.room_id == sender.id => {}
            Addressee::Room(_) if !facts.verb.relayed() => {}
            Addressee::Room(room) => {
                if room.sender_is_member {
                    push_unique(&mut plan.relay_in, room.room_id);
                } else if facts.verb.needs_membership() {
                    return Err(DomainError::NotMember(format!("room {}", room.room_id)));
                }
            }
            Addressee::Account(party) => {
                reach(party, &mut plan);
                if party.role == Role::Site
                    && direct
                    && facts.verb == Verb::Create
                    && party.id != sender.id
                {
                    push_unique(&mut plan.private_to_sites, party.id);
                }
            }
            Addressee::Unknown(id) => {
                if sender.local {
                    push_unique(&mut plan.deliver_to, id.clone());
                }
            }
        }
    }
    if facts.verb.reaches_followers() && !direct {
        for follower in &facts.sender_local_followers {
            if *follower != sender.id {
                push_unique(&mut plan.file_for, *follower);
            }
        }
        if sender.local
            && let Some(followers) = &facts.sender_followers_url
        {
            push_unique(&mut plan.deliver_to, followers.clone());
        }
    }
    if let Some(parent) = &facts.parent {
        let about_a_post = matches!(facts.verb, Verb::Create | Verb::Update | Verb::Delete);
        let reaction = matches!(facts.verb, Verb::Like | Verb::Announce);
        if (about_a_post && !direct) || reaction {
            reach(&parent.author, &mut plan);
        }
        if about_a_post
            && !direct
            && let Some(room) = &parent.room
            && room.sender_is_member
            && room.room_id != sender.id
        {
            push_unique(&mut plan.relay_in, room.room_id);
        }
        let in_sites_room = parent.author_in_room
            && parent
                .room
                .as_ref()
                .is_some_and(|r| plan.relay_in.contains(&r.room_id));
        let shown_to_site = facts.visibility == Visibility::Public || in_sites_room;
        // A Like is addressed to the liked post's author, yet it is
        // public knowledge: the site shows it as a u-like-of.
        if sender.role != Role::Site && ((about_a_post && shown_to_site) || reaction) {
            plan.webmention_to.clone_from(&parent.site_post_url);
        }
    }
    if let Some(room) = &facts.own_room
        && room.sender_is_member
        && room.room_id != sender.id
        && matches!(facts.verb, Verb::Update | Verb::Delete)
    {
        push_unique(&mut plan.relay_in, room.room_id);
    }
    if facts.parent.is_none()
        && let Some(url) = &facts.unknown_parent
        && sender.local
        && facts.visibility == Visibility::Public
        && matches!(facts.verb, Verb::Create | Verb::Update | Verb::Delete)
    {
        plan.webmention_to = Some(url.clone());
    }
    Ok(plan)
}

/// How many posts up an `inReplyTo` chain is followed to find a room.
const THREAD_DEPTH: usize = 32;

/// Whether `account_id` may post in the local room `room_id`: its owner, or
/// a member (accepted follow) the room has not banned.
pub(crate) fn may_post_in_room(
    conn: &mut AnyConnection,
    room_id: i64,
    account_id: i64,
) -> QueryResult<bool> {
    let owner: Option<i64> = accounts::table
        .find(room_id)
        .select(accounts::owner_id)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten();
    if owner == Some(account_id) {
        return Ok(true);
    }
    let member: i64 = follows::table
        .filter(follows::follower_id.eq(account_id))
        .filter(follows::followee_id.eq(room_id))
        .filter(follows::accepted.eq(true))
        .count()
        .get_result(conn)?;
    let banned: i64 = blocks::table
        .filter(blocks::blocker_id.eq(room_id))
        .filter(blocks::blocked_id.eq(account_id))
        .count()
        .get_result(conn)?;
    Ok(member > 0 && banned == 0)
}

fn find_account(conn: &mut AnyConnection, id: i64) -> Result<Option<Account>, DomainError> {
    Ok(crate::store::accounts::find(conn, id)?.map(super::accounts::row_to_account))
}

/// The local room that relayed the post `object_ap_id`, if any.
pub(crate) fn room_relaying(
    conn: &mut AnyConnection,
    object_ap_id: &str,
) -> QueryResult<Option<i64>> {
    let creates: Vec<String> = activities::table
        .filter(activities::object_ap_id.eq(object_ap_id))
        .filter(activities::kind.eq("Create"))
        .select(activities::ap_id)
        .load(conn)?;
    if creates.is_empty() {
        return Ok(None);
    }
    activities::table
        .inner_join(accounts::table.on(accounts::id.eq(activities::actor_id)))
        .filter(activities::kind.eq("Announce"))
        .filter(activities::object_ap_id.eq_any(&creates))
        .filter(accounts::domain.is_null())
        .filter(accounts::kind.eq(AccountKind::Group.as_str()))
        .select(accounts::id)
        .first(conn)
        .optional()
}

/// The local room whose conversation holds `post_ap_id` or one of its
/// ancestors.
pub(crate) fn room_of_thread(
    conn: &mut AnyConnection,
    post_ap_id: &str,
) -> QueryResult<Option<i64>> {
    let mut current = post_ap_id.to_owned();
    for _ in 0..THREAD_DEPTH {
        if let Some(room) = room_relaying(conn, &current)? {
            return Ok(Some(room));
        }
        let parent: Option<Option<String>> = objects::table
            .filter(objects::ap_id.eq(&current))
            .select(objects::in_reply_to)
            .first(conn)
            .optional()?;
        match parent.flatten() {
            Some(next) if next != current => current = next,
            _ => return Ok(None),
        }
    }
    Ok(None)
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

fn classify_addressee(
    conn: &mut AnyConnection,
    sender: &Account,
    parent_author: Option<&Party>,
    address: &str,
) -> Result<Addressee, DomainError> {
    if is_public_address(address) {
        return Ok(Addressee::Public);
    }
    if sender.followers_url.as_deref() == Some(address) {
        return Ok(Addressee::SenderFollowers);
    }
    if let Some(row) = crate::store::accounts::find_by_actor_url(conn, address)? {
        let account = super::accounts::row_to_account(row);
        let party = Party::of(&account);
        if party.role == Role::Room {
            let sender_is_member = may_post_in_room(conn, account.id, sender.id)?;
            return Ok(Addressee::Room(RoomFacts {
                room_id: account.id,
                sender_is_member,
            }));
        }
        return Ok(Addressee::Account(party));
    }
    let owner: Option<(i64, Option<String>, String)> = accounts::table
        .filter(accounts::followers_url.eq(address))
        .select((accounts::id, accounts::domain, accounts::kind))
        .first(conn)
        .optional()?;
    Ok(match owner {
        Some((room_id, None, kind)) if kind == AccountKind::Group.as_str() => {
            Addressee::Room(RoomFacts {
                room_id,
                sender_is_member: may_post_in_room(conn, room_id, sender.id)?,
            })
        }
        // The thread's audience: the followers of the parent's author,
        // addressed by an actor of the same server as that collection (the
        // server that owns it forwards to it; a stranger elsewhere cannot).
        Some((owner_id, _, _))
            if parent_author.is_some_and(|author| author.id == owner_id)
                && same_origin(address, &sender.actor_url) =>
        {
            Addressee::ThreadFollowers {
                collection: address.to_owned(),
                local_followers: crate::store::follows::local_followers(conn, owner_id)?,
            }
        }
        Some(_) => Addressee::OthersFollowers,
        None => Addressee::Unknown(address.to_owned()),
    })
}

/// The post an activity is about, for routing: its parent for a post, the
/// reacted-to post for a reaction.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// `inReplyTo` of a Create, Update or Delete; the object of a Like or
    /// Announce.
    pub parent: Option<String>,
    /// The post an Update or Delete is about.
    pub own: Option<String>,
}

/// Reads the facts [`plan`] needs from the store.
pub fn gather(
    conn: &mut AnyConnection,
    sender: &Account,
    kind: &str,
    visibility: Visibility,
    addressees: &[String],
    subject: &Subject,
) -> Result<Facts, DomainError> {
    let mut parent = None;
    let mut unknown_parent = None;
    if let Some(parent_id) = &subject.parent {
        match crate::store::objects::find_by_ap_id(conn, parent_id)? {
            Some(row) => {
                if let Some(author) = find_account(conn, row.author_id)? {
                    let author_party = Party::of(&author);
                    let room = match room_of_thread(conn, parent_id)? {
                        Some(room_id) => Some(RoomFacts {
                            room_id,
                            sender_is_member: may_post_in_room(conn, room_id, sender.id)?,
                        }),
                        None => None,
                    };
                    let author_in_room = match &room {
                        Some(room) => may_post_in_room(conn, room.room_id, author.id)?,
                        None => false,
                    };
                    parent = Some(Parent {
                        site_post_url: (author_party.role == Role::Site)
                            .then(|| row.url.clone())
                            .flatten(),
                        author: author_party,
                        room,
                        author_in_room,
                    });
                }
            }
            None if parent_id.starts_with("https://") || parent_id.starts_with("http://") => {
                let known_activity = crate::store::activities::find_by_ap_id(conn, parent_id)?;
                if known_activity.is_none() {
                    unknown_parent = Some(parent_id.clone());
                }
            }
            None => {}
        }
    }
    let parent_author = parent.as_ref().map(|p: &Parent| &p.author);
    let mut addressed = Vec::with_capacity(addressees.len());
    for address in addressees {
        let addressee = classify_addressee(conn, sender, parent_author, address)?;
        if !addressed.contains(&addressee) {
            addressed.push(addressee);
        }
    }
    let own_room = match &subject.own {
        Some(own) => match room_relaying(conn, own)? {
            Some(room_id) => Some(RoomFacts {
                room_id,
                sender_is_member: may_post_in_room(conn, room_id, sender.id)?,
            }),
            None => None,
        },
        None => None,
    };
    let sender_local_followers = if Verb::of(kind).reaches_followers() {
        crate::store::follows::local_followers(conn, sender.id)?
    } else {
        Vec::new()
    };
    Ok(Facts {
        verb: Verb::of(kind),
        sender: Party::of(sender),
        visibility,
        addressed,
        parent,
        own_room,
        unknown_parent,
        sender_local_followers,
        sender_followers_url: sender.followers_url.clone(),
    })
}

#[cfg(test)]
mod tests;
