//! `Link` header values (RFC 8288 §3): enough of the grammar to find links
//! by relation type. Commas and semicolons inside `<…>` and inside quoted
//! strings belong to the value they are in; a malformed link-value is
//! skipped up to the next comma outside quotes, and the rest still counts.

/// One link-value: its target as written (unresolved) and its parameters,
/// names lowercased, values unquoted, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LinkValue {
    pub(super) target: String,
    pub(super) params: Vec<(String, String)>,
}

impl LinkValue {
    /// The first parameter of that (lowercase) name; later ones are ignored,
    /// as RFC 8288 §3.3 asks for `rel`.
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `relation` is one of the space-separated relation types of
    /// the first `rel` parameter, compared case-insensitively.
    pub(super) fn has_rel(&self, relation: &str) -> bool {
        self.param("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case(relation))
        })
    }
}

/// Every link-value of one `Link` header field value, in order.
pub(super) fn parse(value: &str) -> Vec<LinkValue> {
    let mut cursor = Cursor {
        text: value,
        pos: 0,
    };
    let mut links = Vec::new();
    loop {
        // Empty list elements are allowed (RFC 9110 §5.6.1).
        cursor.skip_while(|b| matches!(b, b' ' | b'\t' | b','));
        match cursor.peek() {
            None => break,
            Some(b'<') => cursor.pos += 1,
            Some(_) => {
                cursor.skip_element();
                continue;
            }
        }
        let target = cursor.take_until(|b| b == b'>');
        if cursor.peek().is_none() {
            break; // no closing '>': nothing usable is left
        }
        cursor.pos += 1;
        let params = cursor.params();
        links.push(LinkValue {
            target: target.trim().to_owned(),
            params,
        });
    }
    links
}

/// A position in the header value. It only ever stops on an ASCII byte or
/// at the end, so slicing at it is always on a character boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_while(&mut self, skip: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&skip) {
            self.pos += 1;
        }
    }

    fn take_until(&mut self, stop: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        self.skip_while(|b| !stop(b));
        &self.text[start..self.pos]
    }

    fn skip_ows(&mut self) {
        self.skip_while(|b| matches!(b, b' ' | b'\t'));
    }

    /// `*( OWS ";" OWS link-param )` after the target, up to the comma that
    /// ends the link-value (left in place) or the end.
    fn params(&mut self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        loop {
            self.skip_ows();
            match self.peek() {
                Some(b';') => self.pos += 1,
                Some(b',') | None => break,
                Some(_) => {
                    self.skip_element();
                    break;
                }
            }
            self.skip_ows();
            let name = self
                .take_until(|b| matches!(b, b'=' | b';' | b',' | b' ' | b'\t'))
                .to_ascii_lowercase();
            self.skip_ows();
            let value = if self.peek() == Some(b'=') {
                self.pos += 1;
                self.skip_ows();
                if self.peek() == Some(b'"') {
                    self.pos += 1;
                    self.quoted_string()
                } else {
                    self.take_until(|b| matches!(b, b';' | b','))
                        .trim_end()
                        .to_owned()
                }
            } else {
                String::new()
            };
            if !name.is_empty() {
                params.push((name, value));
            }
        }
        params
    }

    /// The rest of a quoted string whose opening quote was consumed, with
    /// backslash escapes undone; consumes the closing quote.
    fn quoted_string(&mut self) -> String {
        let mut value = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += offset + 1;
                    return value;
                }
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                _ => value.push(c),
            }
        }
        self.pos = self.text.len();
        value
    }

    /// Skips to the next comma that is outside quotes and angle brackets.
    fn skip_element(&mut self) {
        let bytes = self.text.as_bytes();
        let (mut in_quotes, mut in_angle) = (false, false);
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'"' if !in_angle => in_quotes = !in_quotes,
                b'\\' if in_quotes => self.pos += 1,
                b'<' if !in_quotes => in_angle = true,
                b'>' if !in_quotes => in_angle = false,
                b',' if !in_quotes && !in_angle => return,
                _ => {}
            }
            self.pos += 1;
        }
        // An escape as the very last byte may have stepped past the end.
        self.pos = self.pos.min(bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(target: &str, params: &[(&str, &str)]) -> LinkValue {
        LinkValue {
            target: target.to_owned(),
            params: params
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn unquoted_and_quoted_rel() {
        assert_eq!(
            parse("</test/1/webmention>; rel=webmention"),
            vec![link("/test/1/webmention", &[("rel", "webmention")])]
        );
        assert_eq!(
            parse("<https://a.example/wm> ;REL = \"webmention other\""),
            vec![link("https://a.example/wm", &[("rel", "webmention other")])]
        );
    }

    #[test]
    fn several_values_with_commas_and_semicolons_inside() {
        let links = parse(
            "<https://a.example/x,y;z>; rel=\"other\"; title=\"a, b; rel=webmention\", \
             <https://a.example/wm>; rel=\"webmention\"",
        );
        assert_eq!(
            links,
            vec![
                link(
                    "https://a.example/x,y;z",
                    &[("rel", "other"), ("title", "a, b; rel=webmention")]
                ),
                link("https://a.example/wm", &[("rel", "webmention")]),
            ]
        );
        assert!(!links[0].has_rel("webmention"));
        assert!(links[1].has_rel("webmention"));
    }

    #[test]
    fn escapes_in_quoted_strings() {
        let links = parse(r#"<a>; title="say \"hi\", \\ok"; rel=webmention"#);
        assert_eq!(links[0].param("title"), Some(r#"say "hi", \ok"#));
        assert!(links[0].has_rel("webmention"));
    }

    #[test]
    fn only_the_first_rel_counts() {
        let links = parse("<a>; rel=other; rel=webmention");
        assert!(!links[0].has_rel("webmention"));
        assert!(links[0].has_rel("OTHER"));
    }

    #[test]
    fn malformed_values_are_skipped_not_fatal() {
        let links =
            parse("garbage; rel=webmention, <b> junk; rel=webmention, ,, <c>; rel=webmention, <d");
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].target, "b");
        assert_eq!(links[0].param("rel"), None);
        assert_eq!(links[1].target, "c");
        assert!(links[1].has_rel("webmention"));
    }

    #[test]
    fn non_ascii_and_unterminated_input_do_not_panic() {
        for text in [
            "<é>; rel=\"wébmention\\é\"",
            "<a>; rel=\"unterminated",
            "<a>; t=\"x\\",
            "x\"\\",
            "\"é\\é, <b>; rel=webmention",
            "<a>; rel=",
            ";;;",
            "",
        ] {
            let _ = parse(text);
        }
        assert!(
            parse("<a>; rel=webmention; flag")
                .iter()
                .all(|l| l.has_rel("webmention"))
        );
    }
}
