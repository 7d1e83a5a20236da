//! The operator's say over outbound requests: a host that a domain block
//! covers gets no request at all, whatever asked for it (a fetch, a
//! delivery, a Webmention, a WebSub push), checked on every redirect hop
//! too.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use url::Url;

use super::{FetchError, Fetcher, check_url};
use crate::domain::moderation::DomainPolicy;

/// Decides whether a host may be contacted.
pub trait HostPolicy: Send + Sync + fmt::Debug {
    /// True when nothing may be sent to `host` (`host[:port]`).
    fn refuses<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>>;
}

impl HostPolicy for DomainPolicy {
    fn refuses<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(self.blocks(host))
    }
}

impl Fetcher {
    /// The guard every request passes before it is sent: the SSRF check of
    /// the URL, then the operator's domain blocks.
    pub(super) async fn admit(&self, url: &Url) -> Result<(), FetchError> {
        check_url(url, self.inner.allow_private)?;
        if let Some(policy) = &self.inner.policy {
            let host = crate::config::host_of(url).to_ascii_lowercase();
            if policy.refuses(&host).await {
                tracing::info!(%url, "not contacting a blocked domain");
                return Err(FetchError::Blocked(host));
            }
        }
        Ok(())
    }
}
