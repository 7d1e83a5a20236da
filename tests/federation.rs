//! Two instances, each with its own database, over real HTTP on loopback
//! with real signatures: private and followers-only notes reach exactly
//! their audience and are served to nobody else.

mod common;

use common::{TestServer, signed_get, signer_of, wait_until};
use estuary::federation::outbox::{Draft, follow, publish_note};
use serde_json::Value;

async fn two_instances() -> (TestServer, TestServer) {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    b.add_user("carol").await;
    (a, b)
}

#[tokio::test]
async fn a_direct_note_reaches_its_addressee_and_nobody_else() {
    let (a, b) = two_instances().await;
    let alice = a.account("alice").await;
    let bob_url = b.url("/users/bob");

    let published = publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>for bob only</p>".into(),
            to: vec![bob_url.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();

    wait_until(10, "bob's inbox", || async {
        b.inbox("bob").await.len() == 1
    })
    .await;
    let received = &b.inbox("bob").await[0];
    assert_eq!(received["type"], "Create");
    assert_eq!(received["id"], published.activity_id);
    assert_eq!(received["object"]["content"], "<p>for bob only</p>");
    assert_eq!(received["object"]["to"], serde_json::json!([bob_url]));
    let tag = &received["object"]["tag"][0];
    assert_eq!(tag["type"], "Mention");
    assert_eq!(tag["href"], bob_url);
    assert_eq!(tag["name"], format!("@bob@{}", b.host()));
    assert!(b.inbox("carol").await.is_empty(), "carol never receives it");

    // Not in alice's outbox for anonymous readers, not fetchable by them.
    let outbox: Value = a
        .get("/users/alice/outbox", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["totalItems"], 0);
    let anonymous = a
        .client
        .get(&published.object_id)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 404);
    let anonymous = a.client.get(&published.activity_id).send().await.unwrap();
    assert_eq!(anonymous.status(), 404);

    // A signed GET for bob sees it; one for carol does not (404, not 403).
    let as_bob = signed_get(&published.object_id, &signer_of(&b, "bob").await).await;
    assert_eq!(as_bob.status(), 200);
    let note: Value = as_bob.json().await.unwrap();
    assert_eq!(note["content"], "<p>for bob only</p>");
    let as_carol = signed_get(&published.object_id, &signer_of(&b, "carol").await).await;
    assert_eq!(as_carol.status(), 404);

    // bob's signed read of alice's outbox includes it.
    let outbox: Value = signed_get(
        &a.url("/users/alice/outbox?page=1"),
        &signer_of(&b, "bob").await,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(outbox["totalItems"], 1);
    assert_eq!(outbox["orderedItems"][0]["id"], published.activity_id);
}

#[tokio::test]
async fn followers_only_notes_reach_followers_only() {
    let (a, b) = two_instances().await;
    let alice = a.account("alice").await;
    let bob = b.account("bob").await;

    // bob follows alice: A accepts automatically and delivers the Accept.
    follow(b.fed(), &bob, &a.url("/users/alice")).await.unwrap();
    wait_until(10, "the follow to be accepted", || async {
        estuary::domain::follows::following(&b.state.store, bob.id)
            .await
            .unwrap()
            .iter()
            .any(|f| f.actor_url == a.url("/users/alice"))
    })
    .await;
    let followers: Value = a
        .get(
            "/users/alice/followers?page=1",
            Some("application/activity+json"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["totalItems"], 1);
    assert_eq!(followers["orderedItems"][0], b.url("/users/bob"));

    let published = publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>followers only</p>".into(),
            to: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // bob's inbox holds alice's Accept, then her note.
    wait_until(10, "bob's inbox", || async {
        b.inbox("bob").await.len() == 2
    })
    .await;
    assert_eq!(b.inbox("bob").await[0]["object"]["id"], published.object_id);
    assert_eq!(b.inbox("bob").await[1]["type"], "Accept");
    assert!(b.inbox("carol").await.is_empty());

    assert_eq!(
        a.client
            .get(&published.object_id)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        signed_get(&published.object_id, &signer_of(&b, "bob").await)
            .await
            .status(),
        200
    );
    assert_eq!(
        signed_get(&published.object_id, &signer_of(&b, "carol").await)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn public_notes_are_in_the_outbox_and_pages_hold_twenty() {
    let a = TestServer::start().await;
    let alice = a.add_user("alice").await;
    for n in 0..45 {
        publish_note(
            a.fed(),
            &alice,
            Draft {
                content_html: format!("<p>note {n}</p>"),
                to: vec![estuary::domain::audience::PUBLIC.into()],
                cc: vec![alice.followers_url.clone().unwrap()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let collection: Value = a
        .get("/users/alice/outbox", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(collection["type"], "OrderedCollection");
    assert_eq!(collection["totalItems"], 45);
    let first = collection["first"].as_str().unwrap();
    let page1: Value = a
        .client
        .get(first)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page1["type"], "OrderedCollectionPage");
    assert_eq!(page1["orderedItems"].as_array().unwrap().len(), 20);
    assert_eq!(
        page1["orderedItems"][0]["object"]["content"], "<p>note 44</p>",
        "newest first"
    );
    assert!(page1.get("prev").is_none());
    let page3: Value = a
        .client
        .get(a.url("/users/alice/outbox?page=3"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page3["orderedItems"].as_array().unwrap().len(), 5);
    assert!(page3.get("next").is_none());
    assert_eq!(page3["prev"], a.url("/users/alice/outbox?page=2"));
    // Public objects are served to anyone.
    let id = page3["orderedItems"][4]["object"]["id"].as_str().unwrap();
    let note: Value = a
        .client
        .get(id)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(note["content"], "<p>note 0</p>");
    assert_eq!(
        a.get("/users/alice/outbox?page=0", None).await.status(),
        400
    );
}

#[tokio::test]
async fn the_instance_actor_is_discoverable_and_signs_fetches() {
    let a = TestServer::start().await;
    let actor: Value = a
        .get("/actor", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], a.url("/actor"));
    assert!(
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .contains("PUBLIC KEY")
    );
    let jrd: Value = a
        .client
        .get(a.url("/.well-known/webfinger"))
        .query(&[("resource", format!("acct:{}@{}", a.host(), a.host()))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jrd["links"][0]["href"], a.url("/actor"));
}

#[tokio::test]
async fn a_deleted_note_is_a_tombstone_here_and_there() {
    let (a, b) = two_instances().await;
    let alice = a.account("alice").await;
    let published = publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>soon gone</p>".into(),
            to: vec![b.url("/users/bob")],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(10, "bob's inbox", || async {
        b.inbox("bob").await.len() == 1
    })
    .await;

    estuary::federation::outbox::delete_note(a.fed(), &alice, &published.object_id)
        .await
        .unwrap();
    let as_bob = signed_get(&published.object_id, &signer_of(&b, "bob").await).await;
    assert_eq!(as_bob.status(), 410);
    let tombstone: Value = as_bob.json().await.unwrap();
    assert_eq!(tombstone["type"], "Tombstone");
    assert_eq!(tombstone["formerType"], "Note");
    assert_eq!(tombstone["id"], published.object_id);
    // Deleted or not, a private post stays invisible to others.
    assert_eq!(
        a.client
            .get(&published.object_id)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    wait_until(10, "B to apply the Delete", || async {
        estuary::domain::posts::find_post(&b.state.store, &published.object_id)
            .await
            .unwrap()
            .is_some_and(|p| p.deleted_at.is_some() && p.content.is_none())
    })
    .await;
    // Deleting twice is refused: the post is gone.
    assert!(
        estuary::federation::outbox::delete_note(a.fed(), &alice, &published.object_id)
            .await
            .is_err()
    );
}
