//! The route table: for each origin, verb and addressing, what an activity
//! causes. Facts are written out by hand; `plan` is pure.

use super::*;

const ALICE: i64 = 1; // local person, the sender in most rows
const CAROL: i64 = 2; // local person, follows alice
const DAVE: i64 = 3; // local person, follows nobody
const ROOM: i64 = 10; // local room
const SITE: i64 = 20; // local proxy of a site
const BOB: i64 = 30; // remote person

fn party(id: i64) -> Party {
    let (local, role) = match id {
        ROOM => (true, Role::Room),
        SITE => (true, Role::Site),
        BOB => (false, Role::Person),
        _ => (true, Role::Person),
    };
    Party {
        id,
        actor_url: format!("https://h.example/{id}"),
        local,
        role,
    }
}

fn facts(verb: Verb, sender: i64, visibility: Visibility, addressed: Vec<Addressee>) -> Facts {
    let sender = party(sender);
    Facts {
        verb,
        visibility,
        addressed,
        parent: None,
        own_room: None,
        unknown_parent: None,
        sender_local_followers: if sender.id == ALICE || sender.id == BOB {
            vec![CAROL]
        } else {
            vec![]
        },
        sender_followers_url: Some(format!("{}/followers", sender.actor_url)),
        sender,
    }
}

fn parent(author: i64, room: Option<(i64, bool)>, author_in_room: bool) -> Option<Parent> {
    Some(Parent {
        author: party(author),
        site_post_url: (author == SITE).then(|| "https://site.example/post".to_owned()),
        room: room.map(|(room_id, sender_is_member)| RoomFacts {
            room_id,
            sender_is_member,
        }),
        author_in_room,
    })
}

fn room(member: bool) -> Addressee {
    Addressee::Room(RoomFacts {
        room_id: ROOM,
        sender_is_member: member,
    })
}

fn url(id: i64) -> String {
    party(id).actor_url
}

fn followers(id: i64) -> String {
    format!("{}/followers", url(id))
}

#[test]
fn public_posts_reach_followers_whatever_the_addressing() {
    // A remote server addressing as:Public only (snac2): local followers
    // still get it.
    let plan = plan(&facts(
        Verb::Create,
        BOB,
        Visibility::Public,
        vec![Addressee::Public],
    ))
    .unwrap();
    assert_eq!(plan.file_for, vec![CAROL]);
    assert!(
        plan.deliver_to.is_empty(),
        "nothing is forwarded for a remote sender"
    );

    // A local author: local followers filed, remote followers by fan-out.
    let plan = plan_of(
        Verb::Create,
        ALICE,
        Visibility::Public,
        vec![Addressee::Public],
    );
    assert_eq!(plan.file_for, vec![CAROL]);
    assert_eq!(plan.deliver_to, vec![followers(ALICE)]);
}

fn plan_of(verb: Verb, sender: i64, visibility: Visibility, addressed: Vec<Addressee>) -> Plan {
    plan(&facts(verb, sender, visibility, addressed)).unwrap()
}

#[test]
fn followers_only_posts_reach_followers_and_direct_ones_do_not() {
    let plan = plan_of(
        Verb::Create,
        BOB,
        Visibility::Followers,
        vec![Addressee::SenderFollowers],
    );
    assert_eq!(plan.file_for, vec![CAROL]);
    let plan = plan_of(
        Verb::Create,
        BOB,
        Visibility::Direct,
        vec![Addressee::Account(party(DAVE))],
    );
    assert_eq!(
        plan.file_for,
        vec![DAVE],
        "a direct note reaches its addressee only"
    );
    let plan = plan_of(
        Verb::Create,
        ALICE,
        Visibility::Direct,
        vec![Addressee::Account(party(BOB))],
    );
    assert!(plan.file_for.is_empty());
    assert_eq!(plan.deliver_to, vec![url(BOB)]);
}

#[test]
fn another_accounts_followers_collection_is_not_expanded() {
    let plan = plan_of(
        Verb::Create,
        BOB,
        Visibility::Direct,
        vec![Addressee::OthersFollowers],
    );
    assert!(plan.file_for.is_empty());
    assert!(plan.deliver_to.is_empty());
}

#[test]
fn a_reply_reaches_the_parent_author_mentions_and_followers() {
    // A public reply by a remote account to a local post: the local author
    // gets it even when not addressed.
    let mut f = facts(
        Verb::Create,
        BOB,
        Visibility::Public,
        vec![Addressee::Public],
    );
    f.parent = parent(DAVE, None, false);
    let p = plan(&f).unwrap();
    assert_eq!(p.file_for, vec![CAROL, DAVE]);

    // A local reply to a remote post: delivered to the remote author.
    let mut f = facts(
        Verb::Create,
        ALICE,
        Visibility::Public,
        vec![Addressee::Public, Addressee::Account(party(DAVE))],
    );
    f.parent = parent(BOB, None, false);
    let p = plan(&f).unwrap();
    assert_eq!(p.file_for, vec![DAVE, CAROL]);
    assert_eq!(p.deliver_to, vec![followers(ALICE), url(BOB)]);

    // A direct reply goes to its addressees only, not to the parent author.
    let mut f = facts(
        Verb::Create,
        ALICE,
        Visibility::Direct,
        vec![Addressee::Account(party(DAVE))],
    );
    f.parent = parent(BOB, None, false);
    let p = plan(&f).unwrap();
    assert_eq!(p.file_for, vec![DAVE]);
    assert!(p.deliver_to.is_empty());
}

#[test]
fn a_reply_is_forwarded_to_the_thread_audience_of_a_local_author() {
    let thread = Addressee::ThreadFollowers {
        collection: followers(DAVE),
        local_followers: vec![CAROL, DAVE],
    };
    let mut f = facts(Verb::Create, SITE, Visibility::Public, vec![thread.clone()]);
    f.parent = parent(DAVE, None, false);
    let p = plan(&f).unwrap();
    assert_eq!(p.file_for, vec![CAROL, DAVE]);
    assert_eq!(p.deliver_to, vec![followers(DAVE), followers(SITE)]);
    // Never for a direct note.
    let mut f = facts(Verb::Create, BOB, Visibility::Direct, vec![thread]);
    f.parent = parent(DAVE, None, false);
    assert!(plan(&f).unwrap().file_for.is_empty());
}

#[test]
fn a_reply_to_a_sites_post_goes_to_the_site() {
    // From anywhere, public: a Webmention to the site's post.
    for sender in [ALICE, BOB] {
        let mut f = facts(
            Verb::Create,
            sender,
            Visibility::Public,
            vec![Addressee::Public],
        );
        f.parent = parent(SITE, None, false);
        let p = plan(&f).unwrap();
        assert_eq!(
            p.webmention_to.as_deref(),
            Some("https://site.example/post"),
            "sender {sender}"
        );
        assert!(p.file_for.contains(&SITE), "the proxy's inbox has it");
    }
    // Followers-only replies are not shown to the site.
    let mut f = facts(
        Verb::Create,
        BOB,
        Visibility::Followers,
        vec![Addressee::SenderFollowers],
    );
    f.parent = parent(SITE, None, false);
    assert_eq!(plan(&f).unwrap().webmention_to, None);
    // Updates and deletes of such a reply are sent again.
    for verb in [Verb::Update, Verb::Delete] {
        let mut f = facts(verb, BOB, Visibility::Public, vec![Addressee::Public]);
        f.parent = parent(SITE, None, false);
        assert!(plan(&f).unwrap().webmention_to.is_some());
    }
}

#[test]
fn likes_and_reposts_of_a_sites_post_go_to_the_site() {
    let mut f = facts(
        Verb::Like,
        BOB,
        Visibility::Direct,
        vec![Addressee::Account(party(SITE))],
    );
    f.parent = parent(SITE, None, false);
    // A Like is addressed to the author: it is not a private note.
    let p = plan(&f).unwrap();
    assert!(p.private_to_sites.is_empty());
    assert_eq!(
        p.webmention_to.as_deref(),
        Some("https://site.example/post")
    );
    let mut f = facts(
        Verb::Announce,
        BOB,
        Visibility::Public,
        vec![Addressee::Public],
    );
    f.parent = parent(SITE, None, false);
    let p = plan(&f).unwrap();
    assert_eq!(
        p.webmention_to.as_deref(),
        Some("https://site.example/post")
    );
}

#[test]
fn a_direct_note_to_a_sites_proxy_is_a_private_note() {
    let p = plan_of(
        Verb::Create,
        BOB,
        Visibility::Direct,
        vec![Addressee::Account(party(SITE))],
    );
    assert_eq!(p.private_to_sites, vec![SITE]);
    assert_eq!(p.webmention_to, None);
    // A public mention of a site is not private.
    let p = plan_of(
        Verb::Create,
        BOB,
        Visibility::Public,
        vec![Addressee::Public, Addressee::Account(party(SITE))],
    );
    assert!(p.private_to_sites.is_empty());
}

#[test]
fn a_site_does_not_get_webmentions_about_its_own_posts() {
    let mut f = facts(
        Verb::Create,
        SITE,
        Visibility::Public,
        vec![Addressee::Public],
    );
    f.parent = parent(SITE, None, false);
    assert_eq!(plan(&f).unwrap().webmention_to, None);
}

#[test]
fn rooms_relay_members_and_refuse_strangers() {
    let p = plan_of(Verb::Create, BOB, Visibility::Direct, vec![room(true)]);
    assert_eq!(p.relay_in, vec![ROOM]);
    assert!(p.file_for.is_empty(), "members get it by the relay");
    let refused = plan(&facts(
        Verb::Create,
        BOB,
        Visibility::Direct,
        vec![room(false)],
    ));
    assert!(matches!(refused, Err(DomainError::NotMember(_))));
    // Likes need membership too; a Delete by a former member is not refused.
    assert!(
        plan(&facts(
            Verb::Like,
            BOB,
            Visibility::Direct,
            vec![room(false)]
        ))
        .is_err()
    );
    let p = plan_of(Verb::Delete, BOB, Visibility::Direct, vec![room(false)]);
    assert!(p.relay_in.is_empty());
    // A Follow of the room is not relayed, nor refused.
    let p = plan_of(Verb::Follow, BOB, Visibility::Direct, vec![room(false)]);
    assert!(p.relay_in.is_empty());
    // The room's own Announce is not relayed again.
    let p = plan_of(
        Verb::Announce,
        ROOM,
        Visibility::Public,
        vec![Addressee::SenderFollowers, room(false)],
    );
    assert!(p.relay_in.is_empty());
    assert_eq!(p.deliver_to, vec![followers(ROOM)]);
}

#[test]
fn a_members_reply_into_a_rooms_thread_is_relayed() {
    // Mastodon addresses a reply to the parent's author, not to the room.
    let mut f = facts(
        Verb::Create,
        BOB,
        Visibility::Public,
        vec![Addressee::Public, Addressee::Account(party(DAVE))],
    );
    f.parent = parent(DAVE, Some((ROOM, true)), false);
    assert_eq!(plan(&f).unwrap().relay_in, vec![ROOM]);
    // Not for a non-member (no refusal either), nor for a direct reply.
    f.parent = parent(DAVE, Some((ROOM, false)), false);
    let p = plan(&f).unwrap();
    assert!(p.relay_in.is_empty());
    let mut f = facts(
        Verb::Create,
        BOB,
        Visibility::Direct,
        vec![Addressee::Account(party(DAVE))],
    );
    f.parent = parent(DAVE, Some((ROOM, true)), false);
    assert!(plan(&f).unwrap().relay_in.is_empty());
}

#[test]
fn a_room_reply_to_a_member_sites_post_reaches_the_site() {
    // Addressed to a members-only room only (so not public), in reply to
    // the post of a site that is a member: the site gets a Webmention.
    let mut f = facts(Verb::Create, BOB, Visibility::Direct, vec![room(true)]);
    f.parent = parent(SITE, Some((ROOM, true)), true);
    let p = plan(&f).unwrap();
    assert_eq!(p.relay_in, vec![ROOM]);
    assert_eq!(
        p.webmention_to.as_deref(),
        Some("https://site.example/post")
    );
    // A site that is no longer a member hears nothing of a private room.
    f.parent = parent(SITE, Some((ROOM, true)), false);
    assert_eq!(plan(&f).unwrap().webmention_to, None);
}

#[test]
fn updates_and_deletes_of_a_relayed_post_are_relayed() {
    let mut f = facts(
        Verb::Delete,
        BOB,
        Visibility::Public,
        vec![Addressee::Public],
    );
    f.own_room = Some(RoomFacts {
        room_id: ROOM,
        sender_is_member: true,
    });
    assert_eq!(plan(&f).unwrap().relay_in, vec![ROOM]);
}

#[test]
fn local_to_local_activities_are_filed_never_delivered() {
    for verb in [Verb::Follow, Verb::Other, Verb::Like] {
        let p = plan_of(
            verb,
            ALICE,
            Visibility::Direct,
            vec![Addressee::Account(party(DAVE))],
        );
        assert_eq!(p.file_for, vec![DAVE], "{verb:?}");
        assert!(p.deliver_to.is_empty(), "{verb:?}");
    }
    // A remote Follow is filed for the local followee; nothing goes out.
    let p = plan_of(
        Verb::Follow,
        BOB,
        Visibility::Direct,
        vec![Addressee::Account(party(DAVE))],
    );
    assert_eq!(p.file_for, vec![DAVE]);
    assert!(p.deliver_to.is_empty());
    // A local Follow of a remote account is delivered.
    let p = plan_of(
        Verb::Follow,
        ALICE,
        Visibility::Direct,
        vec![Addressee::Account(party(BOB))],
    );
    assert_eq!(p.deliver_to, vec![url(BOB)]);
}

#[test]
fn withdrawals_reach_the_same_audience() {
    // An Undo of a public Announce reaches the followers, an Undo of a
    // Follow only the followee.
    let p = plan_of(Verb::Undo, BOB, Visibility::Public, vec![Addressee::Public]);
    assert_eq!(p.file_for, vec![CAROL]);
    let p = plan_of(
        Verb::Undo,
        BOB,
        Visibility::Direct,
        vec![Addressee::Account(party(DAVE))],
    );
    assert_eq!(p.file_for, vec![DAVE]);
}

#[test]
fn unknown_parents_of_local_public_posts_may_take_webmentions() {
    let mut f = facts(
        Verb::Create,
        ALICE,
        Visibility::Public,
        vec![Addressee::Public],
    );
    f.unknown_parent = Some("https://blog.example/post".into());
    assert_eq!(
        plan(&f).unwrap().webmention_to.as_deref(),
        Some("https://blog.example/post")
    );
    let mut f = facts(
        Verb::Create,
        BOB,
        Visibility::Public,
        vec![Addressee::Public],
    );
    f.unknown_parent = Some("https://blog.example/post".into());
    assert_eq!(
        plan(&f).unwrap().webmention_to,
        None,
        "not for remote senders"
    );
}
