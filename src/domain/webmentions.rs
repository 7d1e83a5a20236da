//! Received Webmentions: recorded, rate-limited per source host, queued for
//! verification, and their outcome kept for the status URL.

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
    }
}

/// The per-host limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited;

/// Records a Webmention and queues its verification, unless `source_host`
/// sent `per_minute` already in the last minute.
pub async fn receive(
    store: &Store,
    source: &str,
    target: &str,
    source_host: &str,
    per_minute: i64,
) -> Result<Result<Mention, RateLimited>, DomainError> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (source, target, source_host) =
        (source.to_owned(), target.to_owned(), source_host.to_owned());
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                let now = Utc::now().naive_utc();
                if rows::recent_from_host(conn, &source_host, now - Duration::minutes(1))?
                    >= per_minute
                {
                    return Ok(Err(RateLimited));
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

/// Gives `site_url` a capability URL token for a private post; returns the
/// token (only its hash is stored).
pub async fn grant_private_page(
    store: &Store,
    object_ap_id: &str,
    site_url: &str,
) -> Result<String, DomainError> {
    let token = super::tokens::new_token()?;
    let token_hash = super::tokens::hash_token(&token);
    let (object_ap_id, site_url) = (object_ap_id.to_owned(), site_url.to_owned());
    store
        .run(move |conn| {
            crate::store::private_pages::insert(
                conn,
                &token_hash,
                &object_ap_id,
                &site_url,
                Utc::now().naive_utc(),
            )?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(token)
}

/// The post a capability token shows.
pub async fn private_page(
    store: &Store,
    token: &str,
) -> Result<Option<super::posts::Post>, DomainError> {
    let token_hash = super::tokens::hash_token(token);
    let Some(object) = store
        .run(move |conn| {
            Ok::<_, DomainError>(crate::store::private_pages::object_of(conn, &token_hash)?)
        })
        .await?
    else {
        return Ok(None);
    };
    super::posts::find_post(store, &object).await
}
