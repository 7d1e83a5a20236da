//! `<link>` and `<a>` elements with `rel=webmention` in an HTML document,
//! found with html5ever's tokenizer.
//!
//! A tokenizer alone would read the text of `<script>`, `<style>` or
//! `<textarea>` as markup; the sink switches it into the raw-text states the
//! HTML tree builder would choose, so only real elements count. Comments and
//! character references never produce tags. Elements inside `<template>` are
//! not part of the document and are skipped. `<noscript>` is read as markup,
//! as a client without scripting sees it.

use std::cell::{Cell, RefCell};

use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Candidates kept in document order; a page advertising more than this
/// many unusable endpoints before a usable one is not worth reading on.
const MAX_CANDIDATES: usize = 16;

/// What the scan found, unresolved.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Found {
    /// `href` values of `<link>`/`<a>` elements whose `rel` has the wanted
    /// token, in document order (an empty `href` is kept: it means the page).
    pub(super) hrefs: Vec<String>,
    /// The `href` of the first `<base>` that has one: the document's base URL.
    pub(super) base: Option<String>,
}

/// Scans `html` for `<link>`/`<a>` elements with `relation` among their
/// `rel` tokens (ASCII case-insensitive) and an `href`.
pub(super) fn scan(html: &str, relation: &str) -> Found {
    let tokenizer = Tokenizer::new(
        Scan {
            relation,
            template_depth: Cell::new(0),
            found: RefCell::default(),
        },
        TokenizerOpts::default(),
    );
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink never asks to pause, so the first call runs to the end; the
    // loop only guards against a future tokenizer pausing anyway.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    tokenizer.sink.found.into_inner()
}

struct Scan<'r> {
    relation: &'r str,
    template_depth: Cell<usize>,
    found: RefCell<Found>,
}

impl Scan<'_> {
    fn start_tag(&self, tag: &Tag) {
        let mut found = self.found.borrow_mut();
        match &*tag.name {
            "a" | "link" if found.hrefs.len() < MAX_CANDIDATES => {
                let has_relation = attribute(tag, "rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|token| token.eq_ignore_ascii_case(self.relation))
                });
                if has_relation && let Some(href) = attribute(tag, "href") {
                    found.hrefs.push(href.to_owned());
                }
            }
            "base" if found.base.is_none() => {
                found.base = attribute(tag, "href").map(str::to_owned);
            }
            _ => {}
        }
    }
}

/// An attribute's value; the tokenizer lowercases names and keeps the first
/// of duplicates.
fn attribute<'t>(tag: &'t Tag, name: &str) -> Option<&'t str> {
    tag.attrs
        .iter()
        .find(|attr| &*attr.name.local == name)
        .map(|attr| &*attr.value)
}

impl TokenSink for Scan<'_> {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        let name = &*tag.name;
        if tag.kind == TagKind::EndTag {
            if name == "template" {
                self.template_depth
                    .set(self.template_depth.get().saturating_sub(1));
            }
            return TokenSinkResult::Continue;
        }
        if self.template_depth.get() == 0 {
            self.start_tag(&tag);
        }
        // The tokenizer states the tree builder switches to for these
        // elements (HTML §13.2.6.4); `self_closing` does not matter for them.
        match name {
            "template" => {
                self.template_depth.set(self.template_depth.get() + 1);
                TokenSinkResult::Continue
            }
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hrefs(html: &str) -> Vec<String> {
        scan(html, "webmention").hrefs
    }

    #[test]
    fn link_and_a_in_document_order() {
        assert_eq!(
            hrefs(
                "<p><a href=/one rel=webmention>x</a><link rel=webmention href=/two>\
                 <area rel=webmention href=/no>"
            ),
            ["/one", "/two"]
        );
    }

    #[test]
    fn rel_is_a_token_list() {
        assert_eq!(
            hrefs(
                "<link rel='not-webmention' href=/a><link rel='webmentions' href=/b>\
                 <link rel=\"me\twebMention\nother\" href=/c>"
            ),
            ["/c"]
        );
    }

    #[test]
    fn no_href_is_skipped_and_empty_href_kept() {
        assert_eq!(
            hrefs("<link rel=webmention><link rel=webmention href><a rel=webmention href=''>"),
            ["", ""]
        );
    }

    #[test]
    fn comments_escapes_and_raw_text_are_not_elements() {
        let html = r#"
            <!-- <link rel="webmention" href="/comment"> -->
            <code>&lt;a rel="webmention" href="/escaped"&gt;</code>
            <script>var s = '<a rel="webmention" href="/script">';</script>
            <style>/* <link rel=webmention href=/style> */</style>
            <title><link rel=webmention href=/title></title>
            <textarea><a rel=webmention href=/textarea></a></textarea>
            <template><link rel=webmention href=/template><template></template>
              <a rel=webmention href=/nested-template></a></template>
            <noscript><link rel=webmention href=/noscript></noscript>
            <a rel=webmention href=/real>real</a>
            <plaintext><a rel=webmention href=/plaintext>
        "#;
        assert_eq!(hrefs(html), ["/noscript", "/real"]);
    }

    #[test]
    fn first_base_with_href() {
        let found = scan(
            "<base target=_top><base href=/b/><base href=/c/><a rel=webmention href=x>",
            "webmention",
        );
        assert_eq!(found.base.as_deref(), Some("/b/"));
        assert_eq!(found.hrefs, ["x"]);
    }

    #[test]
    fn candidates_are_bounded() {
        let html = "<link rel=webmention href=x>".repeat(100);
        assert_eq!(hrefs(&html).len(), MAX_CANDIDATES);
    }
}
