//! WebFinger (RFC 7033): parsing the `resource` of a query and building the
//! JRD of a local account.

use webfinger_rs::{Link, WebFingerResponse};

use super::ACTIVITY_JSON;
use crate::domain::accounts::Account;

pub const JRD_JSON: &str = "application/jrd+json";
pub const PROFILE_PAGE_REL: &str = "http://webfinger.net/rel/profile-page";

/// What a `resource` parameter asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceQuery {
    /// `acct:name@host` (or `name@host`): a handle.
    Handle { name: String, host: String },
    /// An http(s) URL, to be matched against actor and profile URLs.
    Url(String),
}

/// Why a `resource` cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("the resource parameter is missing")]
    Missing,
    #[error("the resource is not an acct: URI or an http(s) URL")]
    Malformed,
}

/// Parses the `resource` parameter of a WebFinger query.
pub fn parse_resource(resource: Option<&str>) -> Result<ResourceQuery, ResourceError> {
    let resource = resource
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or(ResourceError::Missing)?;
    if resource.starts_with("http://") || resource.starts_with("https://") {
        let url = url::Url::parse(resource).map_err(|_| ResourceError::Malformed)?;
        return Ok(ResourceQuery::Url(url.to_string()));
    }
    let handle = resource.strip_prefix("acct:").unwrap_or(resource);
    let handle = handle.strip_prefix('@').unwrap_or(handle);
    let (name, host) = handle.rsplit_once('@').ok_or(ResourceError::Malformed)?;
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if name.is_empty() || name.contains(['@', '/', '?', '#']) || !valid_host {
        return Err(ResourceError::Malformed);
    }
    Ok(ResourceQuery::Handle {
        name: name.to_owned(),
        host: host.to_ascii_lowercase(),
    })
}

/// The JRD describing a local account. `subject` is its `acct:` URI.
pub fn account_to_jrd(account: &Account, subject: &str) -> WebFingerResponse {
    let mut response = WebFingerResponse::builder(subject).alias(&account.actor_url);
    if let Some(profile) = &account.profile_url {
        response = response.alias(profile);
    }
    response = response.link(
        Link::builder("self")
            .r#type(ACTIVITY_JSON)
            .href(&account.actor_url)
            .build(),
    );
    if let Some(profile) = &account.profile_url {
        response = response.link(
            Link::builder(PROFILE_PAGE_REL)
                .r#type("text/html")
                .href(profile)
                .build(),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse() {
        assert_eq!(
            parse_resource(Some("acct:Alice@Social.Example:8080")),
            Ok(ResourceQuery::Handle {
                name: "Alice".into(),
                host: "social.example:8080".into()
            })
        );
        assert_eq!(
            parse_resource(Some("@bob@e.example")),
            Ok(ResourceQuery::Handle {
                name: "bob".into(),
                host: "e.example".into()
            })
        );
        assert_eq!(
            parse_resource(Some("https://e.example/users/bob")),
            Ok(ResourceQuery::Url("https://e.example/users/bob".into()))
        );
        assert_eq!(parse_resource(None), Err(ResourceError::Missing));
        assert_eq!(parse_resource(Some("  ")), Err(ResourceError::Missing));
        for bad in [
            "acct:bob",
            "acct:@e.example",
            "acct:bob@",
            "mailto:x",
            "acct:a@b/c",
            "https://",
        ] {
            assert_eq!(
                parse_resource(Some(bad)),
                Err(ResourceError::Malformed),
                "{bad}"
            );
        }
    }
}
