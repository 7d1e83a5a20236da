//! What a Webmention receiver needs to know of a source page: the URLs it
//! links to (`a`/`link` href, `img`/`video`/`audio`/`source` src) and
//! whether it declares itself gone (`<meta http-equiv="Status"
//! content="410 Gone">`). Read with html5ever's tokenizer.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
};
use url::Url;

/// Links and status of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFacts {
    /// Linked URLs, resolved against the page's URL (and `<base href>`).
    pub links: Vec<String>,
    /// The page says it is gone (HTTP-equiv status 410).
    pub gone: bool,
}

impl PageFacts {
    pub fn links_to(&self, target: &str) -> bool {
        self.links.iter().any(|link| link == target)
    }
}

struct Collector {
    base: RefCell<Url>,
    facts: RefCell<PageFacts>,
}

fn attr<'a>(tag: &'a Tag, name: &str) -> Option<&'a str> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| a.value.as_ref())
}

impl TokenSink for Collector {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        let name: &str = &tag.name;
        let linked = match name {
            "a" | "link" | "area" => attr(&tag, "href"),
            "img" | "video" | "audio" | "source" => attr(&tag, "src"),
            "base" => {
                // Joined before the assignment: a borrow held across the
                // `if let` block made every page with `<base href>` panic
                // (found by the mf2 fuzz target).
                let joined =
                    attr(&tag, "href").and_then(|href| self.base.borrow().join(href.trim()).ok());
                if let Some(base) = joined {
                    *self.base.borrow_mut() = base;
                }
                None
            }
            "meta" => {
                let equiv =
                    attr(&tag, "http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("status"));
                if equiv && attr(&tag, "content").is_some_and(|c| c.trim_start().starts_with("410"))
                {
                    self.facts.borrow_mut().gone = true;
                }
                None
            }
            _ => None,
        };
        if let Some(link) = linked
            && let Ok(url) = self.base.borrow().join(link.trim())
        {
            self.facts.borrow_mut().links.push(url.to_string());
        }
        TokenSinkResult::Continue
    }
}

/// Reads the links and status of the HTML page at `page_url`.
pub fn page_facts(html: &str, page_url: &Url) -> PageFacts {
    let collector = Collector {
        base: RefCell::new(page_url.clone()),
        facts: RefCell::new(PageFacts::default()),
    };
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(collector, Default::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.facts.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_element_sets_the_base_of_later_links() {
        // This used to panic (a RefCell borrowed twice); the fuzzer found it.
        let page = Url::parse("https://site.example/posts/1").unwrap();
        let html = r#"<head><base href="/x/"></head><a href="y">y</a>"#;
        let facts = page_facts(html, &page);
        assert!(
            facts.links_to("https://site.example/x/y"),
            "{:?}",
            facts.links
        );
    }

    #[test]
    fn links_are_found_and_resolved_comments_are_not() {
        let page = Url::parse("https://site.example/posts/1").unwrap();
        let html = r#"<html><head><meta http-equiv="Status" content="410 Gone"></head>
            <body><!-- <a href="https://e.example/hidden">x</a> -->
            <a href="/about">about</a> <img src="https://e.example/objects/1">
            <video src="v.mp4"></video></body></html>"#;
        let facts = page_facts(html, &page);
        assert!(facts.gone);
        assert!(facts.links_to("https://site.example/about"));
        assert!(facts.links_to("https://e.example/objects/1"));
        assert!(facts.links_to("https://site.example/posts/v.mp4"));
        assert!(!facts.links_to("https://e.example/hidden"));
        let plain = page_facts("<p>nothing</p>", &page);
        assert!(!plain.gone && plain.links.is_empty());
    }
}
