//! Unit tests of the mf2 parser, its accessors and the authorship algorithm.
//! The microformats test suite itself runs in `tests/mf2_suite.rs`.

use serde_json::json;

use super::*;

fn page() -> Url {
    Url::parse("https://alice.example/notes/1").unwrap()
}

fn parse_page(html: &str) -> Document {
    parse(html, &page())
}

#[test]
fn e_content_keeps_entities_escaped() {
    let doc = parse_page(
        r#"<div class="h-entry"><div class="e-content">x&lt;y AT&amp;T &lt;b&gt;no&lt;/b&gt; <b>yes</b>&nbsp;"q"</div></div>"#,
    );
    let (html, value) = doc.items[0].first_html("content").unwrap();
    assert_eq!(
        html,
        "x&lt;y AT&amp;T &lt;b&gt;no&lt;/b&gt; <b>yes</b>&nbsp;\"q\""
    );
    assert_eq!(value, "x<y AT&T <b>no</b> yes\u{a0}\"q\"");
}

#[test]
fn e_content_resolves_urls_and_keeps_scripts_out_of_the_text() {
    let doc = parse_page(
        r#"<base href="/base/"><article class="h-entry"><div class="e-content">
        <a href="../x?a=1&amp;b=2">x</a> <img src="p.png" srcset="p.png 1x, /q.png 2x" title='say "hi"'>
        <script>if (a < b) {}</script></div></article>"#,
    );
    let (html, value) = doc.items[0].first_html("content").unwrap();
    assert_eq!(
        html,
        "<a href=\"https://alice.example/x?a=1&amp;b=2\">x</a> <img src=\"https://alice.example/base/p.png\" \
         srcset=\"https://alice.example/base/p.png 1x, https://alice.example/q.png 2x\" title=\"say &quot;hi&quot;\">\n        \
         <script>if (a < b) {}</script>"
    );
    assert_eq!(value, "x  https://alice.example/base/p.png");
}

#[test]
fn entry_with_author_card_and_reply_context() {
    let doc = parse_page(
        r#"<article class="h-entry" id="post">
          <a class="p-author h-card" href="/"><img src="/me.jpg" alt="Alice"></a>
          <a class="u-in-reply-to" href="https://bob.example/post">re</a>
          <time class="dt-published" datetime="2026-11-02T10:00:00Z">Nov 2</time>
          <a class="p-category" href="/tags/rust">rust</a>
          <div class="p-name e-content">Hello <b>world</b></div>
          <a class="u-url u-uid" href="/notes/1">link</a>
        </article>"#,
    );
    let entry = &doc.items[0];
    assert!(entry.has_type("h-entry"));
    assert_eq!(entry.id.as_deref(), Some("post"));
    assert_eq!(
        entry.first_text("published").as_deref(),
        Some("2026-11-02T10:00:00Z")
    );
    assert_eq!(
        entry.first_url("in-reply-to").as_deref(),
        Some("https://bob.example/post")
    );
    assert_eq!(
        entry.first_url("url").as_deref(),
        Some("https://alice.example/notes/1")
    );
    assert_eq!(entry.first_text("name").as_deref(), Some("Hello world"));
    assert_eq!(entry.first_text("category").as_deref(), Some("rust"));
    assert_eq!(entry.first_text("content").as_deref(), Some("Hello world"));
    assert_eq!(entry.first_html("content").unwrap().0, "Hello <b>world</b>");
    assert_eq!(entry.first_html("name"), None);
    let authors = entry.items("author");
    assert_eq!(authors.len(), 1);
    let card = authors[0];
    assert_eq!(card.value.as_deref(), Some("Alice"));
    assert_eq!(card.first_text("name").as_deref(), Some("Alice"));
    assert_eq!(
        card.first_url("url").as_deref(),
        Some("https://alice.example/")
    );
    assert_eq!(
        card.first_url("photo").as_deref(),
        Some("https://alice.example/me.jpg")
    );
    assert_eq!(
        card.values("photo"),
        [PropertyValue::Url {
            value: "https://alice.example/me.jpg".into(),
            alt: Some("Alice".into())
        }]
    );
    assert_eq!(entry.first_text("author").as_deref(), Some("Alice"));
    assert_eq!(entry.first_url("author"), None);
    assert!(entry.items("content").is_empty());
}

#[test]
fn json_has_the_canonical_shape() {
    let doc = parse_page(
        r#"<link rel="me authn" href="https://github.com/alice" title="GitHub">
        <div class="h-card" id="me"><img class="u-photo" src="a.png" alt="Alice"><span class="p-name">Alice</span>
        <div class="h-entry"><span class="p-name">child</span></div></div>"#,
    );
    assert_eq!(
        doc.to_json(),
        json!({
            "items": [{
                "type": ["h-card"],
                "id": "me",
                "properties": {
                    "photo": [{"value": "https://alice.example/notes/a.png", "alt": "Alice"}],
                    "name": ["Alice"],
                },
                "children": [{"type": ["h-entry"], "properties": {"name": ["child"]}}],
            }],
            "rels": {"me": ["https://github.com/alice"], "authn": ["https://github.com/alice"]},
            "rel-urls": {"https://github.com/alice": {"rels": ["authn", "me"], "title": "GitHub"}},
        })
    );
    assert_eq!(doc.rel("me"), ["https://github.com/alice"]);
    assert!(doc.rel("author").is_empty());
}

#[test]
fn find_items_walks_everything_in_document_order_once() {
    let doc = parse_page(
        r#"<div class="h-feed">
          <div class="h-entry"><span class="p-author u-x h-card">A</span>
            <div class="u-in-reply-to h-cite"><span class="p-author h-card">B</span></div></div>
          <div class="h-entry"><span class="p-name">second</span></div>
        </div>
        <span class="h-card">C</span>"#,
    );
    let names = |kind| -> Vec<String> {
        find_items(&doc, kind)
            .iter()
            .map(|i| i.first_text("name").unwrap_or_default())
            .collect()
    };
    assert_eq!(names("h-card"), ["A", "B", "C"]);
    assert_eq!(names("h-entry").len(), 2);
    assert_eq!(names("h-entry")[1], "second");
    // The h-cite has a nested card, so no implied name.
    assert_eq!(names("h-cite"), [""]);
    assert!(names("h-event").is_empty());
}

#[test]
fn dt_time_takes_the_date_of_an_earlier_property() {
    let doc = parse_page(
        r#"<div class="h-event"><span class="p-name">Party</span>
        <span class="dt-start"><time class="value" datetime="2009-06-26">26 July</time> at <span class="value">7pm</span></span>
        <span class="dt-end">22:00</span></div>"#,
    );
    let event = &doc.items[0];
    assert_eq!(
        event.first_text("start").as_deref(),
        Some("2009-06-26 19:00")
    );
    assert_eq!(event.first_text("end").as_deref(), Some("2009-06-26 22:00"));
}

#[test]
fn templates_and_foreign_elements_are_not_parsed_as_html_links() {
    let doc = parse_page(
        r#"<template><div class="h-card">hidden</div><a rel="me" href="/t">t</a></template>
        <div class="h-card"><svg><a href="/svg-link">Alice</a></svg></div>"#,
    );
    assert_eq!(doc.items.len(), 1);
    assert_eq!(doc.items[0].first_text("name").as_deref(), Some("Alice"));
    assert_eq!(doc.items[0].first_url("url"), None);
    assert!(doc.rels.is_empty());
}

#[test]
fn no_input_panics_or_overflows_the_stack() {
    let base = page();
    // Far deeper than the parser descends (element depth 256).
    let deep_items = "<div class=\"h-x p-y\"><b class=\"e-z\">".repeat(2_000);
    let deep_plain = "<span>".repeat(10_000) + "text";
    let table_soup = "<table>".to_owned() + &"<td><b class=h-card><i>x</b>y".repeat(2_000);
    for html in [
        "",
        "\0",
        "<",
        "<!DOCTYPE html><html><head><base href=\"::::\"></head></html>",
        "<base href=\"http://[::1\"><a rel=me href=\"http://[bad\">x</a><div class=h-card><a href=\"http://[bad\">y</a></div>",
        "<div class='h-card'><time class='dt-x'><span class=value>99:99:99pm</span><span class=value>2024-13-99</span></time></div>",
        "<div class=\"h-a\"><div class=\"p-b h-c\"><div class=\"u-d e-f dt-g h-h\">x</div></div></div>",
        "<math><mi class=h-card>x</mi></math><svg class=h-card><title>t</title></svg>",
        &deep_items,
        &deep_plain,
        &table_soup,
    ] {
        let doc = parse(html, &base);
        let _ = doc.to_json();
    }
    // Pseudo-random tag soup from a fixed seed.
    let pieces = [
        "<div class=\"h-entry\">",
        "<span class=\"p-name value\">",
        "</div>",
        "</span>",
        "<a href=\"x\" class=\"u-url\">",
        "</a>",
        "<img src=y alt=z class=\"u-photo\">",
        "<table>",
        "<td>",
        "<b>",
        "</b>",
        "<i class=\"e-content\">",
        "<template class=p-x>",
        "</template>",
        "<abbr class=\"dt-start\" title=\"2020-01-01\">",
        "&amp;",
        "&lt;",
        "text ",
        "<time class=value>10pm</time>",
        "<data class=\"value-title\" title=\"t\">",
        "<p>",
        "<li class=\"h-card\">",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<base href=../>",
        "<area class=h-card alt=a href=b>",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..300 {
        let mut html = String::new();
        for _ in 0..200 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            html.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        let _ = parse(&html, &base).to_json();
    }
}

// Authorship.

#[test]
fn author_is_the_entry_author_card() {
    let doc = parse_page(
        r#"<div class="h-entry"><a class="p-author h-card" href="https://alice.example/">Alice</a><p class="p-name">hi</p></div>"#,
    );
    match entry_author(&doc, &doc.items[0], &page()) {
        Some(AuthorRef::Card(card)) => {
            assert_eq!(card.first_text("name").as_deref(), Some("Alice"))
        }
        other => panic!("expected a card, got {other:?}"),
    }
}

#[test]
fn author_url_or_name() {
    let doc = parse_page(r#"<div class="h-entry"><a class="u-author" href="/about">me</a></div>"#);
    assert_eq!(
        entry_author(&doc, &doc.items[0], &page()),
        Some(AuthorRef::Url("https://alice.example/about".into()))
    );
    let doc = parse_page(
        r#"<div class="h-entry"><span class="p-author">https://alice.example/</span></div>"#,
    );
    assert_eq!(
        entry_author(&doc, &doc.items[0], &page()),
        Some(AuthorRef::Url("https://alice.example/".into()))
    );
    let doc =
        parse_page(r#"<div class="h-entry"><span class="p-author">Alice Example</span></div>"#);
    let Some(AuthorRef::Card(card)) = entry_author(&doc, &doc.items[0], &page()) else {
        panic!("expected a name card");
    };
    assert!(card.has_type("h-card"));
    assert_eq!(card.first_text("name").as_deref(), Some("Alice Example"));
    let doc = parse_page(
        r#"<div class="h-entry"><a class="u-author" href="javascript:alert(1)">x</a></div>"#,
    );
    assert_eq!(entry_author(&doc, &doc.items[0], &page()), None);
}

#[test]
fn author_from_the_feed_then_rel_author() {
    let doc = parse_page(
        r#"<a rel="author" href="/about">about</a>
        <div class="h-feed"><a class="p-author h-card" href="/">Feed Owner</a>
          <div class="h-entry"><p class="p-name">one</p></div></div>
        <div class="h-entry"><p class="p-name">loose</p></div>"#,
    );
    let entries = find_items(&doc, "h-entry");
    match entry_author(&doc, entries[0], &page()) {
        Some(AuthorRef::Card(card)) => {
            assert_eq!(card.first_text("name").as_deref(), Some("Feed Owner"))
        }
        other => panic!("expected the feed's author, got {other:?}"),
    }
    assert_eq!(
        entry_author(&doc, entries[1], &page()),
        Some(AuthorRef::Url("https://alice.example/about".into()))
    );
    let bare = parse_page(r#"<div class="h-entry"><p class="p-name">anon</p></div>"#);
    assert_eq!(entry_author(&bare, &bare.items[0], &page()), None);
}

#[test]
fn representative_card_by_uid_and_url() {
    let home = Url::parse("https://alice.example/").unwrap();
    let doc = parse(
        r#"<div class="h-card"><a class="u-url p-name" href="https://alice.example/">Impostor</a></div>
        <div class="h-card"><a class="u-url u-uid p-name" href="https://alice.example">Alice</a></div>"#,
        &home,
    );
    let card = representative_hcard(&doc, &home).unwrap();
    assert_eq!(card.first_text("name").as_deref(), Some("Alice"));
}

#[test]
fn representative_card_by_rel_me() {
    let home = Url::parse("https://alice.example/").unwrap();
    let doc = parse(
        r#"<a rel="me" href="https://social.example/@alice">fedi</a>
        <div class="h-card"><a class="u-url p-name" href="https://bob.example/">Bob</a></div>
        <div class="h-card"><a class="u-url p-name" href="https://social.example/@alice">Alice</a></div>"#,
        &home,
    );
    let card = representative_hcard(&doc, &home).unwrap();
    assert_eq!(card.first_text("name").as_deref(), Some("Alice"));
}

#[test]
fn representative_card_when_it_is_the_only_one() {
    let home = Url::parse("https://alice.example/").unwrap();
    let one = parse(r#"<a class="h-card" href="/">Alice</a>"#, &home);
    assert_eq!(
        representative_hcard(&one, &home)
            .and_then(|c| c.first_text("name"))
            .as_deref(),
        Some("Alice")
    );
    let two = parse(
        r#"<a class="h-card" href="/">Alice</a> <a class="h-card" href="/">Alice again</a>"#,
        &home,
    );
    assert_eq!(representative_hcard(&two, &home), None);
    let elsewhere = parse(
        r#"<a class="h-card" href="https://bob.example/">Bob</a>"#,
        &home,
    );
    assert_eq!(representative_hcard(&elsewhere, &home), None);
    // A reply's author inside an entry is not the page's owner.
    let reply = parse(
        r#"<div class="h-entry"><a class="p-author h-card" href="https://alice.example/">Alice</a></div>"#,
        &home,
    );
    assert_eq!(representative_hcard(&reply, &home), None);
}

/// The page of issue 11's case 1: `depth` nested elements, each an h-card
/// that is the value of two properties of its parent.
pub(crate) fn doubling_page(depth: usize) -> String {
    let mut html = String::from(
        r#"<div class="h-entry"><a class="u-in-reply-to" href="https://x.example/">x</a>"#,
    );
    for _ in 0..depth {
        html.push_str(r#"<div class="h-card p-author e-x">a"#);
    }
    html.push_str(&"</div>".repeat(depth));
    html.push_str("</div>");
    html
}

#[test]
fn a_nested_item_used_by_two_properties_is_counted_against_the_budget() {
    // Depth 10 is 2^11 - 1 items when every use is counted.
    let limits = Limits {
        max_items: 5_000,
        max_time: std::time::Duration::from_secs(5),
    };
    let doc = parse_bounded(&doubling_page(10), &page(), limits).unwrap();
    assert_eq!(find_items(&doc, "h-card").len(), 10, "one per element");
    let json = doc.to_json().to_string();
    assert_eq!(json.matches("\"h-card\"").count(), 2046);

    let tight = Limits {
        max_items: 2_000,
        ..limits
    };
    assert_eq!(
        parse_bounded(&doubling_page(10), &page(), tight),
        Err(Mf2Error::TooManyItems(2_000))
    );
}

/// This process's resident memory in KiB (Linux), if known.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn the_doubling_page_at_depth_40_is_refused_quickly() {
    // Before the budget this took 2^40 copies (memory ran out at depth 30).
    let rss_before = resident_kib();
    let started = std::time::Instant::now();
    let result = parse_bounded(&doubling_page(40), &page(), Limits::default());
    if let (Some(before), Some(after)) = (rss_before, resident_kib()) {
        // Other tests run alongside in this process: a loose bound, far
        // below what the copies took (21 GB at depth 30).
        assert!(
            after.saturating_sub(before) < 512 * 1024,
            "resident memory grew by {} KiB",
            after.saturating_sub(before)
        );
    }
    assert_eq!(
        result,
        Err(Mf2Error::TooManyItems(crate::config::DEFAULT_MF2_MAX_ITEMS))
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    // The unbounded entry point degrades to an empty document.
    assert!(parse(&doubling_page(40), &page()).items.is_empty());
}

#[test]
fn a_walk_over_its_time_limit_is_refused() {
    let limits = Limits {
        max_items: usize::MAX,
        max_time: std::time::Duration::ZERO,
    };
    assert_eq!(
        parse_bounded(&doubling_page(3), &page(), limits),
        Err(Mf2Error::TooSlow(std::time::Duration::ZERO))
    );
}
