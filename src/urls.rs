//! The URL layout of an instance: every local id derives from the base URL
//! through these functions, and the web routes match them.

use url::Url;

use crate::config::host_of;

/// Whether a URL from foreign input may be stored and linked to: absolute
/// http(s) with a host. Anything else (`javascript:`, `data:`, relative
/// paths) is dropped where foreign documents are read, and again when pages
/// are rendered.
pub fn is_http_url(raw: &str) -> bool {
    Url::parse(raw.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// `raw` if it [`is_http_url`].
pub fn http_url(raw: Option<&str>) -> Option<String> {
    raw.filter(|u| is_http_url(u)).map(str::to_owned)
}

/// Path prefix of Person actors.
pub const USERS: &str = "users";
/// Path prefix of Group actors (rooms).
pub const ROOMS: &str = "rooms";
/// Path prefix of proxy actors standing for IndieWeb sites.
pub const SITES: &str = "sites";

/// Builds the URLs of local things from the instance's base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    base: Url,
}

/// The URLs a local actor is published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorUrls {
    pub actor: String,
    pub inbox: String,
    pub outbox: String,
    pub followers: String,
    pub following: String,
    pub profile: String,
}

impl Urls {
    pub fn new(base: Url) -> Self {
        Urls { base }
    }

    /// `host[:port]`, the domain part of local handles.
    pub fn host(&self) -> String {
        host_of(&self.base)
    }

    /// `http` or `https`, as clients reach us.
    pub fn scheme(&self) -> String {
        self.base.scheme().to_owned()
    }

    /// The origin without a trailing slash.
    pub fn origin(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The shared inbox every local actor advertises.
    pub fn shared_inbox(&self) -> String {
        self.path("/inbox")
    }

    /// `prefix` is [`USERS`] for people and [`ROOMS`] for rooms.
    pub fn actor(&self, prefix: &str, name: &str) -> ActorUrls {
        let actor = self.path(&format!("/{prefix}/{name}"));
        ActorUrls {
            inbox: format!("{actor}/inbox"),
            outbox: format!("{actor}/outbox"),
            followers: format!("{actor}/followers"),
            following: format!("{actor}/following"),
            profile: self.path(&format!("/@{name}")),
            actor,
        }
    }

    /// `acct:name@host` of a local account.
    pub fn acct(&self, name: &str) -> String {
        format!("acct:{name}@{}", self.host())
    }

    /// The local name an actor or profile URL of this instance points at,
    /// with the path prefix it was found under (`None` for a profile URL).
    pub fn local_name_of<'a>(&self, url: &'a str) -> Option<(Option<&'static str>, &'a str)> {
        let path = url.strip_prefix(&self.origin())?;
        if let Some(name) = path.strip_prefix("/@") {
            return Some((None, name));
        }
        [USERS, ROOMS, SITES].into_iter().find_map(|prefix| {
            let name = path
                .strip_prefix('/')?
                .strip_prefix(prefix)?
                .strip_prefix('/')?;
            Some((Some(prefix), name))
        })
    }

    /// The instance actor (an Application that signs fetches).
    pub fn instance_actor(&self) -> String {
        self.path("/actor")
    }

    /// A new id for an object or activity minted here: `kind` is
    /// `objects` or `activities`.
    pub fn mint(&self, kind: &str) -> String {
        let mut bytes = [0u8; 12];
        openssl::rand::rand_bytes(&mut bytes).expect("random bytes");
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.path(&format!("/{kind}/{token}"))
    }

    /// The private page of a note handed to a site (Private Webmention).
    pub fn private_page(&self, page_key: &str) -> String {
        self.path(&format!("/private/{page_key}"))
    }

    /// The page key of a URL of [`Urls::private_page`].
    pub fn private_page_key<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(&self.path("/private/"))
            .filter(|key| !key.is_empty() && !key.contains(['/', '?', '#']))
    }

    /// The token endpoint: codes (Private Webmention) become bearer tokens.
    pub fn token_endpoint(&self) -> String {
        self.path("/token")
    }

    /// The Webmention endpoint.
    pub fn webmention(&self) -> String {
        self.path("/webmention")
    }

    /// Our h-entry page mirroring a post from elsewhere (the source of
    /// the Webmentions we send for it).
    pub fn mirror(&self, ap_id: &str) -> String {
        let mut url = url::Url::parse(&self.path("/mirror")).expect("the base URL is valid");
        url.query_pairs_mut().append_pair("id", ap_id);
        url.to_string()
    }

    /// The page a Webmention about a post points at: the post's own page
    /// when it was minted here, else its mirror.
    pub fn page_of(&self, ap_id: &str) -> String {
        if ap_id.starts_with(&format!("{}/objects/", self.origin())) {
            ap_id.to_owned()
        } else {
            self.mirror(ap_id)
        }
    }

    /// The Atom feed of an actor's public posts.
    pub fn atom_feed(&self, actor_url: &str) -> String {
        format!("{actor_url}/feed.atom")
    }

    /// An uploaded image (`/media/TOKEN`).
    pub fn media(&self, token: &str) -> String {
        self.path(&format!("/media/{token}"))
    }

    /// The image shown for accounts that have none.
    pub fn default_avatar(&self) -> String {
        self.path("/static/avatar.svg")
    }

    pub fn nodeinfo(&self) -> String {
        self.path("/nodeinfo/2.1")
    }

    pub fn webfinger_template(&self) -> String {
        self.path("/.well-known/webfinger?resource={uri}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_pass() {
        for ok in [
            "https://a.example/x",
            "http://a.example",
            " https://a.example/ ",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://",
            "vbscript:x",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn actor_urls_derive_from_the_base() {
        let urls = Urls::new(Url::parse("https://social.example:8443").unwrap());
        let alice = urls.actor(USERS, "alice");
        assert_eq!(alice.actor, "https://social.example:8443/users/alice");
        assert_eq!(alice.inbox, "https://social.example:8443/users/alice/inbox");
        assert_eq!(alice.profile, "https://social.example:8443/@alice");
        assert_eq!(urls.acct("alice"), "acct:alice@social.example:8443");
        assert_eq!(urls.shared_inbox(), "https://social.example:8443/inbox");
        assert_eq!(
            urls.local_name_of(&alice.actor),
            Some((Some(USERS), "alice"))
        );
        assert_eq!(urls.local_name_of(&alice.profile), Some((None, "alice")));
        assert_eq!(
            urls.local_name_of("https://social.example:8443/rooms/r"),
            Some((Some(ROOMS), "r"))
        );
        assert_eq!(
            urls.local_name_of("https://other.example/users/alice"),
            None
        );
        assert_eq!(
            urls.local_name_of("https://social.example:8443/tags/x"),
            None
        );
    }
}
