//! Private feeds for sites (issue 12, Ticket Auth): a site admitted to a
//! members-only room is sent a ticket at its `ticket_endpoint`, redeems it
//! at our token endpoint, reads the room's feed with the token and is
//! pushed the conversation by WebSub, only while it is a member.

mod common;

use common::site::{Site, redeem_ticket};
use common::{TestServer, wait_until};
use estuary::domain::accounts::{Account, NewLocalAccount, create_room};
use estuary::federation::outbox::{Draft, publish_note};

async fn cellar(a: &TestServer) -> Account {
    a.add_user("owner").await;
    create_room(
        &a.state.store,
        &a.state.urls,
        NewLocalAccount {
            name: "cellar".into(),
            display_name: Some("The Cellar".into()),
            owner: Some("owner".into()),
            members_only: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// The site asks to join the room (a reply and a Webmention); the owner
/// approves; returns the site's proxy.
async fn admit(a: &TestServer, room: &Account, site: &Site) -> Account {
    site.set_post(&site.room_post_html(&room.actor_url, "<p>May I come in?</p>"));
    let response = a
        .client
        .post(a.url("/webmention"))
        .form(&[
            ("source", site.post_url()),
            ("target", room.actor_url.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    wait_until(15, "the join request", || async {
        a.db.count("follows WHERE accepted = FALSE") == 1
    })
    .await;
    let proxy = estuary::domain::accounts::find_proxy(&a.state.store, &site.domain())
        .await
        .unwrap()
        .unwrap();
    estuary::rooms::membership::approve(a.fed(), room, &proxy)
        .await
        .unwrap();
    proxy
}

async fn feed(a: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut request = a.client.get(a.url("/rooms/cellar/feed.atom"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn owner_posts(a: &TestServer, room: &Account, text: &str) {
    let owner = a.account("owner").await;
    publish_note(
        a.fed(),
        &owner,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to: vec![room.actor_url.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_member_site_reads_the_room_by_ticket_only_while_it_is_a_member() {
    let a = TestServer::start().await;
    let room = cellar(&a).await;
    let site = Site::start().await;
    let proxy = admit(&a, &room, &site).await;
    wait_until(15, "the site to redeem its ticket", || async {
        !site.feed_tokens().is_empty()
    })
    .await;
    let ticket = site.tickets()[0].clone();
    assert_eq!(ticket["resource"], a.url("/rooms/cellar/feed.atom"));
    assert_eq!(ticket["subject"], format!("{}/", site.base));
    assert_eq!(ticket["iss"], a.url("/"));
    let (resource, token) = site.feed_tokens()[0].clone();
    assert_eq!(resource, a.url("/rooms/cellar/feed.atom"));

    // The feed: for the token's bearer only.
    assert_eq!(feed(&a, None).await.status(), 404);
    assert_eq!(feed(&a, Some("est_guess")).await.status(), 404);
    let atom = feed(&a, Some(&token)).await;
    assert_eq!(atom.status(), 200);
    assert!(atom.text().await.unwrap().contains("<feed"));

    // The site subscribes; the owner's post is pushed to it.
    let subscribed = a
        .client
        .post(a.url("/websub"))
        .form(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", resource.as_str()),
            ("hub.callback", site.callback_url().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(subscribed.status(), 202);
    wait_until(10, "the subscription", || async {
        a.db.count("websub_subscriptions") == 1
    })
    .await;
    owner_posts(&a, &room, "Members, the wine is ready.").await;
    wait_until(15, "the push", || async {
        site.pushes()
            .iter()
            .any(|(_, body)| String::from_utf8_lossy(body).contains("the wine is ready"))
    })
    .await;
    assert!(
        feed(&a, Some(&token))
            .await
            .text()
            .await
            .unwrap()
            .contains("the wine is ready")
    );

    // Removed from the room: the token reads nothing, the pushes stop.
    estuary::rooms::membership::leave(&a.state.store, room.id, proxy.id)
        .await
        .unwrap();
    assert_eq!(feed(&a, Some(&token)).await.status(), 404);
    assert_eq!(a.db.count("websub_subscriptions"), 0);
    let pushes = site.pushes().len();
    owner_posts(&a, &room, "Only members now.").await;
    wait_until(15, "the relay", || async {
        a.db.count("jobs WHERE kind = 'room_relay' AND status = 'done'") == 2
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(site.pushes().len(), pushes);
    // The used ticket is refused.
    assert!(
        redeem_ticket(&a.url("/"), &ticket["ticket"])
            .await
            .is_none()
    );
}

#[tokio::test]
async fn expired_tickets_and_tickets_of_non_members_are_refused() {
    let a = TestServer::start().await;
    let room = cellar(&a).await;
    let site = Site::start().await;
    site.hold_tickets();
    let proxy = admit(&a, &room, &site).await;
    wait_until(15, "the ticket", || async { !site.tickets().is_empty() }).await;
    let ticket = site.tickets()[0]["ticket"].clone();

    // Expired.
    a.db.execute("UPDATE site_grants SET code_expires_at = '2000-01-01 00:00:00'");
    assert!(redeem_ticket(&a.url("/"), &ticket).await.is_none());

    // A ticket for a room the site is no longer a member of.
    let site_url = format!("{}/", site.base);
    let fresh = estuary::domain::site_grants::issue_ticket(&a.state.store, room.id, &site_url)
        .await
        .unwrap();
    estuary::rooms::membership::leave(&a.state.store, room.id, proxy.id)
        .await
        .unwrap();
    assert!(redeem_ticket(&a.url("/"), &fresh).await.is_none());

    // A ticket naming a site that never was a member.
    let stranger = estuary::domain::site_grants::issue_ticket(
        &a.state.store,
        room.id,
        "http://stranger.example/",
    )
    .await
    .unwrap();
    assert!(redeem_ticket(&a.url("/"), &stranger).await.is_none());
    // A ticket is not a code, nor a code a ticket.
    let as_code = a
        .client
        .post(a.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", fresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(as_code.status(), 400);
    assert_eq!(feed(&a, None).await.status(), 404);
}
