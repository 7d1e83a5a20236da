//! Sanitising HTML that comes from other servers: an allowlist of tags and
//! attributes that keeps links, formatting and microformats2 classes.

use std::collections::HashSet;
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags([
            "span",
            "p",
            "br",
            "a",
            "del",
            "pre",
            "code",
            "blockquote",
            "ul",
            "ol",
            "li",
        ])
        .add_generic_attributes(["class"])
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .attribute_filter(|_, attribute, value| {
            if attribute != "class" {
                return Some(value.into());
            }
            // Keep microformats2 and Mastodon's mention/hashtag classes only.
            let kept: Vec<&str> = value
                .split_whitespace()
                .filter(|class| {
                    ["h-", "p-", "u-", "dt-", "e-"]
                        .iter()
                        .any(|p| class.starts_with(p))
                        || matches!(*class, "mention" | "hashtag" | "invisible" | "ellipsis")
                })
                .collect();
            (!kept.is_empty()).then(|| kept.join(" ").into())
        });
    builder
});

/// Sanitises foreign HTML for storage and display.
pub fn sanitize_html(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_go_links_and_microformats_stay() {
        let dirty = r#"<p class="e-content evil">Hi <a href="https://b.example/@bob" class="u-url mention" onclick="x()">@bob</a><script>alert(1)</script><img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a></p>"#;
        let clean = sanitize_html(dirty);
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onerror"));
        assert!(!clean.contains("onclick"));
        assert!(!clean.contains("javascript:"));
        assert!(!clean.contains("evil"));
        assert!(clean.contains(r#"class="e-content""#), "{clean}");
        assert!(clean.contains(r#"class="u-url mention""#), "{clean}");
        assert!(clean.contains(r#"href="https://b.example/@bob""#));
    }
}
