//! Dates and times for `dt-*` properties: the value-class-pattern's date,
//! time and timezone parts, and how they combine.
//!
//! Recognised: dates `YYYY-MM-DD` and `YYYY-DDD`; times `H[:MM[:SS[.f]]]`
//! with an optional `am`/`pm` (`a.m.`, `p.m.`), which is turned into a 24-hour
//! time; timezones `Z`, `±HH`, `±HHMM`, `±HH:MM`, alone or after a time; and a
//! full date-time, with `T` or a space between date and time.

/// One value-class part of a `dt-*` property.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Date(String),
    Time {
        time: String,
        tz: Option<String>,
    },
    Zone(String),
    DateTime {
        date: String,
        time: String,
        tz: Option<String>,
    },
}

/// Combines the value-class values of a `dt-*` property: the first date, the
/// first time and the first timezone win; a full date-time counts only when
/// it comes before any date or time. `None` when no date or time is found.
pub(super) fn combine<I: IntoIterator<Item = String>>(values: I) -> Option<String> {
    let (mut date, mut time, mut zone) = (None, None, None);
    for value in values {
        match classify(value.trim_matches(super::parser::is_html_space)) {
            Some(Part::DateTime {
                date: d,
                time: t,
                tz,
            }) if date.is_none() && time.is_none() => {
                date = Some(d);
                time = Some(t);
                zone = zone.or(tz);
            }
            Some(Part::Date(d)) if date.is_none() => date = Some(d),
            Some(Part::Time { time: t, tz }) if time.is_none() => {
                time = Some(t);
                zone = zone.or(tz);
            }
            Some(Part::Zone(z)) if zone.is_none() => zone = Some(z),
            _ => {}
        }
    }
    let zone = zone.unwrap_or_default();
    match (date, time) {
        (Some(d), Some(t)) => Some(format!("{d} {t}{zone}")),
        (Some(d), None) => Some(d),
        (None, Some(t)) => Some(format!("{t}{zone}")),
        (None, None) => None,
    }
}

/// The date at the start of a `dt-*` value, if it starts with one.
pub(super) fn date_prefix(value: &str) -> Option<&str> {
    [10, 8]
        .into_iter()
        .filter_map(|n| value.get(..n))
        .find(|d| {
            is_date(d)
                && value[d.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| matches!(c, 'T' | 't' | ' '))
        })
}

/// Whether a `dt-*` value is a time with no date (so that a date from an
/// earlier `dt-*` property of the same item applies to it).
pub(super) fn is_time_only(value: &str) -> bool {
    matches!(classify(value), Some(Part::Time { .. }))
}

/// A time with no date, normalised (`5pm` → `17:00`), or the value itself.
pub(super) fn normalise_time(value: &str) -> String {
    match classify(value) {
        Some(Part::Time { time, tz }) => format!("{time}{}", tz.unwrap_or_default()),
        _ => value.to_owned(),
    }
}

fn classify(s: &str) -> Option<Part> {
    if is_date(s) {
        return Some(Part::Date(s.to_owned()));
    }
    if is_zone(s) {
        return Some(Part::Zone(s.to_owned()));
    }
    if let Some((time, tz)) = parse_time(s) {
        return Some(Part::Time { time, tz });
    }
    let date = date_prefix(s)?;
    let rest = &s[date.len()..];
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, tz) = parse_time(rest)?;
    Some(Part::DateTime {
        date: date.to_owned(),
        time,
        tz,
    })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => {
            y.len() == 4 && m.len() == 2 && d.len() == 2 && [y, m, d].iter().all(|p| all_digits(p))
        }
        [y, ordinal] => y.len() == 4 && ordinal.len() == 3 && all_digits(y) && all_digits(ordinal),
        _ => false,
    }
}

fn is_zone(s: &str) -> bool {
    if s == "Z" || s == "z" {
        return true;
    }
    let Some(rest) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    // Byte lengths and slices: only for ASCII (a multi-byte character at
    // byte 2 made the slice panic; found by the mf2 fuzz target).
    if !rest.is_ascii() {
        return false;
    }
    match rest.len() {
        2 | 4 => all_digits(rest),
        5 => all_digits(&rest[..2]) && rest.as_bytes()[2] == b':' && all_digits(&rest[3..]),
        _ => false,
    }
}

/// A time, with any timezone split off: `(normalised time, timezone)`.
fn parse_time(s: &str) -> Option<(String, Option<String>)> {
    let (body, tz) = split_zone(s);
    // The clock part: digits and colons, then an optional fraction.
    let clock_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(body.len());
    let (clock, suffix) = body.split_at(clock_end);
    let suffix = suffix.trim_start_matches(' ').to_ascii_lowercase();
    let meridiem = match suffix.as_str() {
        "" => None,
        "am" | "a.m." => Some(false),
        "pm" | "p.m." => Some(true),
        _ => return None,
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) if all_digits(f) => (hms, Some(f)),
        Some(_) => return None,
        None => (clock, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    if fields.is_empty() || fields.len() > 3 || !fields.iter().all(|f| all_digits(f)) {
        return None;
    }
    if fields[0].len() > 2 || fields[1..].iter().any(|f| f.len() != 2) {
        return None;
    }
    // A bare number is not a time unless it says am or pm.
    if fields.len() == 1 && meridiem.is_none() {
        return None;
    }
    if fraction.is_some() && fields.len() != 3 {
        return None;
    }
    let time = match meridiem {
        None => clock.to_owned(),
        Some(pm) => {
            let hour: u32 = fields[0].parse().ok()?;
            if !(1..=12).contains(&hour) {
                return None;
            }
            let hour = match (hour, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, false) => h,
                (h, true) => h + 12,
            };
            let mut t = format!("{hour:02}:{}", fields.get(1).copied().unwrap_or("00"));
            if let Some(sec) = fields.get(2) {
                t.push(':');
                t.push_str(sec);
            }
            if let Some(f) = fraction {
                t.push('.');
                t.push_str(f);
            }
            t
        }
    };
    Some((time, tz.map(str::to_owned)))
}

/// Splits a trailing timezone off a time.
fn split_zone(s: &str) -> (&str, Option<&str>) {
    if let Some(body) = s.strip_suffix(['Z', 'z'])
        && body.ends_with(|c: char| c.is_ascii_digit())
    {
        return (body, Some(&s[body.len()..]));
    }
    if let Some(at) = s.rfind(['+', '-'])
        && at > 0
        && is_zone(&s[at..])
    {
        return (&s[..at], Some(&s[at..]));
    }
    (s, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_with_a_multibyte_character_is_not_a_zone() {
        assert!(!is_zone("-\u{fffd}1>"));
        assert!(!is_zone("+0\u{e9}:0"));
        assert_eq!(normalise_time("2026-\u{fffd}1>"), "2026-\u{fffd}1>");
        assert!(is_zone("+01:00"));
    }

    fn c(values: &[&str]) -> Option<String> {
        combine(values.iter().map(|v| v.to_string()))
    }

    #[test]
    fn first_of_each_part_wins() {
        assert_eq!(c(&["2000-01-01"]).as_deref(), Some("2000-01-01"));
        assert_eq!(
            c(&["2000-01-01", "00:00:00"]).as_deref(),
            Some("2000-01-01 00:00:00")
        );
        assert_eq!(
            c(&["2000-01-01", "1999-12-31"]).as_deref(),
            Some("2000-01-01")
        );
        assert_eq!(
            c(&["00:00:00", "2099-12-31 23:59:59", "2000-01-01"]).as_deref(),
            Some("2000-01-01 00:00:00")
        );
        assert_eq!(
            c(&["2000-01-01", "00:00:00", "00:00:00+00:00"]).as_deref(),
            Some("2000-01-01 00:00:00")
        );
        assert_eq!(
            c(&["2000-01-01", "00:00:00+00:00"]).as_deref(),
            Some("2000-01-01 00:00:00+00:00")
        );
        assert_eq!(
            c(&["2000-01-01 00:00:00+00:00"]).as_deref(),
            Some("2000-01-01 00:00:00+00:00")
        );
        assert_eq!(
            c(&["2009-06-26", "19:00", "-08:00"]).as_deref(),
            Some("2009-06-26 19:00-08:00")
        );
    }

    #[test]
    fn non_dates_are_ignored() {
        assert_eq!(c(&["NotADate"]), None);
        assert_eq!(c(&["", "l"]), None);
        assert_eq!(c(&["12"]), None);
        assert_eq!(c(&["+01:00"]), None);
    }

    #[test]
    fn meridiem_becomes_24_hour() {
        assert_eq!(normalise_time("5pm"), "17:00");
        assert_eq!(normalise_time("5:30 p.m."), "17:30");
        assert_eq!(normalise_time("12am"), "00:00");
        assert_eq!(normalise_time("12:15:01PM"), "12:15:01");
        assert_eq!(normalise_time("13pm"), "13pm");
    }

    #[test]
    fn date_prefixes() {
        assert_eq!(date_prefix("2012-06-25T17:08:26"), Some("2012-06-25"));
        assert_eq!(date_prefix("2012-177 10:00"), Some("2012-177"));
        assert_eq!(date_prefix("2012-06-25x"), None);
        assert!(is_time_only("10:00Z"));
        assert!(!is_time_only("2012-06-25 10:00"));
    }
}
