//! Received Webmentions: recorded, rate-limited per source site (its
//! registrable domain) and in total, queued for verification, and their
//! outcome kept for the status URL.

use chrono::{Duration, NaiveDateTime, Utc};

use super::DomainError;
use super::actions::{self, Action};
use crate::store::Store;
use crate::store::webmentions::{self as rows, NewWebmentionRow, WebmentionRow};

/// Where a mention is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentionStatus {
    Queued,
    Verified,
    Rejected,
    /// The source was deleted (410, or no longer links).
    Deleted,
}

impl MentionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MentionStatus::Queued => "queued",
            MentionStatus::Verified => "verified",
            MentionStatus::Rejected => "rejected",
            MentionStatus::Deleted => "deleted",
        }
    }

    fn from_stored(text: &str) -> Self {
        match text {
            "verified" => MentionStatus::Verified,
            "rejected" => MentionStatus::Rejected,
            "deleted" => MentionStatus::Deleted,
            _ => MentionStatus::Queued,
        }
    }
}

/// A received Webmention.
#[derive(Debug, Clone)]
pub struct Mention {
    pub id: i64,
    pub token: String,
    pub source: String,
    pub target: String,
    pub status: MentionStatus,
    pub reason: Option<String>,
    pub object_ap_id: Option<String>,
    pub updated_at: NaiveDateTime,
    /// A Private Webmention: its code waits to be redeemed.
    pub private: bool,
}

fn row_to_mention(row: WebmentionRow) -> Mention {
    Mention {
        id: row.id,
        token: row.token,
        source: row.source,
        target: row.target,
        status: MentionStatus::from_stored(&row.status),
        reason: row.reason,
        object_ap_id: row.object_ap_id,
        updated_at: row.updated_at,
        private: row.code.is_some(),
    }
}

/// Why a mention was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimited {
    /// The source's site sent its share for this minute.
    Site,
    /// The verification queue is full, whoever sends.
    Queue,
}

/// What the rate limit counts a source URL against: its registrable domain
/// (so that `a.evil.example`, `b.evil.example` and every port of them are
/// one sender), or for an IP address the address (its /64 for IPv6).
pub fn rate_key(source: &url::Url) -> String {
    match source.host() {
        Some(url::Host::Ipv4(v4)) => v4.to_string(),
        Some(url::Host::Ipv6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            psl::domain_str(&domain)
                .map(str::to_owned)
                .unwrap_or(domain)
        }
        None => String::new(),
    }
}

/// Limits on receiving.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveLimits {
    /// Mentions per source site per minute.
    pub per_minute: i64,
    /// Mentions waiting for verification, all sources together.
    pub max_queued: i64,
}

/// What a Private Webmention carries besides `source` and `target`.
#[derive(Debug, Clone, Default)]
pub struct PrivateCode {
    pub code: String,
    pub realm: Option<String>,
}

/// Records a Webmention and queues its verification, unless its site
/// ([`rate_key`]) sent `per_minute` already in the last minute or
/// `max_queued` mentions wait for verification already. A Private
/// Webmention keeps its code until verification redeems it.
pub async fn receive(
    store: &Store,
    source: &str,
    target: &str,
    source_host: &str,
    private: Option<PrivateCode>,
    limits: ReceiveLimits,
) -> Result<Result<Mention, RateLimited>, DomainError> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (source, target, source_host) =
        (source.to_owned(), target.to_owned(), source_host.to_owned());
    store
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            if rows::recent_from_host(conn, &source_host, now - Duration::minutes(1))?
                >= limits.per_minute
            {
                return Ok(Err(RateLimited::Site));
            }
            if rows::count_queued(conn)? >= limits.max_queued {
                return Ok(Err(RateLimited::Queue));
            }
            let row = rows::upsert_queued(
                conn,
                &NewWebmentionRow {
                    token: &token,
                    source: &source,
                    target: &target,
                    source_host: &source_host,
                    status: MentionStatus::Queued.as_str(),
                    created_at: now,
                    updated_at: now,
                    code: private.as_ref().map(|p| p.code.as_str()),
                    realm: private.as_ref().and_then(|p| p.realm.as_deref()),
                },
            )?;
            actions::enqueue(
                conn,
                &[Action::VerifyWebmention {
                    id: row.id,
                    source: row.source.clone(),
                    received_at: row.updated_at.and_utc().timestamp_micros().to_string(),
                }],
            )?;
            Ok(Ok(row_to_mention(row)))
        })
        .await
}

pub async fn by_token(store: &Store, token: &str) -> Result<Option<Mention>, DomainError> {
    let token = token.to_owned();
    store
        .run(move |conn| Ok(rows::find_by_token(conn, &token)?.map(row_to_mention)))
        .await
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Mention>, DomainError> {
    store
        .run(move |conn| Ok(rows::find(conn, id)?.map(row_to_mention)))
        .await
}

/// Records what verification found.
pub async fn record(
    store: &Store,
    id: i64,
    status: MentionStatus,
    reason: Option<String>,
    object_ap_id: Option<String>,
) -> Result<(), DomainError> {
    store
        .run(move |conn| {
            rows::set_status(
                conn,
                id,
                status.as_str(),
                reason.as_deref(),
                object_ap_id.as_deref(),
                Utc::now().naive_utc(),
            )?;
            Ok(())
        })
        .await
}

/// The site URL of a post, when it came from an IndieWeb site through its
/// proxy actor: replies, likes and reposts of it are sent there as
/// Webmentions.
pub async fn site_post_url(store: &Store, ap_id: &str) -> Result<Option<String>, DomainError> {
    let ap_id = ap_id.to_owned();
    store
        .run(move |conn| {
            let Some(post) = crate::store::objects::find_by_ap_id(conn, &ap_id)? else {
                return Ok(None);
            };
            let author = crate::store::accounts::find(conn, post.author_id)?;
            Ok(author.filter(|a| a.site_url.is_some()).and(post.url))
        })
        .await
}

/// Takes a Private Webmention's code (and realm) off its mention: a code is
/// presented once.
pub async fn take_code(store: &Store, id: i64) -> Result<Option<PrivateCode>, DomainError> {
    store
        .run(move |conn| {
            Ok(rows::take_code(conn, id)?.map(|(code, realm)| PrivateCode { code, realm }))
        })
        .await
}

#[cfg(test)]
mod rate_key_tests {
    use super::rate_key;

    #[test]
    fn subdomains_and_ports_count_as_one_site() {
        let key = |u: &str| rate_key(&url::Url::parse(u).unwrap());
        assert_eq!(key("https://a.evil.example:8443/x"), "evil.example");
        assert_eq!(key("http://B.Evil.Example./"), "evil.example");
        assert_eq!(key("https://alice.github.io/post"), "alice.github.io");
        assert_eq!(key("https://www.bbc.co.uk/"), "bbc.co.uk");
        assert_eq!(key("http://192.0.2.7:8080/"), "192.0.2.7");
        assert_eq!(key("http://[2001:db8:1:2::9]:81/"), "2001:db8:1:2::/64");
    }
}
