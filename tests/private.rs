//! Private conversations across the bridge (issue 12), over real HTTP with
//! two instances and the stand-in site: a direct note from the fediverse
//! reaches a site as a Private Webmention (a code, redeemed at our token
//! endpoint, for a token that reads that one note), and a site's Private
//! Webmention (its code redeemed at its token endpoint, its private source
//! read with the token) reaches exactly the accounts it addresses, as a
//! direct note. Nothing private is ever readable without its token.

mod common;

use common::site::{PrivateMode, SITE_REALM, Site};
use common::{TestServer, wait_until};
use estuary::federation::outbox::{Draft, publish_note};
use serde_json::Value;

/// bob on B sends a direct note with `text` to the proxy of `site` on A;
/// returns the Create's and the note's ids.
async fn note_to_site(a: &TestServer, b: &TestServer, site: &Site, text: &str) -> (String, String) {
    let proxy = estuary::domain::accounts::ensure_proxy(
        &a.state.store,
        &a.state.urls,
        estuary::domain::accounts::SiteProfile {
            site_url: format!("{}/", site.base),
            domain: site.domain(),
            name: Some("Sam Site".into()),
            photo: None,
        },
    )
    .await
    .unwrap();
    let bob = b.account("bob").await;
    let published = publish_note(
        b.fed(),
        &bob,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to: vec![proxy.actor_url.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (published.activity_id, published.object_id)
}

async fn two_instances() -> (TestServer, TestServer, Site) {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    b.add_user("bob").await;
    (a, b, Site::start().await)
}

async fn get_with(server: &TestServer, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = server.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn redeem(server: &TestServer, code: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/token"))
        .form(&[("grant_type", "authorization_code"), ("code", code)])
        .send()
        .await
        .unwrap()
}

/// Runs A's pending `private_note_check` jobs now, as if the codes expired.
async fn expire_codes(a: &TestServer) {
    a.db.execute(
        "UPDATE site_grants SET code_expires_at = '2000-01-01 00:00:00' WHERE redeemed_at IS NULL;
         UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'private_note_check';",
    );
    a.fed().wake.notify_one();
    wait_until(15, "the checks to run", || async {
        a.db.count("jobs WHERE kind = 'private_note_check' AND status <> 'done'") == 0
    })
    .await;
}

/// The Rejects the proxy on A sent, once delivered to B.
async fn rejects(a: &TestServer) -> Vec<Value> {
    if a.db
        .count("jobs WHERE kind = 'deliver' AND status = 'done'")
        == 0
    {
        return Vec::new();
    }
    a.db.texts("SELECT document AS v FROM activities WHERE kind = 'Reject'")
        .into_iter()
        .map(|d| serde_json::from_str(&d.unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_direct_note_reaches_a_site_as_a_private_webmention() {
    let (a, b, site) = two_instances().await;
    let (_, object_id) = note_to_site(&a, &b, &site, "Just between us, Sam.").await;
    wait_until(15, "the site to collect the note", || async {
        !site.collected().is_empty()
    })
    .await;
    let form = site.private_received()[0].clone();
    let collected = site.collected()[0].clone();
    assert_eq!(form["target"], format!("{}/", site.base));
    assert!(form["source"].starts_with(&a.url("/private/")), "{form:?}");
    assert_eq!(form["realm"], a.host());
    assert!(!form["code"].is_empty());
    assert_eq!(collected.status, 200);
    assert!(collected.html.contains("Just between us, Sam."));
    assert!(collected.html.contains("h-entry"));
    assert!(site.received().is_empty(), "no public Webmention");

    // Without a token: 401, naming the token endpoint, never indexed.
    let page = get_with(&a, &collected.source, None).await;
    assert_eq!(page.status(), 401);
    let challenge = page.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    let links: Vec<&str> = page
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        links
            .iter()
            .any(|l| l.contains(&a.url("/token")) && l.contains("token_endpoint")),
        "{links:?}"
    );
    assert_eq!(page.headers()["x-robots-tag"], "noindex, nofollow");
    assert!(!page.text().await.unwrap().contains("between us"));
    // A guessed token, or a guessed page: nothing.
    assert_eq!(
        get_with(&a, &collected.source, Some("est_guess"))
            .await
            .status(),
        401
    );
    let guessed = a.url("/private/00000000000000000000000000000000");
    assert_eq!(get_with(&a, &guessed, None).await.status(), 401);
    assert_eq!(
        get_with(&a, &guessed, Some(&collected.token))
            .await
            .status(),
        404
    );
    // Nowhere public: not at its id, not as a mirror.
    assert_eq!(get_with(&a, &object_id, None).await.status(), 404);
    let mirror = a
        .client
        .get(a.url("/mirror"))
        .query(&[("id", &object_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(mirror.status(), 404);

    // The site collected it in time: no Reject once the code expires.
    expire_codes(&a).await;
    assert_eq!(a.db.count("activities WHERE kind = 'Reject'"), 0);

    // A second note: its token does not read the first, nor the first's
    // token the second.
    note_to_site(&a, &b, &site, "Second secret.").await;
    wait_until(15, "the second note", || async {
        site.collected().len() == 2
    })
    .await;
    let second = site
        .collected()
        .into_iter()
        .find(|c| c.html.contains("Second secret."))
        .unwrap();
    assert_ne!(second.source, collected.source);
    assert_eq!(
        get_with(&a, &collected.source, Some(&second.token))
            .await
            .status(),
        404
    );
    assert_eq!(
        get_with(&a, &second.source, Some(&collected.token))
            .await
            .status(),
        404
    );

    // A code is used once; presenting it again revokes its token.
    let again = redeem(&a, &form["code"]).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(
        get_with(&a, &collected.source, Some(&collected.token))
            .await
            .status(),
        401
    );
    // An expired token reads nothing.
    assert_eq!(
        get_with(&a, &second.source, Some(&second.token))
            .await
            .status(),
        200
    );
    a.db.execute("UPDATE site_grants SET token_expires_at = '2000-01-01 00:00:00'");
    assert_eq!(
        get_with(&a, &second.source, Some(&second.token))
            .await
            .status(),
        401
    );
    // Tokens and codes are stored hashed.
    let stored = a.db.texts("SELECT token_hash AS v FROM site_grants");
    assert!(
        stored
            .iter()
            .flatten()
            .all(|h| h.len() == 64 && *h != second.token)
    );
    assert_eq!(redeem(&a, "").await.status(), 400);
    assert_eq!(redeem(&a, "not-a-code").await.status(), 400);
}

#[tokio::test]
async fn a_site_that_refuses_the_note_leaves_the_sender_a_reject() {
    let (a, b, site) = two_instances().await;
    site.set_private_mode(PrivateMode::Refuse);
    let (create_id, _) = note_to_site(&a, &b, &site, "Are you there?").await;
    wait_until(15, "bob to get the Reject", || async {
        !rejects(&a).await.is_empty()
    })
    .await;
    let reject = rejects(&a).await.remove(0);
    assert_eq!(reject["to"][0], b.url("/users/bob"));
    assert_eq!(reject["object"], create_id);
    assert!(
        reject["summary"].as_str().unwrap().contains("refused"),
        "{reject}"
    );
    assert!(site.collected().is_empty());
}

#[tokio::test]
async fn a_site_that_never_collects_the_note_leaves_the_sender_a_reject() {
    let (a, b, site) = two_instances().await;
    site.set_private_mode(PrivateMode::Ignore);
    let (create_id, _) = note_to_site(&a, &b, &site, "Hello?").await;
    wait_until(15, "the Private Webmention", || async {
        !site.private_received().is_empty()
    })
    .await;
    assert_eq!(a.db.count("activities WHERE kind = 'Reject'"), 0);
    expire_codes(&a).await;
    wait_until(15, "bob to get the Reject", || async {
        !rejects(&a).await.is_empty()
    })
    .await;
    let reject = rejects(&a).await.remove(0);
    assert_eq!(reject["to"][0], b.url("/users/bob"));
    assert_eq!(reject["object"], create_id);
    assert!(
        reject["summary"].as_str().unwrap().contains("in time"),
        "{reject}"
    );
    // The expired code is refused, and the page stays closed.
    let code = site.private_received()[0]["code"].clone();
    assert_eq!(redeem(&a, &code).await.status(), 400);
    let source = site.private_received()[0]["source"].clone();
    assert_eq!(get_with(&a, &source, None).await.status(), 401);
}

/// The status document of a mention, once it is no longer queued.
async fn settled(server: &TestServer, response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let status_of = || async {
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
    wait_until(15, "the mention to settle", || async {
        status_of().await["status"] != "queued"
    })
    .await;
    status_of().await
}

#[tokio::test]
async fn a_site_answers_privately_and_only_the_addressee_gets_it() {
    let (a, b, site) = two_instances().await;
    let (_, bob_note) = note_to_site(&a, &b, &site, "What do you think?").await;
    wait_until(15, "the site to collect the note", || async {
        !site.collected().is_empty()
    })
    .await;
    let page = site.collected()[0].source.clone();
    // The site's private reply to the page it was given.
    site.set_private_post(&site.entry_html("/private-post", &page, "<p>Only for Bob.</p>", &[]));
    let sent = site
        .send_private_webmention(&a.url("/webmention"), &page, Some(SITE_REALM))
        .await;
    let status = settled(&a, sent).await;
    assert_eq!(status["status"], "verified", "{status}");
    wait_until(15, "bob to get the reply", || async {
        b.inbox("bob").await.iter().any(|a| a["type"] == "Create")
    })
    .await;
    let create = b
        .inbox("bob")
        .await
        .into_iter()
        .find(|a| a["type"] == "Create")
        .unwrap();
    let note = &create["object"];
    assert!(note["content"].as_str().unwrap().contains("Only for Bob."));
    assert_eq!(note["to"], serde_json::json!([b.url("/users/bob")]));
    assert_eq!(note["cc"], serde_json::json!([]));
    assert_eq!(note["inReplyTo"], bob_note);
    assert_eq!(note["tag"][0]["type"], "Mention");
    assert_eq!(
        a.db.count("objects WHERE visibility = 'direct' AND local"),
        1
    );
    // Not public: not at its id, not on the proxy's pages or feed.
    let object_id = status["object"].as_str().unwrap();
    assert_eq!(get_with(&a, object_id, None).await.status(), 404);
    let proxy_page = a
        .get(&format!("/@{}", site.domain()), Some("text/html"))
        .await;
    assert!(!proxy_page.text().await.unwrap().contains("Only for Bob"));

    // A re-send with new content and a new code: an Update to bob alone.
    site.set_private_post(&site.entry_html(
        "/private-post",
        &page,
        "<p>Only for Bob, edited.</p>",
        &[],
    ));
    let sent = site
        .send_private_webmention(&a.url("/webmention"), &page, None)
        .await;
    assert_eq!(settled(&a, sent).await["status"], "verified");
    wait_until(15, "bob to get the Update", || async {
        b.inbox("bob").await.iter().any(|a| a["type"] == "Update")
    })
    .await;
    // The source gone: a Delete.
    site.delete_private_post();
    let sent = site
        .send_private_webmention(&a.url("/webmention"), &page, None)
        .await;
    assert_eq!(settled(&a, sent).await["status"], "deleted");
    wait_until(15, "bob to get the Delete", || async {
        b.db.count("objects WHERE deleted_at IS NOT NULL") == 1
    })
    .await;
}

#[tokio::test]
async fn a_private_webmention_mentioning_a_local_account_reaches_only_it() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    a.add_user("carol").await;
    let site = Site::start().await;
    let alice = a.url("/users/alice");
    site.set_private_post(&site.entry_html(
        "/private-post",
        &alice,
        "<p>Psst, Alice.</p>",
        &[&alice],
    ));
    let sent = site
        .send_private_webmention(&a.url("/webmention"), &alice, None)
        .await;
    assert_eq!(settled(&a, sent).await["status"], "verified");
    let inbox = a.inbox("alice").await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["object"]["to"], serde_json::json!([alice]));
    assert!(a.inbox("carol").await.is_empty());
    let feed = a
        .get("/users/alice/feed.atom", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!feed.contains("Psst"));
}

/// Sends the site's private post to alice on `a` and returns the status.
async fn private_mention_to_alice(a: &TestServer, site: &Site, realm: Option<&str>) -> Value {
    let alice = a.url("/users/alice");
    site.set_private_post(&site.entry_html("/private-post", &alice, "<p>Secret.</p>", &[&alice]));
    let sent = site
        .send_private_webmention(&a.url("/webmention"), &alice, realm)
        .await;
    settled(a, sent).await
}

async fn assert_nothing_published(a: &TestServer) {
    assert!(a.inbox("alice").await.is_empty());
    assert_eq!(a.db.count("objects"), 0);
}

#[tokio::test]
async fn a_private_webmention_that_cannot_be_read_publishes_nothing() {
    let a = TestServer::start().await;
    a.add_user("alice").await;

    // The site's token endpoint refuses the code.
    let site = Site::start().await;
    site.refuse_codes();
    let status = private_mention_to_alice(&a, &site, None).await;
    assert_eq!(status["status"], "rejected");
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("refused the code"),
        "{status}"
    );
    assert_nothing_published(&a).await;

    // The source answers 401 even with the token.
    let site = Site::start().await;
    site.refuse_every_token();
    let status = private_mention_to_alice(&a, &site, None).await;
    assert_eq!(status["status"], "rejected");
    assert!(
        status["reason"].as_str().unwrap().contains("401"),
        "{status}"
    );
    assert_eq!(site.token_requests(), 1);
    assert_nothing_published(&a).await;

    // A realm other than the source's: the code is never sent.
    let site = Site::start().await;
    let status = private_mention_to_alice(&a, &site, Some("another-realm")).await;
    assert_eq!(status["status"], "rejected");
    assert!(
        status["reason"].as_str().unwrap().contains("realm"),
        "{status}"
    );
    assert_eq!(site.token_requests(), 0);
    assert_nothing_published(&a).await;

    // The source names a token endpoint elsewhere that refuses: nothing.
    let site = Site::start().await;
    let other = Site::start().await;
    site.advertise_token_endpoint(&other.token_url());
    let status = private_mention_to_alice(&a, &site, None).await;
    assert_eq!(status["status"], "rejected");
    assert_eq!(other.token_requests(), 1);
    assert_nothing_published(&a).await;

    // Without a code, a private source is just a page that answers 401.
    let site = Site::start().await;
    site.set_private_post(&site.entry_html(
        "/private-post",
        &a.url("/users/alice"),
        "<p>x</p>",
        &[],
    ));
    let sent = a
        .client
        .post(a.url("/webmention"))
        .form(&[
            ("source", site.private_post_url()),
            ("target", a.url("/users/alice")),
        ])
        .send()
        .await
        .unwrap();
    let status = settled(&a, sent).await;
    assert_eq!(status["status"], "rejected");
    assert_nothing_published(&a).await;
}

#[tokio::test]
async fn a_token_endpoint_on_a_private_address_is_refused_with_the_safety_on() {
    use estuary::federation::fetch::{FetchLimits, Fetcher};
    let site = Site::start().await;
    let code = site.mint_code();
    let guarded = Fetcher::new(false, FetchLimits::default(), "test").unwrap();
    let endpoint = url::Url::parse(&site.token_url()).unwrap();
    let refused = estuary::indieweb::private_mention::redeem_code(&guarded, &endpoint, &code)
        .await
        .unwrap_err();
    assert!(refused.contains("private address"), "{refused}");
    assert_eq!(site.token_requests(), 0, "the code never left");
    // The same client with the safety off reaches it (the code is good).
    let open = Fetcher::new(true, FetchLimits::default(), "test").unwrap();
    let token = estuary::indieweb::private_mention::redeem_code(&open, &endpoint, &code)
        .await
        .unwrap();
    assert!(token.starts_with("tok-"));
}
