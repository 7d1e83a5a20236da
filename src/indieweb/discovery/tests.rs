//! `endpoint_from_page` on tricky headers and documents, and `resend_targets`.

use http::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::{endpoint_from_page, resend_targets};

const PAGE: &str = "https://site.example/posts/1";

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    map
}

fn html() -> (&'static str, &'static [u8]) {
    ("Content-Type", b"text/html; charset=utf-8")
}

/// The endpoint of a page served from [`PAGE`], as text.
fn found(pairs: &[(&str, &[u8])], body: &str) -> Option<String> {
    endpoint_from_page(&url(PAGE), &headers(pairs), body.as_bytes()).map(String::from)
}

fn from_links(links: &[&str]) -> Option<String> {
    let pairs: Vec<(&str, &[u8])> = links.iter().map(|l| ("Link", l.as_bytes())).collect();
    found(&pairs, "")
}

#[test]
fn link_header_rel_forms() {
    let expected = Some("https://site.example/wm".to_owned());
    for link in [
        "</wm>; rel=webmention",
        "</wm>; rel=\"webmention\"",
        "</wm>;rel=\"webmention somethingelse\"",
        "</wm>; rel=\"other  WebMention\"",
        "< /wm >;\trel = webmention",
        "<https://site.example/wm>; rel=webmention",
    ] {
        assert_eq!(from_links(&[link]), expected, "{link}");
    }
    assert_eq!(
        from_links(&["<wm>; rel=webmention"]),
        Some("https://site.example/posts/wm".into())
    );
}

#[test]
fn link_header_name_is_case_insensitive() {
    assert_eq!(
        found(&[("LinK", b"</wm>; rel=webmention")], ""),
        Some("https://site.example/wm".into())
    );
}

#[test]
fn link_header_near_misses() {
    for link in [
        "</wm>; rel=not-webmention",
        "</wm>; rel=\"webmentions\"",
        "</wm>; rev=webmention",
        "</wm>; title=\"rel=webmention\"",
        "</wm>; rel=other; rel=webmention",
        "</wm>; rel=webmention; anchor=\"https://elsewhere.example/\"",
        "</wm>; rel=webmention; anchor=\"#comments\"",
        "<javascript:alert(1)>; rel=webmention",
        "<http://[::1>; rel=webmention",
        "/wm; rel=webmention",
    ] {
        assert_eq!(from_links(&[link]), None, "{link}");
    }
    assert_eq!(
        from_links(&["</wm>; rel=webmention; anchor=\"\""]),
        Some("https://site.example/wm".into())
    );
}

#[test]
fn first_webmention_link_across_headers_and_values() {
    assert_eq!(
        from_links(&[
            "</error>; rel=other",
            "</a>; rel=webmention",
            "</b>; rel=webmention"
        ]),
        Some("https://site.example/a".into())
    );
    assert_eq!(
        from_links(&[
            "</x,y>; rel=\"other\", </a?b=1,2>; rel=\"webmention\", </b>; rel=webmention"
        ]),
        Some("https://site.example/a?b=1,2".into())
    );
    // An unusable first candidate gives way to the next one.
    assert_eq!(
        from_links(&[
            "<mailto:x@site.example>; rel=webmention",
            "</b>; rel=webmention"
        ]),
        Some("https://site.example/b".into())
    );
}

#[test]
fn empty_link_target_is_the_page() {
    assert_eq!(from_links(&["<>; rel=webmention"]), Some(PAGE.into()));
}

#[test]
fn non_utf8_link_header_does_not_hide_the_rest() {
    assert_eq!(
        found(
            &[("Link", b"</\xff>; rel=other, </wm>; rel=webmention")],
            ""
        ),
        Some("https://site.example/wm".into())
    );
}

#[test]
fn link_header_wins_over_html() {
    let body = r#"<link rel="webmention" href="/from-html">"#;
    assert_eq!(
        found(&[html(), ("Link", b"</from-header>; rel=webmention")], body),
        Some("https://site.example/from-header".into())
    );
    assert_eq!(
        found(&[html(), ("Link", b"</x>; rel=other")], body),
        Some("https://site.example/from-html".into())
    );
}

#[test]
fn html_first_element_in_document_order() {
    let body = r#"<html><head><link rel="stylesheet" href="/s.css"></head><body>
        <!-- <link rel="webmention" href="/comment"> -->
        <p>&lt;link rel="webmention" href="/escaped"&gt;</p>
        <a rel="nofollow webmention" href="/a">endpoint</a>
        <link rel="webmention" href="/link"></body></html>"#;
    assert_eq!(
        found(&[html()], body),
        Some("https://site.example/a".into())
    );
}

#[test]
fn html_href_forms() {
    for (body, expected) in [
        (r#"<link rel="webmention" href="">"#, PAGE),
        (
            r#"<link rel="webmention"><a rel=webmention href=/b>"#,
            "https://site.example/b",
        ),
        (
            r#"<link rel=webmention href="wm?x=1&amp;y=2">"#,
            "https://site.example/posts/wm?x=1&y=2",
        ),
        (
            r#"<link rel=webmention href="  /trimmed  ">"#,
            "https://site.example/trimmed",
        ),
        (
            r#"<a rel=webmention href="javascript:void(0)"></a><a rel=webmention href=/ok>"#,
            "https://site.example/ok",
        ),
        (
            r#"<link rel=webmention href="//other.example/wm">"#,
            "https://other.example/wm",
        ),
    ] {
        assert_eq!(found(&[html()], body).as_deref(), Some(expected), "{body}");
    }
}

#[test]
fn html_base_element_sets_the_base() {
    assert_eq!(
        found(
            &[html()],
            r#"<a rel=webmention href="wm"></a><base href="/base/">"#
        ),
        Some("https://site.example/base/wm".into())
    );
    // A base that is not http(s) is ignored.
    assert_eq!(
        found(
            &[html()],
            r#"<base href="data:text/html,"><link rel=webmention href=wm>"#
        ),
        Some("https://site.example/posts/wm".into())
    );
    // The Link header resolves against the page, whatever the HTML's base.
    assert_eq!(
        found(
            &[html(), ("Link", b"<wm>; rel=webmention")],
            r#"<base href="/base/">"#
        ),
        Some("https://site.example/posts/wm".into())
    );
}

#[test]
fn body_is_read_only_when_it_is_html() {
    let body = r#"<link rel="webmention" href="/wm">"#;
    let wm = Some("https://site.example/wm".to_owned());
    assert_eq!(found(&[("Content-Type", b"TEXT/HTML")], body), wm);
    assert_eq!(
        found(
            &[("Content-Type", b"application/xhtml+xml; charset=utf-8")],
            body
        ),
        wm
    );
    assert_eq!(found(&[], body), wm);
    assert_eq!(found(&[("Content-Type", b"application/json")], body), None);
    assert_eq!(found(&[("Content-Type", b"text/plain")], body), None);
    assert_eq!(
        found(
            &[
                ("Content-Type", b"image/png"),
                ("Link", b"</wm>; rel=webmention")
            ],
            ""
        ),
        wm
    );
}

#[test]
fn non_utf8_body_still_parses() {
    let mut body = b"<p>caf\xe9</p><link rel=webmention href=/wm>".to_vec();
    body.extend_from_slice(b"\xff\xfe");
    assert_eq!(
        endpoint_from_page(&url(PAGE), &headers(&[html()]), &body).map(String::from),
        Some("https://site.example/wm".into())
    );
}

#[test]
fn nothing_found() {
    assert_eq!(found(&[html()], ""), None);
    assert_eq!(found(&[html()], "<a href=/wm>webmention</a>"), None);
}

#[test]
fn resend_targets_keeps_current_then_removed_links_once() {
    let (a, b, c) = (
        url("https://a.example/"),
        url("https://b.example/"),
        url("https://c.example/"),
    );
    assert_eq!(
        resend_targets(&[a.clone(), b.clone()], &[b.clone(), c.clone(), c.clone()]),
        [b.clone(), c.clone(), a.clone()]
    );
    let only_a = std::slice::from_ref(&a);
    assert_eq!(resend_targets(only_a, &[]), only_a);
    assert_eq!(resend_targets(&[], only_a), only_a);
}
