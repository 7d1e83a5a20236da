//! Outbound HTTP: signed fetches and POSTs with the SSRF guard, timeouts and size limits.
//!
//! One [`Fetcher`] holds the process's one HTTP client. Every request, and
//! every redirect hop of a GET, first passes [`check_url`] (http/https only, a
//! literal IP host must be allowed); host names resolve through a resolver
//! that drops forbidden addresses ([`is_forbidden_address`]), so the check
//! holds for the address actually connected to. Both are lifted when private
//! addresses are allowed. Proxies named in the environment are ignored: a
//! proxy would resolve names where the guard cannot see them.

mod body;
mod error;
mod guard;
mod page;
mod policy;
mod retry_after;
#[cfg(test)]
mod tests;

pub use error::FetchError;
pub use guard::{check_url, is_forbidden_address};
pub use page::{ACCEPT_HTML, FormOutcome, Page};
pub use policy::HostPolicy;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::{ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use openssl::pkey::{PKey, Private};
use serde_json::Value;
use url::Url;

use super::ACTIVITY_JSON;
use super::signatures::sign_cavage;
use body::{discard_body, json_object, read_capped};
use error::{error_chain, request_error};
use guard::GuardedResolver;
use retry_after::parse_retry_after;

/// `Accept` of every ActivityStreams GET.
pub const ACCEPT_ACTIVITY: &str = "application/activity+json, \
     application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// How much of a delivery's response body is read before it is dropped.
const POST_RESPONSE_LIMIT: usize = 64 * 1024;

/// Limits of outbound requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for a whole request, response body included. A GET's redirect
    /// chain as a whole also has to finish within it.
    pub total_timeout: Duration,
    /// Largest JSON body a GET accepts.
    pub max_json_bytes: usize,
    /// Redirects a GET follows before giving up.
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_json_bytes: 1024 * 1024,
            max_redirects: 5,
        }
    }
}

/// Who signs a request: keyId + parsed private key (parsed once by the
/// caller, shared).
#[derive(Clone)]
pub struct Signer {
    pub key_id: String,
    pub key: Arc<PKey<Private>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// What a delivery POST got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostOutcome {
    pub status: StatusCode,
    /// From `Retry-After`, as seconds or an HTTP-date (a past date is zero).
    pub retry_after: Option<Duration>,
}

/// Outbound HTTP for federation. Cheap to clone; all clones share one client
/// (and its connection pool).
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    limits: FetchLimits,
    allow_private: bool,
    /// Hosts the operator blocked get no request.
    policy: Option<Arc<dyn HostPolicy>>,
    /// Delivery signatures running at once: one per core (see `sign_post`).
    signing: Arc<tokio::sync::Semaphore>,
}

impl Fetcher {
    /// Builds the client. `allow_private_addresses` lifts the address policy
    /// (tests, LAN deployments).
    pub fn new(
        allow_private_addresses: bool,
        limits: FetchLimits,
        user_agent: &str,
    ) -> Result<Self, FetchError> {
        let user_agent = HeaderValue::from_str(user_agent)
            .map_err(|_| FetchError::Setup(format!("invalid User-Agent {user_agent:?}")))?;
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.total_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver {
                allow_private: allow_private_addresses,
            })
            .build()
            .map_err(|err| FetchError::Setup(error_chain(&err)))?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                limits,
                allow_private: allow_private_addresses,
                policy: None,
                signing: Arc::new(tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(1, |n| n.get()),
                )),
            }),
        })
    }

    /// The same client (sharing its connection pool), refusing the hosts
    /// `policy` refuses.
    pub fn with_host_policy(&self, policy: Arc<dyn HostPolicy>) -> Self {
        Fetcher {
            inner: Arc::new(Inner {
                client: self.inner.client.clone(),
                limits: self.inner.limits,
                allow_private: self.inner.allow_private,
                policy: Some(policy),
                signing: self.inner.signing.clone(),
            }),
        }
    }

    /// Whether loopback and private addresses may be reached.
    pub fn allows_private_addresses(&self) -> bool {
        self.inner.allow_private
    }

    /// Signed GET of an ActivityStreams document (unsigned without a
    /// signer). Follows at most `max_redirects` redirects, each hop checked
    /// and signed for its own URL; the whole chain shares `total_timeout`.
    /// The body must be a JSON object of at most `max_json_bytes`.
    pub async fn get_json(&self, url: &Url, signer: Option<&Signer>) -> Result<Value, FetchError> {
        let deadline = self.inner.limits.total_timeout;
        tokio::time::timeout(deadline, self.follow_get(url, signer))
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    async fn follow_get(&self, url: &Url, signer: Option<&Signer>) -> Result<Value, FetchError> {
        let limits = &self.inner.limits;
        let mut current = without_fragment(url);
        let mut redirects = 0;
        loop {
            self.admit(&current).await?;
            let mut response = self.send_get(&current, signer).await?;
            let status = response.status();
            if let Some(next) = redirect_target(&current, &response)? {
                if redirects == limits.max_redirects {
                    return Err(FetchError::TooManyRedirects);
                }
                redirects += 1;
                tracing::debug!(from = %current, to = %next, %status, "following redirect");
                current = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status { status });
            }
            let body = read_capped(&mut response, limits.max_json_bytes).await?;
            return json_object(&body);
        }
    }

    async fn send_get(
        &self,
        url: &Url,
        signer: Option<&Signer>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_ACTIVITY));
        if let Some(signer) = signer {
            sign(&Method::GET, url, &mut headers, None, signer)?;
        }
        tracing::debug!(%url, signed = signer.is_some(), "GET");
        self.inner
            .client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(request_error)
    }

    /// Signed POST of an activity (delivery) with `Content-Type:
    /// application/activity+json`. Does not follow redirects: a 3xx comes
    /// back as the outcome's status. Reads at most 64 KiB of the response
    /// body and drops it.
    pub async fn post_activity(
        &self,
        url: &Url,
        body: Vec<u8>,
        signer: &Signer,
    ) -> Result<PostOutcome, FetchError> {
        let url = without_fragment(url);
        self.admit(&url).await?;
        let (url, headers, body) = sign_post(&self.inner.signing, url, body, signer).await?;
        tracing::debug!(%url, bytes = body.len(), "POST");
        let mut response = self
            .inner
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        discard_body(&mut response, POST_RESPONSE_LIMIT).await;
        Ok(PostOutcome {
            status,
            retry_after,
        })
    }
}

/// Signs a delivery POST off the async workers, at most one signature per
/// slot of `slots` (one per core) at a time and first come first served: a
/// fan-out's hundreds of RSA signatures then neither hold up the
/// connections' I/O (nor anything else this process serves) nor each
/// other's first POSTs.
async fn sign_post(
    slots: &Arc<tokio::sync::Semaphore>,
    url: Url,
    body: Vec<u8>,
    signer: &Signer,
) -> Result<(Url, HeaderMap, Vec<u8>), FetchError> {
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| FetchError::Sign("signing has stopped".into()))?;
    let signer = signer.clone();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let mut headers = HeaderMap::new();
        // Before signing: content-type is one of the signed headers.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
        sign(&Method::POST, &url, &mut headers, Some(&body), &signer)?;
        Ok((url, headers, body))
    })
    .await
    .map_err(|_| FetchError::Sign("the signing task stopped".into()))?
}

fn sign(
    method: &Method,
    url: &Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    signer: &Signer,
) -> Result<(), FetchError> {
    sign_cavage(
        method,
        url,
        headers,
        body,
        &signer.key_id,
        &signer.key,
        chrono::Utc::now(),
    )
    .map_err(|err| FetchError::Sign(err.to_string()))
}

/// The URL as requested: fragments (`…/actor#main-key`) never go on the wire.
fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// Where a redirect response points, resolved against the current URL; `None`
/// when the response is not a redirect to follow.
fn redirect_target(current: &Url, response: &reqwest::Response) -> Result<Option<Url>, FetchError> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = response.headers().get(LOCATION) else {
        return Ok(None);
    };
    let location = std::str::from_utf8(location.as_bytes()).map_err(|_| {
        FetchError::InvalidUrl(format!("redirect from {current}: Location is not UTF-8"))
    })?;
    let mut next = current.join(location).map_err(|err| {
        FetchError::InvalidUrl(format!("redirect from {current} to {location:?}: {err}"))
    })?;
    next.set_fragment(None);
    Ok(Some(next))
}
