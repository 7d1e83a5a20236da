//! Local names: case-folded, `[a-z0-9_]{1,30}`, shared by users and rooms.

/// Longest local name.
pub const MAX_NAME_LEN: usize = 30;

/// Case-folds `raw` and checks it is a valid local name.
pub fn normalize_name(raw: &str) -> Option<String> {
    let name = raw.to_lowercase();
    let valid = (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_folded_and_checked() {
        assert_eq!(normalize_name("Alice_2").as_deref(), Some("alice_2"));
        assert_eq!(
            normalize_name(&"a".repeat(30)).as_deref(),
            Some(&*"a".repeat(30))
        );
        for bad in ["", "a-b", "a.b", "ümlaut", "with space", &"a".repeat(31)] {
            assert_eq!(normalize_name(bad), None, "{bad:?}");
        }
    }
}
