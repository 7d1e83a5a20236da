//! Addressing and visibility: who an object is for, and who may see it.

/// The public collection, in the spellings peers use.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

pub fn is_public_address(address: &str) -> bool {
    matches!(address, PUBLIC | "as:Public" | "Public")
}

/// Who may see an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Addressed to the public collection (in `to` or `cc`).
    Public,
    /// Addressed to the author's followers collection, not to the public.
    Followers,
    /// Addressed to actors only.
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Followers => "followers",
            Visibility::Direct => "direct",
        }
    }

    pub fn from_stored(text: &str) -> Self {
        match text {
            "public" => Visibility::Public,
            "followers" => Visibility::Followers,
            _ => Visibility::Direct,
        }
    }
}

/// Classifies an object by its addressees (`to`, `cc`, `bto`, `bcc`, and
/// `audience` together).
pub fn classify(addressees: &[String], author_followers: Option<&str>) -> Visibility {
    if addressees.iter().any(|a| is_public_address(a)) {
        Visibility::Public
    } else if author_followers.is_some_and(|f| addressees.iter().any(|a| a == f)) {
        Visibility::Followers
    } else {
        Visibility::Direct
    }
}

/// What is known about the one asking to see an object.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// The viewer's actor id.
    pub actor_url: &'a str,
    /// Whether the viewer follows the object's author (accepted).
    pub follows_author: bool,
}

/// Whether `viewer` may see an object with this visibility and these
/// addressees, written by `author_url`.
pub fn may_see(
    visibility: Visibility,
    addressees: &[String],
    author_url: &str,
    viewer: Option<Viewer<'_>>,
) -> bool {
    match (visibility, viewer) {
        (Visibility::Public, _) => true,
        (_, None) => false,
        (_, Some(viewer)) if viewer.actor_url == author_url => true,
        (_, Some(viewer)) if addressees.iter().any(|a| a == viewer.actor_url) => true,
        (Visibility::Followers, Some(viewer)) => viewer.follows_author,
        (Visibility::Direct, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classification_follows_the_addressing() {
        let followers = Some("https://a.example/users/alice/followers");
        assert_eq!(classify(&v(&[PUBLIC]), followers), Visibility::Public);
        assert_eq!(classify(&v(&["as:Public"]), followers), Visibility::Public);
        assert_eq!(
            classify(&v(&["https://a.example/users/alice/followers"]), followers),
            Visibility::Followers
        );
        assert_eq!(
            classify(&v(&["https://b.example/users/bob"]), followers),
            Visibility::Direct
        );
        assert_eq!(classify(&[], followers), Visibility::Direct);
    }

    #[test]
    fn only_addressees_and_followers_see_private_objects() {
        let author = "https://a.example/users/alice";
        let to = v(&["https://b.example/users/bob"]);
        let bob = Viewer {
            actor_url: "https://b.example/users/bob",
            follows_author: false,
        };
        let carol = Viewer {
            actor_url: "https://b.example/users/carol",
            follows_author: true,
        };
        let alice = Viewer {
            actor_url: author,
            follows_author: false,
        };
        assert!(may_see(Visibility::Direct, &to, author, Some(bob)));
        assert!(may_see(Visibility::Direct, &to, author, Some(alice)));
        assert!(!may_see(Visibility::Direct, &to, author, Some(carol)));
        assert!(!may_see(Visibility::Direct, &to, author, None));
        assert!(may_see(Visibility::Followers, &[], author, Some(carol)));
        assert!(!may_see(Visibility::Followers, &[], author, Some(bob)));
        assert!(!may_see(Visibility::Followers, &[], author, None));
        assert!(may_see(Visibility::Public, &[], author, None));
    }
}
