//! Our pages read by mf2py, the reference microformats2 parser: the
//! profile page is an h-card, a note's page an h-entry, the outbox page an
//! h-feed holding that h-entry, each with the properties we meant.
//!
//! Ignored by a plain `cargo test` (it needs python3 with mf2py 2.x, so it
//! is reported as ignored rather than passed); CI installs mf2py and runs it
//! with `cargo test --test interop_mf2py -- --include-ignored`, where a
//! missing mf2py fails it. The parse is done by
//! `tests/interop/mf2py_check.py` under `python3`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::TestServer;
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};
use serde_json::Value;

const CONTENT: &str = r#"<p>Rivers <em>meet</em> here, see <a href="https://maps.example/confluence">the map</a>.</p>"#;

/// mf2py's parse of `html` served at `base_url`, as JSON.
fn mf2py(html: &str, base_url: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/mf2py_check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3 (this test needs python3 with mf2py 2.x)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(html.as_bytes())
        .expect("write the page to mf2py_check.py");
    let output = child.wait_with_output().expect("mf2py_check.py runs");
    assert!(
        output.status.success(),
        "mf2py_check.py failed ({}); is mf2py installed?\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("mf2py_check.py prints JSON")
}

/// The page at `path` as text/html.
async fn page(server: &TestServer, path: &str) -> String {
    let response = server.get(path, Some("text/html")).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/html"),
        "{path}: {content_type}"
    );
    response.text().await.unwrap()
}

/// Items of `kind` anywhere in `items` (children and property values too).
fn find<'a>(items: &'a [Value], kind: &str, found: &mut Vec<&'a Value>) {
    for item in items {
        let Some(object) = item.as_object() else {
            continue;
        };
        if object
            .get("type")
            .and_then(Value::as_array)
            .is_some_and(|types| types.iter().any(|t| t == kind))
        {
            found.push(item);
        }
        if let Some(children) = object.get("children").and_then(Value::as_array) {
            find(children, kind, found);
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for values in properties.values() {
                find(values.as_array().map_or(&[], Vec::as_slice), kind, found);
            }
        }
    }
}

fn items_of<'a>(parsed: &'a Value, kind: &str) -> Vec<&'a Value> {
    let mut found = Vec::new();
    find(parsed["items"].as_array().expect("items"), kind, &mut found);
    found
}

/// The values of one property, as strings (plain values, or `value` of
/// embedded items and e-* objects).
fn strings(item: &Value, property: &str) -> Vec<String> {
    item["properties"][property]
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    other => other["value"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn first(item: &Value, property: &str) -> String {
    strings(item, property)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {property} in {item:#}"))
}

/// What we meant by a note's h-entry, wherever it appears.
fn assert_entry(entry: &Value, note_id: &str, note_published: &str, profile_url: &str) {
    assert!(
        strings(entry, "url").contains(&note_id.to_owned()),
        "url: {entry:#}"
    );
    assert_eq!(first(entry, "uid"), note_id);
    let content = &entry["properties"]["content"][0];
    assert_eq!(content["html"], CONTENT, "content: {entry:#}");
    assert_eq!(content["value"], "Rivers meet here, see the map.");
    let published = first(entry, "published");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&published).expect("published is RFC 3339"),
        chrono::DateTime::parse_from_rfc3339(note_published).unwrap(),
        "published: {entry:#}"
    );
    let author = &entry["properties"]["author"][0];
    assert_eq!(author["type"][0], "h-card", "author: {entry:#}");
    assert_eq!(first(author, "name"), "alice display");
    assert_eq!(first(author, "url"), profile_url);
    // A note has no title: mf2py must not imply one from the whole entry.
    assert!(
        strings(entry, "name").is_empty(),
        "a note has no name: {entry:#}"
    );
}

#[tokio::test]
#[ignore = "needs python3 with mf2py 2.x (python3 -m pip install 'mf2py==2.*'); run with --include-ignored, as CI does"]
async fn mf2py_reads_profile_note_and_outbox_pages_as_meant() {
    let server = TestServer::start().await;
    let alice = server.add_user("alice").await;
    let note_id = publish_note(
        server.fed(),
        &alice,
        Draft {
            content_html: CONTENT.into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .object_id;
    let note_path = note_id.strip_prefix(&server.base_url).expect("local id");
    let note: Value = server
        .get(note_path, Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    let published = note["published"].as_str().expect("published").to_owned();
    let profile_url = server.url("/@alice");
    let webmention = server.url("/webmention");

    // The profile: one h-card, alice by name, URL and note.
    let html = page(&server, "/@alice").await;
    let parsed = mf2py(&html, &profile_url);
    let cards = items_of(&parsed, "h-card");
    assert_eq!(parsed["items"].as_array().unwrap().len(), 1, "{parsed:#}");
    assert_eq!(cards.len(), 1, "{parsed:#}");
    let card = cards[0];
    assert_eq!(strings(card, "name"), ["alice display"], "{card:#}");
    assert_eq!(strings(card, "url"), [profile_url.as_str()], "{card:#}");
    assert_eq!(strings(card, "uid"), [profile_url.as_str()], "{card:#}");
    assert_eq!(strings(card, "nickname"), ["alice"], "{card:#}");
    assert_eq!(strings(card, "note"), ["About alice"], "{card:#}");
    assert_eq!(parsed["rels"]["webmention"][0], webmention.as_str());

    // The note's page: one h-entry, by alice.
    let html = page(&server, note_path).await;
    let parsed = mf2py(&html, &note_id);
    let top: Vec<&Value> = parsed["items"].as_array().unwrap().iter().collect();
    assert_eq!(top.len(), 1, "{parsed:#}");
    assert_eq!(top[0]["type"][0], "h-entry", "{parsed:#}");
    assert_entry(top[0], &note_id, &published, &profile_url);
    assert_eq!(parsed["rels"]["webmention"][0], webmention.as_str());

    // The outbox page: an h-feed with that h-entry as its child.
    let outbox_url = server.url("/users/alice/outbox");
    let html = page(&server, "/users/alice/outbox").await;
    let parsed = mf2py(&html, &outbox_url);
    let feeds = items_of(&parsed, "h-feed");
    assert_eq!(feeds.len(), 1, "{parsed:#}");
    let feed = feeds[0];
    let children = feed["children"].as_array().expect("h-feed children");
    assert_eq!(children.len(), 1, "{feed:#}");
    assert_eq!(children[0]["type"][0], "h-entry");
    assert_entry(&children[0], &note_id, &published, &profile_url);
    assert_eq!(first(feed, "name"), "alice display");
    let feed_author = &feed["properties"]["author"][0];
    assert_eq!(first(feed_author, "url"), profile_url);
    let atom = server.url("/users/alice/feed.atom");
    assert!(
        parsed["rels"]["alternate"]
            .as_array()
            .is_some_and(|urls| urls.iter().any(|u| u == atom.as_str())),
        "Atom feed advertised: {:#}",
        parsed["rels"]
    );

    server.stop().await;
}
