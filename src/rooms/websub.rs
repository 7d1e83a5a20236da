//! The WebSub hub built into Estuary, for rooms' feeds and people's feeds:
//! subscriptions are checked (topic, lease, membership of the subscriber's
//! site for a members-only room), their intent verified with a challenge,
//! and every relay (or a person's post) pushes the Atom feed to each
//! subscriber, signed with `X-Hub-Signature: sha256=…` when it gave a
//! secret. A person's followers-only posts are pushed only to the sites
//! that follow them and hold a token from their ticket (Ticket Auth).

use chrono::{Duration, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use url::Url;

use super::relay::room_posts;
use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account, AccountKind};
use crate::domain::actions::{self, Action};
use crate::federation::builders::timestamp;
use crate::federation::ctx::Federation;
use crate::indieweb::atom::{AtomEntry, AtomFeed, build_atom};
use crate::store::{StoreError, websub as rows};

/// Lease when the subscriber asks for none: ten days.
pub const DEFAULT_LEASE_SECS: i64 = 10 * 24 * 3600;
/// Shortest lease granted.
pub const MIN_LEASE_SECS: i64 = 60;
/// Longest lease granted: thirty days.
pub const MAX_LEASE_SECS: i64 = 30 * 24 * 3600;
/// Longest secret accepted (the spec's limit).
pub const MAX_SECRET_BYTES: usize = 200;

/// Why a subscription request is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HubError {
    #[error("{0}")]
    Invalid(String),
    #[error("the topic is not a feed of this hub")]
    UnknownTopic,
    #[error("only member sites may subscribe to this room")]
    NotAMemberSite,
}

/// A subscription request, as sent to the hub.
#[derive(Debug, Clone, Default)]
pub struct HubRequest {
    pub mode: Option<String>,
    pub topic: Option<String>,
    pub callback: Option<String>,
    pub lease_seconds: Option<String>,
    pub secret: Option<String>,
}

/// The feed URLs of a room: its Atom feed and its h-feed page.
pub fn topics_of(room: &Account) -> [String; 2] {
    [
        format!("{}/feed.atom", room.actor_url),
        room.outbox_url.clone().unwrap_or_default(),
    ]
}

/// Checks a request and queues the verification of intent.
pub async fn request(
    fed: &Federation,
    request: HubRequest,
) -> Result<Result<(), HubError>, DomainError> {
    let invalid = |m: &str| Ok(Err(HubError::Invalid(m.to_owned())));
    let mode = request.mode.unwrap_or_default();
    if mode != "subscribe" && mode != "unsubscribe" {
        return invalid("hub.mode must be subscribe or unsubscribe");
    }
    let Some(topic) = request.topic else {
        return invalid("hub.topic is required");
    };
    let Some(callback) = request
        .callback
        .filter(|c| Url::parse(c).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    else {
        return invalid("hub.callback must be an http(s) URL");
    };
    let lease = match request.lease_seconds.as_deref() {
        None | Some("") => DEFAULT_LEASE_SECS,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if (MIN_LEASE_SECS..=MAX_LEASE_SECS).contains(&n) => n,
            _ => {
                return invalid(&format!(
                    "hub.lease_seconds must be from {MIN_LEASE_SECS} to {MAX_LEASE_SECS}"
                ));
            }
        },
    };
    if request
        .secret
        .as_ref()
        .is_some_and(|s| s.len() > MAX_SECRET_BYTES)
    {
        return invalid("hub.secret is longer than 200 bytes");
    }
    let Some(room) = feed_of_topic(fed, &topic).await? else {
        return Ok(Err(HubError::UnknownTopic));
    };
    if room.kind == AccountKind::Group
        && room.manually_approves_followers
        && mode == "subscribe"
        && !is_member_site(fed, &room, &callback).await?
    {
        return Ok(Err(HubError::NotAMemberSite));
    }
    let action = Action::WebSubVerify {
        room_id: room.id,
        mode,
        topic,
        callback,
        lease_seconds: lease,
        secret: request.secret.filter(|s| !s.is_empty()),
        requested_at: Utc::now().timestamp_micros().to_string(),
    };
    fed.store
        .run(move |conn| Ok::<_, StoreError>(actions::enqueue(conn, &[action])?))
        .await?;
    fed.wake.notify_one();
    Ok(Ok(()))
}

/// Whether the hub serves this account's feed: a room, or a local person
/// (not a site's proxy, not suspended or deleted).
fn has_feed(account: &Account) -> bool {
    account.is_local()
        && !account.is_hidden()
        && (account.kind == AccountKind::Group
            || account.kind == AccountKind::Person && account.site_url.is_none())
}

/// The room or person whose feed `topic` is: its Atom feed, its outbox, or
/// its page (`/@NAME`, the account's `url`).
pub async fn feed_of_topic(fed: &Federation, topic: &str) -> Result<Option<Account>, DomainError> {
    if let Some(name) = topic.strip_prefix(&fed.urls.path("/@")) {
        return Ok(accounts::find_local(&fed.store, name)
            .await?
            .filter(|a| has_feed(a) && a.profile_url.as_deref() == Some(topic)));
    }
    let actor_url = topic
        .strip_suffix("/feed.atom")
        .or_else(|| topic.strip_suffix("/outbox"))
        .unwrap_or_default();
    Ok(accounts::find_by_actor_url(&fed.store, actor_url)
        .await?
        .filter(has_feed))
}

/// Whether the callback belongs to a site that is a member of the room.
async fn is_member_site(
    fed: &Federation,
    room: &Account,
    callback: &str,
) -> Result<bool, DomainError> {
    let Ok(callback) = Url::parse(callback) else {
        return Ok(false);
    };
    for member in crate::domain::follows::followers(&fed.store, room.id).await? {
        let same_site = member
            .site_url
            .as_deref()
            .and_then(|s| Url::parse(s).ok())
            .is_some_and(|site| site.origin() == callback.origin());
        if same_site && super::membership::is_member(&fed.store, room.id, member.id).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The Atom feed of a room's conversation.
pub async fn room_atom(fed: &Federation, room: &Account) -> Result<String, DomainError> {
    let posts = room_posts(fed, room).await?;
    let entries: Vec<AtomEntry> = posts
        .iter()
        .rev()
        .take(50)
        .map(|(post, author)| AtomEntry {
            id: post.ap_id.clone(),
            url: post.url.clone().unwrap_or_else(|| post.ap_id.clone()),
            title: format!("{} in {}", author.shown_name(), room.shown_name()),
            content_html: post.content.clone().unwrap_or_default(),
            published: timestamp(post.published),
            updated: timestamp(post.updated.unwrap_or(post.published)),
            author_name: author.shown_name().to_owned(),
            author_url: author
                .profile_url
                .clone()
                .unwrap_or_else(|| author.actor_url.clone()),
        })
        .collect();
    let self_url = topics_of(room)[0].clone();
    Ok(build_atom(&AtomFeed {
        id: self_url.clone(),
        title: room.shown_name().to_owned(),
        self_url,
        alternate_url: room.outbox_url.clone().unwrap_or_default(),
        hub_url: Some(fed.urls.path("/websub")),
        updated: entries
            .first()
            .map(|e| e.updated.clone())
            .unwrap_or_else(|| timestamp(room.created_at)),
        entries,
    }))
}

/// `X-Hub-Signature` of a body: `sha256=` and the hex HMAC.
pub fn hub_signature(secret: &str, body: &[u8]) -> Result<String, openssl::error::ErrorStack> {
    let key = PKey::hmac(secret.as_bytes())?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(body)?;
    let mac = signer.sign_to_vec()?;
    Ok(format!(
        "sha256={}",
        mac.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Runs `websub_verify` jobs: the subscriber must echo the challenge.
pub struct Verify(pub Federation);

impl JobHandler for Verify {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let Ok(Action::WebSubVerify {
                room_id,
                mode,
                topic,
                callback,
                lease_seconds,
                secret,
                ..
            }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            let Ok(mut url) = Url::parse(&callback) else {
                return JobOutcome::Fail {
                    error: "the callback is not a URL".into(),
                };
            };
            let mut challenge = [0u8; 16];
            let _ = openssl::rand::rand_bytes(&mut challenge);
            let challenge: String = challenge.iter().map(|b| format!("{b:02x}")).collect();
            url.query_pairs_mut()
                .append_pair("hub.mode", &mode)
                .append_pair("hub.topic", &topic)
                .append_pair("hub.challenge", &challenge)
                .append_pair("hub.lease_seconds", &lease_seconds.to_string());
            let page = match fed.fetcher.get_page(&url, 64 * 1024, 0).await {
                Ok(page) => page,
                Err(error) if error.is_retryable() => {
                    return JobOutcome::Retry {
                        error: error.to_string(),
                        retry_after: None,
                    };
                }
                Err(error) => {
                    return JobOutcome::Fail {
                        error: error.to_string(),
                    };
                }
            };
            let echoed =
                page.status.is_success() && String::from_utf8_lossy(&page.body).trim() == challenge;
            if !echoed {
                tracing::info!(?callback, status = %page.status, "a WebSub subscriber did not confirm");
                return JobOutcome::Done;
            }
            let stored = fed
                .store
                .run(move |conn| {
                    let now = Utc::now().naive_utc();
                    if mode == "subscribe" {
                        rows::upsert(
                            conn,
                            room_id,
                            &topic,
                            &callback,
                            secret.as_deref(),
                            now + Duration::seconds(lease_seconds),
                            now,
                        )?;
                    } else {
                        rows::delete(conn, &topic, &callback)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .await;
            match stored {
                Ok(()) => JobOutcome::Done,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

/// Runs `websub_deliver` jobs: the room's current feed to one subscriber.
pub struct Deliver(pub Federation);

impl JobHandler for Deliver {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let Ok(Action::WebSubDeliver {
                subscription_id, ..
            }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            match deliver(&fed, subscription_id).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

async fn deliver(fed: &Federation, subscription_id: i64) -> Result<JobOutcome, DomainError> {
    let Some(subscription) = fed
        .store
        .run(move |conn| Ok::<_, StoreError>(rows::find(conn, subscription_id)?))
        .await?
    else {
        return Ok(JobOutcome::Done);
    };
    if subscription.lease_expires_at <= Utc::now().naive_utc() {
        return Ok(JobOutcome::Done);
    }
    let Some(account) = accounts::find_by_id(&fed.store, subscription.room_id)
        .await?
        .filter(has_feed)
    else {
        return Ok(JobOutcome::Done);
    };
    if account.kind == AccountKind::Group
        && account.manually_approves_followers
        && !is_member_site(fed, &account, &subscription.callback).await?
    {
        fed.store
            .run(move |conn| Ok::<_, StoreError>(rows::delete_by_id(conn, subscription_id)?))
            .await?;
        return Ok(JobOutcome::Done);
    }
    let body = if account.kind == AccountKind::Group {
        room_atom(fed, &account).await?
    } else {
        // A site that follows the person and holds a token from its ticket
        // is pushed the followers-only posts too, decided now, not when the
        // push was queued.
        let (account_id, callback) = (account.id, subscription.callback.clone());
        let followers = fed
            .store
            .run(move |conn| {
                crate::domain::site_grants::site_of_callback_reads_feed(
                    conn,
                    account_id,
                    &callback,
                    Utc::now().naive_utc(),
                )
            })
            .await?;
        crate::indieweb::atom::person_atom_for(&fed.store, &fed.urls, &account, followers).await?
    }
    .into_bytes();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/atom+xml"),
    );
    let links = format!(
        "<{}>; rel=\"hub\", <{}>; rel=\"self\"",
        fed.urls.path("/websub"),
        subscription.topic
    );
    if let Ok(value) = http::HeaderValue::from_str(&links) {
        headers.insert(http::header::LINK, value);
    }
    if let Some(secret) = &subscription.secret
        && let Ok(signature) = hub_signature(secret, &body)
        && let Ok(value) = http::HeaderValue::from_str(&signature)
    {
        headers.insert("x-hub-signature", value);
    }
    let Ok(callback) = Url::parse(&subscription.callback) else {
        return Ok(JobOutcome::Fail {
            error: "the callback is not a URL".into(),
        });
    };
    Ok(
        match fed.fetcher.post_body(&callback, headers, body).await {
            Ok(outcome) if outcome.status.is_success() => JobOutcome::Done,
            Ok(outcome) if outcome.status == http::StatusCode::GONE => {
                fed.store
                    .run(move |conn| {
                        Ok::<_, StoreError>(rows::delete_by_id(conn, subscription_id)?)
                    })
                    .await?;
                JobOutcome::Done
            }
            Ok(outcome) => JobOutcome::Retry {
                error: format!("the subscriber answered {}", outcome.status),
                retry_after: outcome.retry_after,
            },
            Err(error) if error.is_retryable() => JobOutcome::Retry {
                error: error.to_string(),
                retry_after: None,
            },
            Err(error) => JobOutcome::Fail {
                error: error.to_string(),
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        let signature = hub_signature("Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            signature,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
