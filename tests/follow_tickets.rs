//! Sites follow people and read their followers-only posts (issue 12, flow
//! 3): a site's follow post (`u-follow-of`) sent as a Webmention becomes a
//! Follow from its proxy; once it is accepted the site is sent a ticket,
//! redeems it at our token endpoint, reads the person's feed with the
//! followers-only posts (never the direct ones) and is pushed them by
//! WebSub, alone, until it unfollows (the post answers 410) or is blocked.

mod common;

use common::site::{Site, redeem_ticket};
use common::{TestServer, wait_until};
use estuary::domain::accounts::Account;
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};

async fn mention(a: &TestServer, source: &str, target: &str) {
    let response = a
        .client
        .post(a.url("/webmention"))
        .form(&[("source", source), ("target", target)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

async fn post(a: &TestServer, author: &Account, text: &str, to: Vec<String>) {
    publish_note(
        a.fed(),
        author,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to,
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

async fn get(a: &TestServer, path: &str, token: Option<&str>, accept: &str) -> reqwest::Response {
    let mut request = a.client.get(a.url(path)).header("accept", accept);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn feed(a: &TestServer, name: &str, token: Option<&str>) -> reqwest::Response {
    get(
        a,
        &format!("/users/{name}/feed.atom"),
        token,
        "application/atom+xml",
    )
    .await
}

async fn subscribe(a: &TestServer, topic: &str, callback: &str) {
    let response = a
        .client
        .post(a.url("/websub"))
        .form(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", topic),
            ("hub.callback", callback),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

fn pushed(site: &Site) -> Vec<String> {
    site.pushes()
        .into_iter()
        .map(|(_, body)| String::from_utf8(body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_following_site_reads_followers_only_posts_by_ticket_until_it_unfollows() {
    let a = TestServer::start().await;
    let alice = a.add_user("alice").await;
    a.add_user("bob").await;
    let followers = alice.followers_url.clone().unwrap();
    let site = Site::start().await;
    let stranger = Site::start().await;

    // The follow post, sent as a Webmention to Alice's profile.
    let profile = a.url("/@alice");
    site.set_post(&site.follow_html(&profile));
    mention(&a, &site.post_url(), &profile).await;
    wait_until(15, "the follow to be accepted", || async {
        a.db.count("follows WHERE accepted = TRUE") == 1
            && a.db.count("activities WHERE kind = 'Accept'") == 1
    })
    .await;
    let proxy = estuary::domain::accounts::find_proxy(&a.state.store, &site.domain())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        estuary::domain::follows::follow_state(&a.state.store, proxy.id, alice.id)
            .await
            .unwrap(),
        Some(true)
    );

    // The ticket arrives at the site's ticket endpoint; the site redeems it.
    wait_until(15, "the site to redeem its ticket", || async {
        !site.feed_tokens().is_empty()
    })
    .await;
    let ticket = site.tickets()[0].clone();
    let topic = a.url("/users/alice/feed.atom");
    assert_eq!(ticket["resource"], topic);
    assert_eq!(ticket["subject"], format!("{}/", site.base));
    assert_eq!(ticket["iss"], a.url("/"));
    let (resource, token) = site.feed_tokens()[0].clone();
    assert_eq!(resource, topic);

    post(&a, &alice, "Only my followers.", vec![followers.clone()]).await;
    post(&a, &alice, "Only Bob.", vec![a.url("/users/bob")]).await;
    post(&a, &alice, "Everyone may read this.", vec![PUBLIC.into()]).await;

    // The feed: followers-only posts for the token's bearer only, never
    // the direct one.
    let public = feed(&a, "alice", None).await.text().await.unwrap();
    assert!(public.contains("Everyone may read this."));
    assert!(!public.contains("Only my followers") && !public.contains("Only Bob"));
    let private = feed(&a, "alice", Some(&token)).await;
    assert_eq!(private.status(), 200);
    assert!(
        private.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("private")
    );
    let private = private.text().await.unwrap();
    assert!(private.contains("Only my followers.") && private.contains("Everyone may read"));
    assert!(!private.contains("Only Bob"), "{private}");
    assert_eq!(feed(&a, "alice", Some("est_guess")).await.status(), 401);
    // The h-feed, likewise.
    let hfeed = get(&a, "/users/alice/outbox", Some(&token), "text/html").await;
    let hfeed = hfeed.text().await.unwrap();
    assert!(hfeed.contains("Only my followers.") && !hfeed.contains("Only Bob"));
    for path in ["/users/alice/outbox", "/@alice", "/"] {
        let page = get(&a, path, None, "text/html").await.text().await.unwrap();
        assert!(!page.contains("Only my followers"), "{path}");
    }
    // Bob's feed is not Alice's: the token reads nothing there.
    assert_eq!(feed(&a, "bob", Some(&token)).await.status(), 404);

    // Both sites subscribe to Alice's feed; only the follower is pushed her
    // followers-only posts.
    subscribe(&a, &topic, &site.callback_url()).await;
    subscribe(&a, &topic, &stranger.callback_url()).await;
    wait_until(10, "the subscriptions", || async {
        a.db.count("websub_subscriptions") == 2
    })
    .await;
    post(
        &a,
        &alice,
        "A secret for followers.",
        vec![followers.clone()],
    )
    .await;
    wait_until(15, "the push to the follower", || async {
        pushed(&site)
            .iter()
            .any(|b| b.contains("A secret for followers."))
    })
    .await;
    post(&a, &alice, "News for all.", vec![PUBLIC.into()]).await;
    wait_until(15, "the public push to both", || async {
        pushed(&stranger)
            .iter()
            .any(|b| b.contains("News for all."))
            && pushed(&site).iter().any(|b| b.contains("News for all."))
    })
    .await;
    a.fed().wake.notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let to_stranger = pushed(&stranger);
    assert_eq!(to_stranger.len(), 1, "one push, for the public post");
    assert!(!to_stranger[0].contains("secret") && !to_stranger[0].contains("Only my followers"));
    assert!(to_stranger.iter().all(|b| !b.contains("Only Bob")));
    assert!(pushed(&site).iter().all(|b| !b.contains("Only Bob")));

    // The site unfollows: its post answers 410 and it says so again.
    site.delete_post();
    mention(&a, &site.post_url(), &profile).await;
    wait_until(15, "the unfollow", || async {
        a.db.count("follows") == 0 && a.db.count("activities WHERE kind = 'Undo'") == 1
    })
    .await;
    assert_eq!(feed(&a, "alice", Some(&token)).await.status(), 401);
    assert_eq!(
        a.db.count("websub_subscriptions"),
        1,
        "the stranger's stays"
    );
    let pushes = site.pushes().len();
    post(&a, &alice, "After you left.", vec![followers.clone()]).await;
    post(&a, &alice, "Public after.", vec![PUBLIC.into()]).await;
    wait_until(15, "the stranger's push", || async {
        pushed(&stranger)
            .iter()
            .any(|b| b.contains("Public after."))
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(site.pushes().len(), pushes);
    assert!(
        pushed(&stranger)
            .iter()
            .all(|b| !b.contains("After you left"))
    );
    // The used ticket is refused.
    assert!(
        redeem_ticket(&a.url("/"), &ticket["ticket"])
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_locked_account_tickets_only_approved_followers_and_refuses_bad_tickets() {
    let a = TestServer::start().await;
    let alice = a.add_user("alice").await;
    let carol = a.add_user("carol").await;
    a.db.execute("UPDATE accounts SET manually_approves_followers = TRUE WHERE username = 'carol'");
    let carol = Account {
        manually_approves_followers: true,
        ..carol
    };
    let site = Site::start().await;
    let site_url = format!("{}/", site.base);

    // A follow of a locked account waits: no ticket.
    let target = a.url("/users/carol");
    site.set_post(&site.follow_html(&target));
    mention(&a, &site.post_url(), &target).await;
    wait_until(15, "the follow request", || async {
        a.db.count("follows WHERE accepted = FALSE") == 1
    })
    .await;
    a.fed().wake.notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(site.tickets().is_empty());
    assert_eq!(a.db.count("jobs WHERE kind = 'ticket_send'"), 0);
    let proxy = estuary::domain::accounts::find_proxy(&a.state.store, &site.domain())
        .await
        .unwrap()
        .unwrap();
    // A ticket for someone the site does not follow (yet) is refused.
    let early = estuary::domain::site_grants::issue_ticket(&a.state.store, carol.id, &site_url)
        .await
        .unwrap();
    assert!(redeem_ticket(&a.url("/"), &early).await.is_none());

    // Carol approves: the ticket comes.
    let (proxy_id, carol_id) = (proxy.id, carol.id);
    let follow = a
        .state
        .store
        .run(move |conn| {
            Ok::<_, estuary::store::StoreError>(estuary::store::follows::find(
                conn, proxy_id, carol_id,
            )?)
        })
        .await
        .unwrap()
        .unwrap();
    estuary::federation::client::submit(
        a.fed(),
        &carol,
        serde_json::json!({ "type": "Accept", "object": follow.follow_ap_id }),
    )
    .await
    .unwrap();
    wait_until(15, "the ticket after approval", || async {
        !site.feed_tokens().is_empty()
    })
    .await;
    let (resource, token) = site.feed_tokens()[0].clone();
    assert_eq!(resource, a.url("/users/carol/feed.atom"));
    post(
        &a,
        &carol,
        "For my approved followers.",
        vec![carol.followers_url.clone().unwrap()],
    )
    .await;
    let text = feed(&a, "carol", Some(&token)).await.text().await.unwrap();
    assert!(text.contains("For my approved followers."));
    // The token of Carol's feed reads nobody else's.
    assert_eq!(feed(&a, "alice", Some(&token)).await.status(), 404);

    // An expired ticket, and one for a person the site does not follow.
    let late = estuary::domain::site_grants::issue_ticket(&a.state.store, carol.id, &site_url)
        .await
        .unwrap();
    a.db.execute("UPDATE site_grants SET code_expires_at = '2000-01-01 00:00:00'");
    assert!(redeem_ticket(&a.url("/"), &late).await.is_none());
    let not_followed =
        estuary::domain::site_grants::issue_ticket(&a.state.store, alice.id, &site_url)
            .await
            .unwrap();
    assert!(redeem_ticket(&a.url("/"), &not_followed).await.is_none());

    // Carol blocks the site: the token stops reading her feed.
    estuary::federation::client::submit(
        a.fed(),
        &carol,
        serde_json::json!({ "type": "Block", "object": proxy.actor_url }),
    )
    .await
    .unwrap();
    assert_eq!(feed(&a, "carol", Some(&token)).await.status(), 401);
    let public = feed(&a, "carol", None).await.text().await.unwrap();
    assert!(!public.contains("For my approved followers."));
}
