//! Health, request limits and refusals that must leave the database as it was.

mod common;

use common::{TestDb, TestServer};

#[tokio::test]
async fn health_is_200_while_the_database_answers_and_503_after() {
    let server = TestServer::start().await;
    let response = server.get("/healthz", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    // Break the database under the running server: the table the health
    // check reads disappears, so its query fails as it would on a lost
    // connection or a dropped database.
    server.db.execute("DROP TABLE __diesel_schema_migrations");
    let response = server.get("/healthz", None).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "unavailable"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_and_changes_nothing() {
    let server = TestServer::start_with(TestDb::new(), |config| config.max_body_bytes = 4096).await;
    server.add_user("alice").await;
    let before = server.db.count("accounts");
    let response = server
        .client
        .post(server.url("/users/alice"))
        .header("content-type", "application/activity+json")
        .body(vec![b'x'; 10_000])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(server.db.count("accounts"), before);
    // Below the limit, the same route answers as usual (GET only: 405).
    let small = server
        .client
        .post(server.url("/users/alice"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 405);
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let server = TestServer::start().await;
    let response = server.get("/no/such/thing", None).await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not found");
}
