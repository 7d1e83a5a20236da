//! Routing over real HTTP: the cases real peers produce every day, each
//! with two instances (and a stand-in site where a site is involved).

mod common;

use common::site::Site;
use common::{TestServer, follow_and_wait, wait_until};
use estuary::domain::accounts::{Account, NewLocalAccount, create_room};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, delete_note, follow, publish_note};
use serde_json::Value;

async fn note(server: &TestServer, who: &str, draft: Draft) -> String {
    let author = server.account(who).await;
    publish_note(server.fed(), &author, draft)
        .await
        .unwrap()
        .object_id
}

fn has_object(inbox: &[Value], object_id: &str) -> bool {
    inbox
        .iter()
        .any(|a| a["object"]["id"] == object_id || a["object"]["object"]["id"] == object_id)
}

async fn room(server: &TestServer, name: &str, owner: &str, members_only: bool) -> Account {
    create_room(
        &server.state.store,
        &server.state.urls,
        NewLocalAccount {
            name: name.into(),
            owner: Some(owner.into()),
            members_only,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn webmention(server: &TestServer, source: &str, target: &str) -> String {
    let response = server
        .client
        .post(server.url("/webmention"))
        .form(&[("source", source), ("target", target)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let status = || async {
        server
            .client
            .get(&location)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    wait_until(15, "the Webmention to be verified", || async {
        status().await["status"] == "verified"
    })
    .await;
    status().await["object"].as_str().unwrap().to_owned()
}

/// Case 1: a post addressed to as:Public only (as snac2 sends them) reaches
/// the author's followers by the follow relationship.
#[tokio::test]
async fn a_public_only_post_reaches_followers() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("carol").await;
    a.add_user("dave").await;
    b.add_user("bob").await;
    follow_and_wait(&a, "carol", &b.url("/users/bob")).await;
    let posted = note(
        &b,
        "bob",
        Draft {
            content_html: "<p>to the world</p>".into(),
            to: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await;
    wait_until(15, "bob's post at carol's", || async {
        has_object(&a.inbox("carol").await, &posted)
    })
    .await;
    assert!(a.inbox("dave").await.is_empty(), "dave follows nobody");
}

/// Case 2: a reply from another instance to a site's post, addressed to
/// Public only, reaches the proxy actor and through it the site.
#[tokio::test]
async fn a_public_only_reply_to_a_sites_post_reaches_the_site() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    follow_and_wait(&b, "bob", &a.url("/users/alice")).await;
    let alice = a.account("alice").await;
    let alices = note(
        &a,
        "alice",
        Draft {
            content_html: "<p>Rivers meet here.</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await;
    let site = Site::start().await;
    site.set_post(&site.reply_html(&alices, "<p>Nice post.</p>"));
    let proxy_note = webmention(&a, &site.post_url(), &alices).await;
    wait_until(15, "the site's reply at bob's", || async {
        has_object(&b.inbox("bob").await, &proxy_note)
    })
    .await;

    let replied = note(
        &b,
        "bob",
        Draft {
            content_html: "<p>Hello site.</p>".into(),
            to: vec![PUBLIC.into()],
            in_reply_to: Some(proxy_note.clone()),
            ..Default::default()
        },
    )
    .await;
    wait_until(15, "a Webmention at the site", || async {
        site.received()
            .iter()
            .any(|(source, target)| target == &site.post_url() && source.contains("mirror"))
    })
    .await;
    let proxy = estuary::domain::accounts::find_by_actor_url(
        &a.state.store,
        &a.url(&format!("/sites/{}", site.domain())),
    )
    .await
    .unwrap()
    .unwrap();
    let filed = estuary::domain::posts::inbox_of(&a.state.store, proxy.id, 0, 10)
        .await
        .unwrap();
    assert!(
        filed
            .items
            .iter()
            .any(|i| i.object_ap_id.as_deref() == Some(&replied)),
        "the proxy actor's inbox has the reply"
    );
}

/// Cases 3 and 4: a reply addressed to a room only, to a member site's
/// post, reaches the site; a Mastodon-style reply (addressed to the
/// parent's author, not to the room) from a member is relayed.
#[tokio::test]
async fn replies_in_a_rooms_thread_are_relayed_and_reach_member_sites() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("owner").await;
    b.add_user("bob").await;
    b.add_user("carol").await;
    let r = room(&a, "garden", "owner", false).await;
    follow_and_wait(&b, "bob", &r.actor_url).await;
    follow_and_wait(&b, "carol", &r.actor_url).await;
    let site = Site::start().await;
    site.set_post(&site.room_post_html(&r.actor_url, "<p>Hello garden.</p>"));
    let site_note = webmention(&a, &site.post_url(), &r.actor_url).await;
    wait_until(15, "the site's post relayed to bob", || async {
        has_object(&b.inbox("bob").await, &site_note)
    })
    .await;

    // Addressed to the room only: not public, yet the member site hears it.
    let room_reply = note(
        &b,
        "bob",
        Draft {
            content_html: "<p>Welcome, Sam.</p>".into(),
            to: vec![r.actor_url.clone()],
            in_reply_to: Some(site_note.clone()),
            ..Default::default()
        },
    )
    .await;
    wait_until(15, "a Webmention at the site", || async {
        site.received().iter().any(|(_, t)| t == &site.post_url())
    })
    .await;
    let mirror = site.received()[0].0.clone();
    let page = a.client.get(&mirror).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "the open room's reply has a mirror page"
    );
    assert!(page.text().await.unwrap().contains("Welcome, Sam."));
    wait_until(15, "bob's reply relayed to carol", || async {
        has_object(&b.inbox("carol").await, &room_reply)
    })
    .await;

    // carol answers the site's post as Mastodon does: public, mentioning
    // its author, not addressed to the room. The room relays it: its
    // thread is the room's.
    let proxy_url = a.url(&format!("/sites/{}", site.domain()));
    let carols = note(
        &b,
        "carol",
        Draft {
            content_html: "<p>Indeed, welcome.</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![proxy_url],
            in_reply_to: Some(site_note.clone()),
            ..Default::default()
        },
    )
    .await;
    wait_until(
        15,
        "the room's Announce of carol's reply at bob's",
        || async {
            b.inbox("bob").await.iter().any(|a| {
                a["type"] == "Announce"
                    && a["actor"] == r.actor_url
                    && a["object"]["object"]["id"] == carols
            })
        },
    )
    .await;
}

/// Case 5: local-to-local follows complete at once, without HTTP; a room's
/// owner may post to their own room.
#[tokio::test]
async fn local_follows_complete_directly_and_owners_post_to_their_rooms() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    a.add_user("dave").await;
    a.add_user("owner").await;
    b.add_user("bob").await;
    let alice = a.account("alice").await;
    let r = room(&a, "garden", "owner", false).await;
    for followee in [a.url("/users/dave"), r.actor_url.clone()] {
        follow(a.fed(), &alice, &followee).await.unwrap();
        assert_eq!(
            estuary::domain::follows::follow_state(
                &a.state.store,
                alice.id,
                estuary::domain::accounts::find_by_actor_url(&a.state.store, &followee)
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            )
            .await
            .unwrap(),
            Some(true),
            "{followee} is followed as soon as the call returns"
        );
    }
    assert_eq!(
        a.db.count("jobs WHERE kind = 'deliver'"),
        0,
        "nothing went over HTTP"
    );
    let accepts = a.inbox("alice").await;
    assert_eq!(
        accepts.iter().filter(|a| a["type"] == "Accept").count(),
        2,
        "both Accepts are in alice's inbox"
    );

    // bob joins from B; the owner (not a member) posts to the room.
    follow_and_wait(&b, "bob", &r.actor_url).await;
    let owners = note(
        &a,
        "owner",
        Draft {
            content_html: "<p>Welcome to my garden.</p>".into(),
            to: vec![r.actor_url.clone()],
            cc: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await;
    wait_until(15, "the owner's post relayed to bob", || async {
        has_object(&b.inbox("bob").await, &owners)
    })
    .await;
    assert!(
        has_object(&a.inbox("alice").await, &owners),
        "alice, a local member, has it in her inbox"
    );
}

async fn signed_post(to: &TestServer, from: &TestServer, who: &str, activity: &Value) -> u16 {
    let body = serde_json::to_vec(activity).unwrap();
    let url = to.url("/inbox");
    let signer = common::signer_of(from, who).await;
    let headers = common::signed_post_headers(&url, &body, &signer, chrono::Utc::now());
    common::post_with(&url, headers, body)
        .await
        .status()
        .as_u16()
}

fn create_by(from: &TestServer, who: &str, n: u32, to: Vec<String>) -> Value {
    let actor = from.url(&format!("/users/{who}"));
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/hand-made/{n}"),
        "type": "Create",
        "actor": actor,
        "to": to,
        "object": {
            "id": format!("{actor}/hand-made/{n}/note"),
            "type": "Note",
            "attributedTo": actor,
            "content": "<p>pushed</p>",
            "to": to,
        }
    })
}

/// Case 6: a stranger cannot push a post into local inboxes by addressing
/// someone else's followers collection, nor a room's without membership.
#[tokio::test]
async fn strangers_cannot_address_other_followers_collections() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    a.add_user("carol").await;
    a.add_user("owner").await;
    b.add_user("mallory").await;
    follow(a.fed(), &a.account("carol").await, &a.url("/users/alice"))
        .await
        .unwrap();
    let r = room(&a, "garden", "owner", false).await;
    // A knows mallory once a signed request made it fetch her actor.
    let status = signed_post(
        &a,
        &b,
        "mallory",
        &create_by(&b, "mallory", 1, vec![a.url("/users/alice/followers")]),
    )
    .await;
    assert_eq!(status, 202, "stored, but filed for nobody");
    for who in ["carol", "alice"] {
        assert!(
            a.inbox(who).await.iter().all(|i| i["type"] != "Create"),
            "{who} got nothing"
        );
    }

    let status = signed_post(
        &a,
        &b,
        "mallory",
        &create_by(&b, "mallory", 2, vec![r.followers_url.clone().unwrap()]),
    )
    .await;
    assert_eq!(
        status, 403,
        "a room's followers collection counts as the room"
    );
    assert_eq!(
        a.db.count(&format!(
            "activities WHERE ap_id = '{}'",
            b.url("/users/mallory/hand-made/2")
        )),
        0,
        "nothing was stored"
    );
}

/// Case 7: a remote Delete takes the post out of every inbox it was in.
#[tokio::test]
async fn a_remote_delete_empties_the_inboxes() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("carol").await;
    b.add_user("bob").await;
    let posted = note(
        &b,
        "bob",
        Draft {
            content_html: "<p>secret plans</p>".into(),
            to: vec![a.url("/users/carol")],
            ..Default::default()
        },
    )
    .await;
    wait_until(15, "the note at carol's", || async {
        has_object(&a.inbox("carol").await, &posted)
    })
    .await;
    delete_note(b.fed(), &b.account("bob").await, &posted)
        .await
        .unwrap();
    wait_until(15, "the note to leave carol's inbox", || async {
        a.inbox("carol").await.iter().all(|i| i["type"] != "Create")
    })
    .await;
    assert!(
        a.inbox("carol")
            .await
            .iter()
            .all(|i| !i.to_string().contains("secret plans")),
        "no trace of its content is left in the inbox"
    );
}

/// Case 8: a Follow for an account already followed keeps the follow
/// accepted (and is answered again), even when the followee is locked.
#[tokio::test]
async fn a_repeated_follow_is_not_downgraded() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("carol").await;
    b.add_user("bob").await;
    follow_and_wait(&a, "carol", &b.url("/users/bob")).await;
    b.db.execute("UPDATE accounts SET manually_approves_followers = TRUE WHERE username = 'bob'");
    let carol = a.account("carol").await;
    follow(a.fed(), &carol, &b.url("/users/bob")).await.unwrap();
    wait_until(15, "the second Accept", || async {
        a.db.count("activities WHERE kind = 'Accept'") == 2
    })
    .await;
    let bob = b.account("bob").await;
    let carol_at_b = estuary::domain::accounts::find_by_actor_url(&b.state.store, &carol.actor_url)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        estuary::domain::follows::follow_state(&b.state.store, carol_at_b.id, bob.id)
            .await
            .unwrap(),
        Some(true)
    );
    let bob_at_a = estuary::domain::accounts::find_by_actor_url(&a.state.store, &bob.actor_url)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        estuary::domain::follows::follow_state(&a.state.store, carol.id, bob_at_a.id)
            .await
            .unwrap(),
        Some(true)
    );
}

/// Case 9: a site removed or banned from a room loses its subscription to
/// the room's feed.
#[tokio::test]
async fn leaving_a_room_ends_the_sites_subscription() {
    let a = TestServer::start().await;
    a.add_user("owner").await;
    let r = room(&a, "garden", "owner", false).await;
    for ban in [false, true] {
        let site = Site::start().await;
        site.set_post(&site.room_post_html(&r.actor_url, "<p>Hello garden.</p>"));
        webmention(&a, &site.post_url(), &r.actor_url).await;
        let response = a
            .client
            .post(a.url("/websub"))
            .form(&[
                ("hub.mode", "subscribe"),
                ("hub.topic", &format!("{}/feed.atom", r.actor_url)),
                ("hub.callback", &site.callback_url()),
                ("hub.secret", "s3cret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        wait_until(15, "the subscription", || async {
            a.db.count("websub_subscriptions") == 1
        })
        .await;
        let proxy = estuary::domain::accounts::find_proxy(&a.state.store, &site.domain())
            .await
            .unwrap()
            .unwrap();
        if ban {
            estuary::rooms::membership::ban(a.fed(), &r, &proxy)
                .await
                .unwrap();
        } else {
            estuary::rooms::membership::leave(&a.state.store, r.id, proxy.id)
                .await
                .unwrap();
        }
        assert_eq!(a.db.count("websub_subscriptions"), 0, "ban: {ban}");
    }
}
