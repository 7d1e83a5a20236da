//! A page of statuses costs a fixed, small number of SQL statements,
//! whatever its length: the page is one statement (posts with their
//! authors, counts and the reader's own reactions), the accounts its posts
//! mention one more. Counted with diesel's instrumentation on a pool of one
//! connection over the test server's database (its liveness check on
//! checkout, `SELECT 1`, is not counted).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::InstrumentationEvent;
use estuary::domain::DomainError;
use estuary::domain::timelines::{self, PageQuery};
use estuary::store::{PoolSettings, Store};
use serde_json::json;

use common::TestServer;
use common::masto::{add_user_with_password, get, post, sign_in};

const SCOPES: &str = "read write follow";

fn page(limit: i64) -> PageQuery {
    PageQuery {
        max_id: None,
        since_id: None,
        min_id: None,
        limit,
    }
}

/// A store of one connection whose statements are counted.
async fn counted_store(url: &str) -> (Store, Arc<AtomicUsize>) {
    let store = Store::open(
        url,
        PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    store
        .run(move |conn| {
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                // The pool's check of a connection on checkout is not the
                // page's work.
                if let InstrumentationEvent::StartQuery { query, .. } = &event
                    && query.to_string() != "SELECT 1"
                {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            });
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    (store, statements)
}

async fn statements_of<T, F: std::future::Future<Output = T>>(
    statements: &AtomicUsize,
    work: F,
) -> (usize, T) {
    statements.store(0, Ordering::SeqCst);
    let out = work.await;
    (statements.load(Ordering::SeqCst), out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_costs_the_same_few_statements_whatever_its_length() {
    let server = TestServer::start().await;
    let mut tokens = Vec::new();
    for name in ["alice", "bob", "carol"] {
        add_user_with_password(&server, name).await;
        tokens.push(sign_in(&server, name, SCOPES).await);
    }
    let (alice, others) = (tokens[0].clone(), tokens[1..].to_vec());
    let (_, mine) = post(
        &server,
        &alice,
        "/api/v1/statuses",
        json!({"status": "hello from alice", "visibility": "public"}),
    )
    .await;
    for name in ["bob", "carol"] {
        let (_, account) = get(
            &server,
            Some(&alice),
            &format!("/api/v1/accounts/lookup?acct={name}"),
        )
        .await;
        let id = account["id"].as_str().unwrap();
        let (status, _) = post(
            &server,
            &alice,
            &format!("/api/v1/accounts/{id}/follow"),
            json!({}),
        )
        .await;
        assert_eq!(status, 200);
    }
    // 2 × 25 posts: plain, mentioning alice, replying to her, direct to her.
    for token in &others {
        for n in 0..25 {
            let body = match n % 4 {
                0 => json!({"status": format!("post {n}"), "visibility": "public"}),
                1 => json!({"status": format!("@alice look {n}"), "visibility": "public"}),
                2 => json!({"status": format!("@alice re {n}"), "in_reply_to_id": mine["id"]}),
                _ => json!({"status": format!("@alice psst {n}"), "visibility": "direct"}),
            };
            let (status, created) = post(&server, token, "/api/v1/statuses", body).await;
            assert_eq!(status, 200, "{created}");
            if n % 5 == 0 {
                let id = created["id"].as_str().unwrap();
                let (status, _) = post(
                    &server,
                    &alice,
                    &format!("/api/v1/statuses/{id}/favourite"),
                    json!({}),
                )
                .await;
                assert_eq!(status, 200);
            }
        }
    }

    // alice's followees, one per page, by the Link header's `next`.
    let (_, me_entity) = get(&server, Some(&alice), "/api/v1/accounts/verify_credentials").await;
    let mut next = Some(server.url(&format!(
        "/api/v1/accounts/{}/following?limit=1",
        me_entity["id"].as_str().unwrap()
    )));
    let mut followees = Vec::new();
    while let Some(url) = next.take() {
        let response = server.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        next = response
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split(", ").find(|part| part.ends_with("rel=\"next\"")))
            .map(|part| part[1..part.find('>').unwrap()].to_owned());
        let page: serde_json::Value = response.json().await.unwrap();
        let page = page.as_array().unwrap().clone();
        assert!(page.len() <= 1);
        if page.is_empty() {
            assert!(next.is_none(), "an empty page has no Link");
        }
        followees.extend(
            page.iter()
                .map(|a| a["username"].as_str().unwrap().to_owned()),
        );
    }
    followees.sort();
    assert_eq!(followees, ["bob", "carol"]);

    let (store, statements) = counted_store(&server.db.url).await;
    let me = server.account("alice").await;

    let (short_cost, short) =
        statements_of(&statements, timelines::home(&store, &me, page(5))).await;
    let (long_cost, long) =
        statements_of(&statements, timelines::home(&store, &me, page(40))).await;
    let (short, long) = (short.unwrap(), long.unwrap());
    assert_eq!(short.len(), 5);
    assert_eq!(long.len(), 40);
    assert!(long.iter().any(|v| v.favourited && v.favourites == 1));
    assert!(long.iter().any(|v| !v.mentions.is_empty()));
    assert!(long.iter().any(|v| v.parent.is_some()));
    assert!(long_cost <= 2, "a home page took {long_cost} statements");
    assert_eq!(short_cost, long_cost, "home: the cost grows with the page");

    let (short_cost, short) = statements_of(
        &statements,
        timelines::public(&store, Some(me.clone()), false, page(5)),
    )
    .await;
    let (long_cost, long) = statements_of(
        &statements,
        timelines::public(&store, Some(me.clone()), false, page(40)),
    )
    .await;
    assert_eq!(short.unwrap().len(), 5);
    assert!(long.unwrap().len() > 20);
    assert!(long_cost <= 2, "a public page took {long_cost} statements");
    assert_eq!(
        short_cost, long_cost,
        "public: the cost grows with the page"
    );

    let bob = server.account("bob").await;
    let (short_cost, _) = statements_of(
        &statements,
        timelines::account_posts(&store, Some(me.clone()), bob.id, page(5)),
    )
    .await;
    let (long_cost, long) = statements_of(
        &statements,
        timelines::account_posts(&store, Some(me.clone()), bob.id, page(40)),
    )
    .await;
    assert_eq!(long.unwrap().len(), 25);
    assert!(
        long_cost <= 2,
        "an account's page took {long_cost} statements"
    );
    assert_eq!(short_cost, long_cost);

    let kinds: Vec<String> = timelines::NOTIFICATION_KINDS
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    let (short_cost, short) = statements_of(
        &statements,
        timelines::notifications(&store, &me, kinds.clone(), page(5)),
    )
    .await;
    let (long_cost, long) = statements_of(
        &statements,
        timelines::notifications(&store, &me, kinds, page(40)),
    )
    .await;
    assert_eq!(short.unwrap().len(), 5);
    assert!(long.unwrap().len() >= 30);
    assert_eq!(short_cost, long_cost, "notifications: the cost grows");

    let (short_cost, short) =
        statements_of(&statements, timelines::conversations(&store, &me, page(1))).await;
    let (long_cost, long) =
        statements_of(&statements, timelines::conversations(&store, &me, page(40))).await;
    // Every direct post here opens its own thread (no replies).
    assert_eq!(short.unwrap().len(), 1);
    assert_eq!(long.unwrap().len(), 12);
    assert_eq!(short_cost, long_cost, "conversations: the cost grows");

    // Paging by the last post's id walks every thread once, newest first;
    // the oldest thread can be marked read by its id.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let query = PageQuery {
            max_id: cursor,
            ..page(5)
        };
        let threads = timelines::conversations(&store, &me, query).await.unwrap();
        let Some(oldest) = threads.last() else { break };
        cursor = Some(oldest.last.id);
        assert!(threads.windows(2).all(|w| w[0].last.id > w[1].last.id));
        seen.extend(threads.iter().map(|c| c.id));
    }
    assert_eq!(seen.len(), 12);
    let oldest = *seen.last().unwrap();
    let marked = timelines::mark_conversation(&store, &me, oldest, false)
        .await
        .unwrap()
        .expect("the oldest conversation is found by its id");
    assert!(!marked.unread);
    let hidden = timelines::mark_conversation(&store, &me, oldest, true)
        .await
        .unwrap();
    assert!(hidden.is_some());
    let after = timelines::conversations(&store, &me, page(40))
        .await
        .unwrap();
    assert_eq!(after.len(), 11);
    assert!(after.iter().all(|c| c.id != oldest));
}
