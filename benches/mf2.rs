//! microformats2 parsing benchmark (criterion): documents per second for
//! `estuary::indieweb::mf2::parse` on two h-entry pages built here, a
//! 1.5 KB one (one h-entry: p-author h-card, e-content of a few
//! paragraphs, dt-published, u-in-reply-to h-cite, p-category) and a 50 KB
//! one (an h-feed of h-entries with links and inline markup), plus
//! `Document::to_json` on each parsed page.
//!
//! Run with `cargo bench --bench mf2` (release profile, about a minute);
//! add a filter such as `-- parse/1.5KB` to run one benchmark.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use estuary::indieweb::mf2;
use url::Url;

const BASE: &str = "https://rivers.example/2025/06/where-rivers-meet";

/// The `<head>` and the site header every page starts with.
fn page_start(title: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="webmention" href="/webmention">
<link rel="alternate" type="application/atom+xml" href="/feed.atom">
</head>
<body>
"#
    )
}

/// One h-entry with everything a reply post usually carries. `n` varies
/// ids, dates and words so entries of a feed are not all the same.
fn h_entry(n: usize, paragraphs: usize) -> String {
    let day = n % 28 + 1;
    let mut content = String::new();
    for p in 0..paragraphs {
        content.push_str(&match (n + p) % 3 {
            0 => format!(
                "<p>Where the <em>Rhône</em> meets the <a href=\"/tags/arve\">Arve</a>, \
                 two colours run side by side ({n}.{p}).</p>\n"
            ),
            1 => format!(
                "<p>See <a href=\"https://maps.example/geneva?z=1{p}\">the map</a>; \
                 <code>flow &lt; 300 m³/s</code> &amp; rising.</p>\n"
            ),
            _ => format!(
                "<p><strong>Note {n}:</strong> the bridge at <a href=\"/places/jonction\">\
                 La Jonction</a> is the best view.</p>\n"
            ),
        });
    }
    format!(
        r#"<article class="h-entry" id="post-{n}">
  <header>
    <a class="p-author h-card" href="https://alice.example/">
      <img class="u-photo" src="/media/alice.jpg" alt="Alice">
      <span class="p-name">Alice Rivers</span></a>
    <a class="u-url u-uid" href="/2025/06/{day:02}/post-{n}">
      <time class="dt-published" datetime="2025-06-{day:02}T09:{m:02}:00+02:00">June {day}, 2025</time></a>
  </header>
  <div class="u-in-reply-to h-cite">
    In reply to <a class="u-url p-name" href="https://bob.example/notes/{n}">Bob's note on confluences</a>
    by <span class="p-author">Bob</span>
  </div>
  <h2 class="p-name">Where rivers meet, part {n}</h2>
  <div class="e-content">
{content}  </div>
  <footer>
    Filed under <a class="p-category" href="/tags/rivers">rivers</a>,
    <a class="p-category" href="/tags/geneva">geneva</a>
  </footer>
</article>
"#,
        m = n % 60,
    )
}

/// About 1.5 KB: one reply with three short paragraphs.
fn small_page() -> String {
    let mut html = page_start("Where rivers meet");
    html.push_str("<main>\n");
    html.push_str(&h_entry(1, 3));
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// About 50 KB: an h-feed with a name, an author and entries until the
/// page reaches the size.
fn large_page() -> String {
    let mut html = page_start("Alice Rivers: notes");
    html.push_str(
        r#"<main class="h-feed">
<h1 class="p-name">Alice Rivers: notes</h1>
<a class="p-author h-card" href="https://alice.example/">Alice Rivers</a>
<nav><a rel="me" href="https://social.example/@alice">fediverse</a>
<a rel="prev" href="/page/2">older</a></nav>
"#,
    );
    let mut n = 0;
    while html.len() < 50 * 1024 - 1500 {
        n += 1;
        html.push_str(&h_entry(n, 3));
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn benches(c: &mut Criterion) {
    let base = Url::parse(BASE).unwrap();
    let pages = [("1.5KB", small_page()), ("50KB", large_page())];
    assert!((1_300..1_700).contains(&pages[0].1.len()));
    assert!((48_000..53_000).contains(&pages[1].1.len()));
    for (label, html) in &pages {
        // The pages must be what they say: sizes near their labels, and
        // entries that parse with content and an author.
        let parsed = mf2::parse(html, &base);
        let entries = mf2::find_items(&parsed, "h-entry");
        assert!(!entries.is_empty(), "{label}: no h-entry");
        assert!(entries.iter().all(|e| e.first_html("content").is_some()
            && !e.items("author").is_empty()
            && !e.items("in-reply-to").is_empty()));
        eprintln!(
            "mf2 bench page {label}: {} bytes, {} h-entry",
            html.len(),
            entries.len()
        );
    }

    let mut group = c.benchmark_group("mf2");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for (label, html) in &pages {
        group.bench_function(format!("parse/{label}"), |b| {
            b.iter(|| mf2::parse(black_box(html), black_box(&base)))
        });
        let parsed = mf2::parse(html, &base);
        group.bench_function(format!("to_json/{label}"), |b| {
            b.iter(|| black_box(&parsed).to_json())
        });
    }
    group.finish();
}

criterion_group!(mf2_benches, benches);
criterion_main!(mf2_benches);
