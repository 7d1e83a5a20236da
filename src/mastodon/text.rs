//! The plain text a client posts: `@user` and `@user@host` mentions and
//! `#hashtags` found, then rendered as HTML with links once the mentions
//! are resolved. Pure and unit-tested.

/// What a status text names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Handles as written, without the leading `@` (`bob` or `bob@host`).
    pub mentions: Vec<String>,
    /// Hashtags without `#`, as written.
    pub hashtags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(String),
    Mention(String),
    Hashtag(String),
    Link(String),
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')
}

fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut i = 0;
    let boundary = |i: usize| i == 0 || !(is_name_char(chars[i - 1]) || chars[i - 1] == '@');
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        if (rest.starts_with("https://") || rest.starts_with("http://")) && boundary(i) {
            let end = (i..chars.len())
                .find(|&j| chars[j].is_whitespace())
                .unwrap_or(chars.len());
            let mut link: String = chars[i..end].iter().collect();
            while link.ends_with(['.', ',', ')', '!', '?', ';', ':']) {
                link.pop();
            }
            let taken = link.chars().count();
            out.push(Token::Text(std::mem::take(&mut plain)));
            out.push(Token::Link(link));
            i += taken;
            continue;
        }
        if c == '@' && boundary(i) {
            let mut j = i + 1;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            if j > i + 1 {
                let mut handle: String = chars[i + 1..j].iter().collect();
                if j < chars.len() && chars[j] == '@' {
                    let mut k = j + 1;
                    while k < chars.len() && is_host_char(chars[k]) {
                        k += 1;
                    }
                    let mut host: String = chars[j + 1..k].iter().collect();
                    while host.ends_with(['.', ':', '-']) {
                        host.pop();
                        k -= 1;
                    }
                    if host.contains(['.', ':']) || host == "localhost" {
                        handle = format!("{handle}@{host}");
                        j = k;
                    }
                }
                out.push(Token::Text(std::mem::take(&mut plain)));
                out.push(Token::Mention(handle));
                i = j;
                continue;
            }
        }
        if c == '#' && boundary(i) {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j > i + 1 && chars[i + 1..j].iter().any(|c| !c.is_ascii_digit()) {
                out.push(Token::Text(std::mem::take(&mut plain)));
                out.push(Token::Hashtag(chars[i + 1..j].iter().collect()));
                i = j;
                continue;
            }
        }
        plain.push(c);
        i += 1;
    }
    out.push(Token::Text(plain));
    out.retain(|t| !matches!(t, Token::Text(s) if s.is_empty()));
    out
}

/// The mentions and hashtags of a status text, each once.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for token in tokens(text) {
        match token {
            Token::Mention(m) if !parsed.mentions.contains(&m) => parsed.mentions.push(m),
            Token::Hashtag(h) if !parsed.hashtags.iter().any(|x| x.eq_ignore_ascii_case(&h)) => {
                parsed.hashtags.push(h)
            }
            _ => {}
        }
    }
    parsed
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A resolved mention: the handle as written, the profile URL to link and
/// the name to show (`@bob`).
pub struct Resolved<'a> {
    pub written: &'a str,
    pub url: &'a str,
}

/// Renders a status text as HTML: paragraphs, line breaks, links, and
/// mentions and hashtags as Mastodon marks them up.
pub fn to_html(text: &str, mentions: &[Resolved<'_>], tag_url: impl Fn(&str) -> String) -> String {
    let mut html = String::new();
    for paragraph in text.trim().split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for token in tokens(paragraph.trim()) {
            match token {
                Token::Text(s) => html.push_str(&escape(&s).replace('\n', "<br>")),
                Token::Link(url) => html.push_str(&format!(
                    "<a href=\"{0}\" rel=\"nofollow noopener\" target=\"_blank\">{0}</a>",
                    escape(&url)
                )),
                Token::Hashtag(tag) => html.push_str(&format!(
                    "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                    escape(&tag_url(&tag.to_lowercase())),
                    escape(&tag)
                )),
                Token::Mention(handle) => match mentions.iter().find(|m| m.written == handle) {
                    Some(m) => {
                        let name = handle.split('@').next().unwrap_or(&handle);
                        html.push_str(&format!(
                            "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                            escape(m.url),
                            escape(name)
                        ));
                    }
                    None => html.push_str(&escape(&format!("@{handle}"))),
                },
            }
        }
        html.push_str("</p>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_hashtags_and_links_are_found() {
        let parsed =
            parse("Hi @bob and @carol@b.example:8080, see #Rivers and #rivers! mail a@b.c #1");
        assert_eq!(parsed.mentions, ["bob", "carol@b.example:8080"]);
        assert_eq!(parsed.hashtags, ["Rivers"]);
    }

    #[test]
    fn html_escapes_and_links() {
        let mentions = [Resolved {
            written: "bob@b.example",
            url: "https://b.example/@bob",
        }];
        let html = to_html(
            "<b>hi</b> @bob@b.example #Tag\nhttps://x.example/a.\n\nbye",
            &mentions,
            |t| format!("https://a.example/tags/{t}"),
        );
        assert_eq!(
            html,
            "<p>&lt;b&gt;hi&lt;/b&gt; <span class=\"h-card\"><a href=\"https://b.example/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> \
             <a href=\"https://a.example/tags/tag\" class=\"mention hashtag\" rel=\"tag\">#<span>Tag</span></a><br>\
             <a href=\"https://x.example/a\" rel=\"nofollow noopener\" target=\"_blank\">https://x.example/a</a>.</p><p>bye</p>"
        );
    }
}
