//! The inbox under good and bad input: real instances, real signatures,
//! hand-made activities. Every refusal leaves the database as it was.

mod common;

use chrono::{Duration, Utc};
use common::{TestDb, TestServer, post_with, signed_post_headers, signer_of, wait_until};
use estuary::federation::fetch::Signer;
use serde_json::{Value, json};

struct Peers {
    a: TestServer,
    b: TestServer,
}

async fn peers() -> Peers {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    a.add_user("alice2").await;
    a.add_user("alice3").await;
    b.add_user("bob").await;
    b.add_user("carol").await;
    Peers { a, b }
}

fn unique() -> String {
    common::random_suffix()
}

/// A Create of a Note by `author` on `b`, addressed to `to`.
fn create(b: &TestServer, author: &str, to: &[String], content: &str) -> Value {
    let n = unique();
    let actor = b.url(&format!("/users/{author}"));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": b.url(&format!("/activities/{n}")),
        "type": "Create",
        "actor": actor,
        "to": to,
        "object": {
            "id": b.url(&format!("/objects/{n}")),
            "type": "Note",
            "attributedTo": actor,
            "content": content,
            "to": to,
            "published": "2026-11-21T10:00:00Z"
        }
    })
}

async fn post(url: &str, activity: &Value, signer: &Signer) -> reqwest::Response {
    let body = serde_json::to_vec(activity).unwrap();
    post_with(
        url,
        signed_post_headers(url, &body, signer, Utc::now()),
        body,
    )
    .await
}

/// Row counts that must not move when a request is refused.
fn counts(server: &TestServer) -> [i64; 4] {
    ["activities", "objects", "inbox_items", "follows"].map(|t| server.db.count(t))
}

#[tokio::test]
async fn a_signed_create_is_filed_once_even_when_replayed() {
    let p = peers().await;
    let bob = signer_of(&p.b, "bob").await;
    let activity = create(
        &p.b,
        "bob",
        &[p.a.url("/users/alice")],
        "<p>hello <script>x</script></p>",
    );
    let inbox = p.a.url("/users/alice/inbox");
    assert_eq!(post(&inbox, &activity, &bob).await.status(), 202);
    let after_first = counts(&p.a);
    assert_eq!(
        post(&inbox, &activity, &bob).await.status(),
        202,
        "a replay is accepted"
    );
    assert_eq!(counts(&p.a), after_first, "and changes nothing");
    let filed = p.a.inbox("alice").await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0]["id"], activity["id"]);
    let stored = estuary::domain::posts::find_post(
        &p.a.state.store,
        activity["object"]["id"].as_str().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        stored.content.as_deref(),
        Some("<p>hello </p>"),
        "foreign HTML is sanitised"
    );
    let metrics = p.a.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("estuary_inbox_requests_total{outcome=\"accepted\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("estuary_inbox_requests_total{outcome=\"replay\"} 1"));
}

#[tokio::test]
async fn the_shared_inbox_routes_to_addressees_only() {
    let p = peers().await;
    let bob = signer_of(&p.b, "bob").await;
    let to = [p.a.url("/users/alice"), p.a.url("/users/alice2")];
    let activity = create(&p.b, "bob", &to, "<p>both of you</p>");
    assert_eq!(
        post(&p.a.url("/inbox"), &activity, &bob).await.status(),
        202
    );
    assert_eq!(p.a.inbox("alice").await.len(), 1);
    assert_eq!(p.a.inbox("alice2").await.len(), 1);
    assert!(p.a.inbox("alice3").await.is_empty());
}

#[tokio::test]
async fn unsigned_forged_and_mis_dated_requests_are_401_and_change_nothing() {
    let p = peers().await;
    let inbox = p.a.url("/users/alice/inbox");
    let bob = signer_of(&p.b, "bob").await;
    let carol = signer_of(&p.b, "carol").await;
    let activity = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>x</p>");
    let body = serde_json::to_vec(&activity).unwrap();
    let before = counts(&p.a);

    // No signature at all.
    let unsigned =
        p.a.client
            .post(&inbox)
            .header("content-type", "application/activity+json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
    assert_eq!(unsigned.status(), 401);

    // bob's key id, carol's key: the signature does not verify.
    let forged = Signer {
        key_id: bob.key_id.clone(),
        key: carol.key.clone(),
    };
    assert_eq!(post(&inbox, &activity, &forged).await.status(), 401);

    // Dated two hours ahead, and thirteen hours old.
    for when in [
        Utc::now() + Duration::hours(2),
        Utc::now() - Duration::hours(13),
    ] {
        let headers = signed_post_headers(&inbox, &body, &bob, when);
        assert_eq!(
            post_with(&inbox, headers, body.clone()).await.status(),
            401,
            "{when}"
        );
    }

    // A signature that leaves out the digest.
    let mut headers = signed_post_headers(&inbox, &body, &bob, Utc::now());
    let signature = headers["signature"]
        .to_str()
        .unwrap()
        .replace(" digest", "");
    headers.insert("signature", signature.parse().unwrap());
    assert_eq!(post_with(&inbox, headers, body.clone()).await.status(), 401);

    assert_eq!(counts(&p.a), before);
    let metrics = p.a.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("estuary_signature_verification_failures_total{reason=\"missing\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("estuary_signature_verification_failures_total{reason=\"invalid\"}"));
}

#[tokio::test]
async fn a_tampered_body_is_400_and_a_foreign_key_is_403() {
    let p = peers().await;
    let inbox = p.a.url("/users/alice/inbox");
    let bob = signer_of(&p.b, "bob").await;
    let carol = signer_of(&p.b, "carol").await;
    let activity = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>original</p>");
    let body = serde_json::to_vec(&activity).unwrap();
    let before = counts(&p.a);

    let headers = signed_post_headers(&inbox, &body, &bob, Utc::now());
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("original", "tampered");
    assert_eq!(
        post_with(&inbox, headers, tampered.into_bytes())
            .await
            .status(),
        400
    );

    // carol signs (validly) an activity whose actor is bob.
    assert_eq!(post(&inbox, &activity, &carol).await.status(), 403);

    // Malformed JSON, properly signed.
    let junk = b"{not json".to_vec();
    let headers = signed_post_headers(&inbox, &junk, &bob, Utc::now());
    assert_eq!(post_with(&inbox, headers, junk).await.status(), 400);

    // The wrong media type.
    let mut headers = signed_post_headers(&inbox, &body, &bob, Utc::now());
    headers.insert("content-type", "text/plain".parse().unwrap());
    assert_eq!(post_with(&inbox, headers, body.clone()).await.status(), 415);

    assert_eq!(counts(&p.a), before);
}

#[tokio::test]
async fn only_the_owner_may_update_or_delete() {
    let p = peers().await;
    let inbox = p.a.url("/users/alice/inbox");
    let bob = signer_of(&p.b, "bob").await;
    let carol = signer_of(&p.b, "carol").await;
    let created = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>v1</p>");
    assert_eq!(post(&inbox, &created, &bob).await.status(), 202);
    let note_id = created["object"]["id"].as_str().unwrap().to_owned();
    let note = created["object"].clone();

    let update_by = |who: &str, content: &str| {
        let mut object = note.clone();
        object["content"] = json!(content);
        json!({
            "id": p.b.url(&format!("/activities/{}", unique())),
            "type": "Update",
            "actor": p.b.url(&format!("/users/{who}")),
            "to": [p.a.url("/users/alice")],
            "object": object,
        })
    };
    let delete_by = |who: &str| {
        json!({
            "id": p.b.url(&format!("/activities/{}", unique())),
            "type": "Delete",
            "actor": p.b.url(&format!("/users/{who}")),
            "to": [p.a.url("/users/alice")],
            "object": note_id,
        })
    };
    let before = counts(&p.a);
    assert_eq!(
        post(&inbox, &update_by("carol", "<p>hijacked</p>"), &carol)
            .await
            .status(),
        403
    );
    assert_eq!(
        post(&inbox, &delete_by("carol"), &carol).await.status(),
        403
    );
    assert_eq!(counts(&p.a), before);
    let stored = estuary::domain::posts::find_post(&p.a.state.store, &note_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.content.as_deref(), Some("<p>v1</p>"));
    assert!(stored.deleted_at.is_none());

    assert_eq!(
        post(&inbox, &update_by("bob", "<p>v2</p>"), &bob)
            .await
            .status(),
        202
    );
    let stored = estuary::domain::posts::find_post(&p.a.state.store, &note_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.content.as_deref(), Some("<p>v2</p>"));
    assert_eq!(post(&inbox, &delete_by("bob"), &bob).await.status(), 202);
    let stored = estuary::domain::posts::find_post(&p.a.state.store, &note_id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.deleted_at.is_some());
    assert_eq!(stored.content, None);
}

#[tokio::test]
async fn follow_undo_like_and_block() {
    let p = peers().await;
    let inbox = p.a.url("/users/alice/inbox");
    let bob = signer_of(&p.b, "bob").await;
    let alice_url = p.a.url("/users/alice");
    let follow = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Follow",
        "actor": p.b.url("/users/bob"),
        "object": alice_url,
    });
    assert_eq!(post(&inbox, &follow, &bob).await.status(), 202);
    let followers = |server: &TestServer| {
        let url = server.url("/users/alice/followers");
        let client = server.client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["totalItems"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(followers(&p.a).await, 1);
    // The Accept is delivered back to B, signed; B verifies it and answers
    // 2xx (it ignores it, having never asked: the end-to-end follow is in
    // tests/federation.rs).
    wait_until(10, "the Accept delivery", || async {
        p.a.db
            .count("jobs WHERE kind = 'deliver' AND status = 'done'")
            == 1
    })
    .await;
    assert_eq!(
        estuary::delivery::stats(&p.a.state.store)
            .await
            .unwrap()
            .dead,
        0
    );

    let undo = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Undo",
        "actor": p.b.url("/users/bob"),
        "object": follow,
    });
    assert_eq!(post(&inbox, &undo, &bob).await.status(), 202);
    assert_eq!(followers(&p.a).await, 0);

    let like = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Like",
        "actor": p.b.url("/users/bob"),
        "object": p.a.url("/objects/whatever"),
    });
    assert_eq!(post(&inbox, &like, &bob).await.status(), 202);
    assert_eq!(p.a.db.count("reactions"), 1);
    let undo_like = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Undo",
        "actor": p.b.url("/users/bob"),
        "object": like,
    });
    assert_eq!(post(&inbox, &undo_like, &bob).await.status(), 202);
    assert_eq!(p.a.db.count("reactions"), 0);

    // Follow again, then bob blocks alice: the follow ends.
    let refollow = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Follow",
        "actor": p.b.url("/users/bob"),
        "object": alice_url,
    });
    assert_eq!(post(&inbox, &refollow, &bob).await.status(), 202);
    assert_eq!(followers(&p.a).await, 1);
    let block = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Block",
        "actor": p.b.url("/users/bob"),
        "object": alice_url,
    });
    assert_eq!(post(&inbox, &block, &bob).await.status(), 202);
    assert_eq!(followers(&p.a).await, 0);
    assert_eq!(p.a.db.count("blocks"), 1);
    // Only bob may undo his Block; then it is gone, embedded or by id.
    let carol = signer_of(&p.b, "carol").await;
    let forged = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Undo",
        "actor": p.b.url("/users/carol"),
        "object": block["id"],
    });
    assert_eq!(post(&inbox, &forged, &carol).await.status(), 202);
    assert_eq!(p.a.db.count("blocks"), 1, "carol cannot undo bob's block");
    let unblock = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Undo",
        "actor": p.b.url("/users/bob"),
        "object": block,
    });
    assert_eq!(post(&inbox, &unblock, &bob).await.status(), 202);
    assert_eq!(p.a.db.count("blocks"), 0);
    let block_again = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Block",
        "actor": p.b.url("/users/bob"),
        "object": alice_url,
    });
    assert_eq!(post(&inbox, &block_again, &bob).await.status(), 202);
    assert_eq!(p.a.db.count("blocks"), 1);
    let unblock_by_id = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Undo",
        "actor": p.b.url("/users/bob"),
        "object": block_again["id"],
    });
    assert_eq!(post(&inbox, &unblock_by_id, &bob).await.status(), 202);
    assert_eq!(p.a.db.count("blocks"), 0);

    // Unknown types are accepted and ignored.
    let odd = json!({
        "id": p.b.url(&format!("/activities/{}", unique())),
        "type": "Arrive",
        "actor": p.b.url("/users/bob"),
    });
    let before = p.a.db.count("activities");
    assert_eq!(post(&inbox, &odd, &bob).await.status(), 202);
    assert_eq!(p.a.db.count("activities"), before);
}

#[tokio::test]
async fn unknown_inboxes_and_oversized_bodies() {
    let p = peers().await;
    let bob = signer_of(&p.b, "bob").await;
    let activity = create(&p.b, "bob", &[p.a.url("/users/ghost")], "<p>x</p>");
    assert_eq!(
        post(&p.a.url("/users/ghost/inbox"), &activity, &bob)
            .await
            .status(),
        404
    );

    let inbox = p.a.url("/users/alice/inbox");
    let mut big = create(&p.b, "bob", &[p.a.url("/users/alice")], "");
    big["object"]["content"] = json!("x".repeat(1024 * 1024 + 10));
    let before = counts(&p.a);
    assert_eq!(post(&inbox, &big, &bob).await.status(), 413);
    assert_eq!(counts(&p.a), before);
}

#[tokio::test]
async fn loopback_keys_are_not_fetched_unless_allowed() {
    // An instance that keeps the default: no private or loopback fetches.
    let guarded = TestServer::start_with(TestDb::new(), |config| {
        config.allow_private_addresses = false;
    })
    .await;
    guarded.add_user("alice").await;
    let b = TestServer::start().await;
    b.add_user("bob").await;
    let bob = signer_of(&b, "bob").await;
    let activity = create(&b, "bob", &[guarded.url("/users/alice")], "<p>x</p>");
    let before = counts(&guarded);
    let response = post(&guarded.url("/users/alice/inbox"), &activity, &bob).await;
    assert_eq!(response.status(), 401, "bob's key is on a loopback address");
    assert_eq!(counts(&guarded), before);

    let refused = estuary::federation::resolve::actor(guarded.fed(), &b.url("/users/bob")).await;
    let error = refused.expect_err("loopback fetch refused").to_string();
    assert!(
        error.contains("127.0.0.1")
            || error.to_lowercase().contains("forbidden")
            || error.contains("not allowed"),
        "{error}"
    );
}

#[tokio::test]
async fn an_rfc_9421_signature_is_accepted_like_a_cavage_one() {
    let p = peers().await;
    let inbox = p.a.url("/users/alice/inbox");
    let bob = signer_of(&p.b, "bob").await;
    let activity = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>structured</p>");
    let body = serde_json::to_vec(&activity).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/activity+json".parse().unwrap());
    estuary::federation::signatures::sign_rfc9421(
        &http::Method::POST,
        &url::Url::parse(&inbox).unwrap(),
        &mut headers,
        Some(&body),
        &bob.key_id,
        &bob.key,
        Utc::now(),
    )
    .unwrap();
    assert!(headers.contains_key("signature-input") && headers.contains_key("content-digest"));
    assert!(!headers.contains_key("digest"));
    assert_eq!(
        post_with(&inbox, headers.clone(), body.clone())
            .await
            .status(),
        202
    );
    assert_eq!(p.a.inbox("alice").await.len(), 1);

    // The same signature over a changed body fails on Content-Digest.
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("structured", "restructured");
    let replayed = headers.clone();
    assert_eq!(
        post_with(&inbox, replayed, tampered.into_bytes())
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_again_once() {
    let p = peers().await;
    let inbox = p.a.url("/users/alice/inbox");
    let bob = signer_of(&p.b, "bob").await;
    let first = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>old key</p>");
    assert_eq!(
        post(&inbox, &first, &bob).await.status(),
        202,
        "A now caches bob's key"
    );

    // bob rotates his key on B (same key id).
    let fresh = estuary::domain::keys::generate_key_pair().unwrap();
    p.b.db.execute(&format!(
        "UPDATE accounts SET public_key_pem = '{}', private_key_pem = '{}' WHERE username = 'bob'",
        fresh.public_pem, fresh.private_pem
    ));
    // B serves bob's actor from memory: a change made behind its back
    // reaches it within the cache's bound.
    common::within_cache_bound("bob's new key on B", || async {
        let actor: serde_json::Value =
            p.b.get("/users/bob", Some("application/activity+json"))
                .await
                .json()
                .await
                .unwrap();
        actor["publicKey"]["publicKeyPem"] == fresh.public_pem.as_str()
    })
    .await;
    let rotated = Signer {
        key_id: bob.key_id.clone(),
        key: std::sync::Arc::new(
            openssl::pkey::PKey::private_key_from_pem(fresh.private_pem.as_bytes()).unwrap(),
        ),
    };
    let second = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>new key</p>");
    assert_eq!(post(&inbox, &second, &rotated).await.status(), 202);
    assert_eq!(p.a.inbox("alice").await.len(), 2);

    // The old key no longer verifies, even after the refetch.
    let third = create(&p.b, "bob", &[p.a.url("/users/alice")], "<p>stale</p>");
    assert_eq!(post(&inbox, &third, &bob).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_signed_with_an_unknown_key_fetches_it_once() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    let sink = common::sink::Sink::start(0).await;
    let signer = sink.signer(7);
    let inbox = a.url("/users/alice/inbox");
    let mut posts = Vec::new();
    for n in 0..24 {
        let actor = sink.actor_url(7);
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/activities/{n}"),
            "type": "Create",
            "actor": actor,
            "to": [a.url("/users/alice")],
            "object": {
                "id": format!("{actor}/objects/{n}"),
                "type": "Note",
                "attributedTo": actor,
                "content": "<p>hello</p>",
                "to": [a.url("/users/alice")],
                "tag": [{"type": "Mention", "href": a.url("/users/alice")}],
            }
        });
        let body = serde_json::to_vec(&activity).unwrap();
        let headers = signed_post_headers(&inbox, &body, &signer, Utc::now());
        let inbox = inbox.clone();
        posts.push(tokio::spawn(async move {
            post_with(&inbox, headers, body).await
        }));
    }
    for post in posts {
        assert_eq!(post.await.unwrap().status(), 202);
    }
    let fetches = sink
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /actors/7"))
        .count();
    assert_eq!(
        fetches, 1,
        "one fetch of the key's actor for 24 requests at once"
    );
}
