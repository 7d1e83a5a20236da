//! The subset of RFC 8941 structured field values that signatures need:
//! parsing dictionaries (`Signature-Input`, `Signature`, `Content-Digest`)
//! and serialising inner lists and items back exactly as the RFC defines.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64 that accepts byte sequences with or without padding
/// (RFC 8941 §4.2.7 lets parsers be lenient there) and always writes it.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest input we agree to parse; real fields are far shorter.
const MAX_INPUT: usize = 16 * 1024;
/// Most members, inner-list items or parameters we accept in one place.
const MAX_MEMBERS: usize = 64;

/// A bare item (RFC 8941 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BareItem {
    Integer(i64),
    /// A decimal, kept as thousandths so it serialises back exactly.
    Decimal(i64),
    String(String),
    Token(String),
    ByteSeq(Vec<u8>),
    Boolean(bool),
}

/// Ordered parameters of an item or inner list.
pub(crate) type Params = Vec<(String, BareItem)>;

/// An item with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub bare: BareItem,
    pub params: Params,
}

/// A dictionary member's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    Item(Item),
    InnerList(Vec<Item>, Params),
}

/// The input is not a valid structured field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SfvError;

type Res<T> = Result<T, SfvError>;

/// Looks a parameter up by key.
pub(crate) fn param<'a>(params: &'a Params, key: &str) -> Option<&'a BareItem> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Parses a dictionary (RFC 8941 §4.2.2). Duplicate keys keep the first
/// position and the last value, as the RFC says.
pub(crate) fn parse_dictionary(input: &str) -> Res<Vec<(String, Member)>> {
    if input.len() > MAX_INPUT || !input.is_ascii() {
        return Err(SfvError);
    }
    let mut p = Parser {
        s: input.as_bytes(),
        i: 0,
    };
    p.skip_sp();
    let mut out: Vec<(String, Member)> = Vec::new();
    while !p.done() {
        let key = p.key()?;
        let member = if p.eat(b'=') {
            p.member()?
        } else {
            Member::Item(Item {
                bare: BareItem::Boolean(true),
                params: p.params()?,
            })
        };
        if let Some(slot) = out.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = member;
        } else {
            if out.len() >= MAX_MEMBERS {
                return Err(SfvError);
            }
            out.push((key, member));
        }
        p.skip_ows();
        if p.done() {
            break;
        }
        if !p.eat(b',') {
            return Err(SfvError);
        }
        p.skip_ows();
        if p.done() {
            // A trailing comma is an error.
            return Err(SfvError);
        }
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn member(&mut self) -> Res<Member> {
        if self.peek() == Some(b'(') {
            self.inner_list()
        } else {
            Ok(Member::Item(self.item()?))
        }
    }

    fn inner_list(&mut self) -> Res<Member> {
        if !self.eat(b'(') {
            return Err(SfvError);
        }
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            if self.eat(b')') {
                let params = self.params()?;
                return Ok(Member::InnerList(items, params));
            }
            if items.len() >= MAX_MEMBERS {
                return Err(SfvError);
            }
            items.push(self.item()?);
            match self.peek() {
                Some(b' ' | b')') => {}
                _ => return Err(SfvError),
            }
        }
    }

    fn item(&mut self) -> Res<Item> {
        let bare = self.bare_item()?;
        let params = self.params()?;
        Ok(Item { bare, params })
    }

    fn params(&mut self) -> Res<Params> {
        let mut out: Params = Vec::new();
        while self.eat(b';') {
            self.skip_sp();
            let key = self.key()?;
            let value = if self.eat(b'=') {
                self.bare_item()?
            } else {
                BareItem::Boolean(true)
            };
            if let Some(slot) = out.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else {
                if out.len() >= MAX_MEMBERS {
                    return Err(SfvError);
                }
                out.push((key, value));
            }
        }
        Ok(out)
    }

    fn key(&mut self) -> Res<String> {
        let start = self.i;
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == b'*' => self.i += 1,
            _ => return Err(SfvError),
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, b'_' | b'-' | b'.' | b'*')
            {
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(ascii(&self.s[start..self.i]))
    }

    fn bare_item(&mut self) -> Res<BareItem> {
        match self.peek() {
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            Some(b'"') => self.string(),
            Some(b':') => self.byte_seq(),
            Some(b'?') => self.boolean(),
            Some(c) if c.is_ascii_alphabetic() || c == b'*' => Ok(self.token()),
            _ => Err(SfvError),
        }
    }

    fn number(&mut self) -> Res<BareItem> {
        let negative = self.eat(b'-');
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.i += 1;
        }
        let int_digits = self.i - start;
        if int_digits == 0 {
            return Err(SfvError);
        }
        let int_part = &self.s[start..self.i];
        if self.peek() != Some(b'.') {
            if int_digits > 15 {
                return Err(SfvError);
            }
            let v: i64 = ascii(int_part).parse().map_err(|_| SfvError)?;
            return Ok(BareItem::Integer(if negative { -v } else { v }));
        }
        if int_digits > 12 {
            return Err(SfvError);
        }
        self.i += 1;
        let frac_start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.i += 1;
        }
        let frac = &self.s[frac_start..self.i];
        if frac.is_empty() || frac.len() > 3 {
            return Err(SfvError);
        }
        let whole: i64 = ascii(int_part).parse().map_err(|_| SfvError)?;
        let mut thousandths: i64 = ascii(frac).parse().map_err(|_| SfvError)?;
        for _ in frac.len()..3 {
            thousandths *= 10;
        }
        let v = whole * 1000 + thousandths;
        Ok(BareItem::Decimal(if negative { -v } else { v }))
    }

    fn string(&mut self) -> Res<BareItem> {
        if !self.eat(b'"') {
            return Err(SfvError);
        }
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or(SfvError)?;
            self.i += 1;
            match c {
                b'\\' => {
                    let next = self.peek().ok_or(SfvError)?;
                    if next != b'"' && next != b'\\' {
                        return Err(SfvError);
                    }
                    self.i += 1;
                    out.push(char::from(next));
                }
                b'"' => return Ok(BareItem::String(out)),
                0x20..=0x7e => out.push(char::from(c)),
                _ => return Err(SfvError),
            }
        }
    }

    fn token(&mut self) -> BareItem {
        let start = self.i;
        self.i += 1;
        while let Some(c) = self.peek() {
            if is_tchar(c) || c == b':' || c == b'/' {
                self.i += 1;
            } else {
                break;
            }
        }
        BareItem::Token(ascii(&self.s[start..self.i]))
    }

    fn byte_seq(&mut self) -> Res<BareItem> {
        if !self.eat(b':') {
            return Err(SfvError);
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=') {
                self.i += 1;
            } else {
                break;
            }
        }
        let body = &self.s[start..self.i];
        if !self.eat(b':') {
            return Err(SfvError);
        }
        let bytes = BASE64.decode(body).map_err(|_| SfvError)?;
        Ok(BareItem::ByteSeq(bytes))
    }

    fn boolean(&mut self) -> Res<BareItem> {
        if !self.eat(b'?') {
            return Err(SfvError);
        }
        if self.eat(b'1') {
            Ok(BareItem::Boolean(true))
        } else if self.eat(b'0') {
            Ok(BareItem::Boolean(false))
        } else {
            Err(SfvError)
        }
    }
}

fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// RFC 9110 `tchar`.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Whether `s` can be serialised as an sf-string (printable ASCII).
pub(crate) fn is_sf_string(s: &str) -> bool {
    s.bytes().all(|c| (0x20..=0x7e).contains(&c))
}

/// Serialises a bare item (RFC 8941 §4.1.3). Strings must be printable
/// ASCII; callers check that before building an item from outside input.
pub(crate) fn serialize_bare(item: &BareItem, out: &mut String) {
    match item {
        BareItem::Integer(v) => out.push_str(&v.to_string()),
        BareItem::Decimal(v) => {
            if *v < 0 {
                out.push('-');
            }
            let abs = v.unsigned_abs();
            out.push_str(&(abs / 1000).to_string());
            out.push('.');
            let frac = format!("{:03}", abs % 1000);
            let trimmed = frac.trim_end_matches('0');
            out.push_str(if trimmed.is_empty() { "0" } else { trimmed });
        }
        BareItem::String(s) => {
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        BareItem::Token(t) => out.push_str(t),
        BareItem::ByteSeq(b) => {
            out.push(':');
            out.push_str(&BASE64.encode(b));
            out.push(':');
        }
        BareItem::Boolean(b) => out.push_str(if *b { "?1" } else { "?0" }),
    }
}

/// Serialises parameters (RFC 8941 §4.1.1.2).
pub(crate) fn serialize_params(params: &Params, out: &mut String) {
    for (key, value) in params {
        out.push(';');
        out.push_str(key);
        if *value != BareItem::Boolean(true) {
            out.push('=');
            serialize_bare(value, out);
        }
    }
}

/// Serialises an item with its parameters.
pub(crate) fn serialize_item(item: &Item, out: &mut String) {
    serialize_bare(&item.bare, out);
    serialize_params(&item.params, out);
}

/// Serialises an inner list with its parameters (RFC 8941 §4.1.1.1).
pub(crate) fn serialize_inner_list(items: &[Item], params: &Params) -> String {
    let mut out = String::from("(");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        serialize_item(item, &mut out);
    }
    out.push(')');
    serialize_params(params, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reserialize(input: &str) -> String {
        let dict = parse_dictionary(input).expect("parses");
        let (_, member) = &dict[0];
        match member {
            Member::InnerList(items, params) => serialize_inner_list(items, params),
            Member::Item(item) => {
                let mut s = String::new();
                serialize_item(item, &mut s);
                s
            }
        }
    }

    #[test]
    fn signature_input_round_trips() {
        let input = r#"sig1=("@method" "@query-param";name="Pet" "content-digest");created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#;
        assert_eq!(reserialize(input), input.trim_start_matches("sig1="));
    }

    #[test]
    fn whitespace_is_normalised() {
        let input = r#"  sig1=(  "a"   "b" );created=1 ;keyid="k" "#;
        // A space before `;` is not allowed in parameters: it ends the member.
        assert!(parse_dictionary(input).is_err());
        let input = r#"  sig1=(  "a"   "b" );created=1;keyid="k",   sig2=()"#;
        let dict = parse_dictionary(input).expect("parses");
        assert_eq!(dict.len(), 2);
        assert_eq!(reserialize(input), r#"("a" "b");created=1;keyid="k""#);
    }

    #[test]
    fn bare_items() {
        let dict =
            parse_dictionary(r#"a=1, b=-2.5, c="x\"y", d=tok/en:1, e=:AQID:, f=?0, g"#).unwrap();
        let values: Vec<BareItem> = dict
            .into_iter()
            .map(|(_, m)| match m {
                Member::Item(i) => i.bare,
                Member::InnerList(..) => panic!("no inner list here"),
            })
            .collect();
        assert_eq!(
            values,
            vec![
                BareItem::Integer(1),
                BareItem::Decimal(-2500),
                BareItem::String("x\"y".into()),
                BareItem::Token("tok/en:1".into()),
                BareItem::ByteSeq(vec![1, 2, 3]),
                BareItem::Boolean(false),
                BareItem::Boolean(true),
            ]
        );
        let mut s = String::new();
        serialize_bare(&BareItem::Decimal(-2500), &mut s);
        assert_eq!(s, "-2.5");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", // empty is fine, checked below
            "A=1",
            "a=",
            "a=1,",
            "a=(\"x\"",
            "a=\"unterminated",
            "a=:not base64!:",
            "a=1234567890123456",
            "a=1.2345",
            "a=?2",
            "a=\"\\n\"",
            "a=1 b=2",
            "a=é",
        ] {
            if bad.is_empty() {
                assert_eq!(parse_dictionary(bad), Ok(vec![]));
            } else {
                assert!(parse_dictionary(bad).is_err(), "{bad:?} should not parse");
            }
        }
    }

    #[test]
    fn duplicate_keys_keep_last_value() {
        let dict = parse_dictionary("a=1, b=2, a=3").unwrap();
        assert_eq!(dict.len(), 2);
        assert_eq!(dict[0].0, "a");
        assert_eq!(
            dict[0].1,
            Member::Item(Item {
                bare: BareItem::Integer(3),
                params: vec![]
            })
        );
    }
}
