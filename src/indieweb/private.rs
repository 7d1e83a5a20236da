//! Direct notes to a site's proxy actor, as Private Webmentions: the note is
//! shown at `/private/PAGE_KEY` only to a bearer of a token, and the site's
//! Webmention endpoint gets `source` (that page), `target` (the site's home
//! page, or its post the note replies to) and a short-lived single-use
//! `code`, which the site exchanges at our token endpoint. A site without a
//! Webmention endpoint, one that refuses the mention, or one that does not
//! redeem the code in time leaves the sender with a Reject and the reason.

use chrono::Utc;
use url::Url;

use super::discovery::{SendOutcome, send_with};
use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::actions::Action;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{self, NewActivity};
use crate::domain::site_grants::{self, Collection, Handover};
use crate::domain::webmentions::site_post_url;
use crate::federation::ctx::Federation;
use crate::federation::documents::{ActivityDocument, ActivityKind, ActivityObject};

/// Runs `private_note_to_site` jobs.
pub struct PrivateNotes(pub Federation);

impl JobHandler for PrivateNotes {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let Ok(Action::PrivateNoteToSite {
                activity,
                proxy_id,
                sender_id,
            }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            match hand_over(&fed, &activity, proxy_id, sender_id).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

/// Runs `private_note_check` jobs: a code expired; was the note collected?
pub struct PrivateNoteChecks(pub Federation);

impl JobHandler for PrivateNoteChecks {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let Ok(Action::PrivateNoteCheck { page_id }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            match check(&fed, page_id).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

/// The Reject's reason when the site did not collect the note.
pub const NOT_COLLECTED: &str = "The site did not collect this private note in time.";

async fn check(fed: &Federation, page_id: i64) -> Result<JobOutcome, DomainError> {
    let Some(page) = site_grants::find_page(&fed.store, page_id).await? else {
        return Ok(JobOutcome::Done);
    };
    if site_grants::collection(&fed.store, &page).await? != Collection::Uncollected {
        return Ok(JobOutcome::Done);
    }
    let (Some(proxy), Some(sender)) = (
        accounts::find_by_id(&fed.store, page.proxy_id).await?,
        accounts::find_by_id(&fed.store, page.sender_id).await?,
    ) else {
        return Ok(JobOutcome::Done);
    };
    refuse(fed, &proxy, &sender, &page.activity_ap_id, NOT_COLLECTED).await?;
    Ok(JobOutcome::Done)
}

async fn hand_over(
    fed: &Federation,
    activity_id: &str,
    proxy_id: i64,
    sender_id: i64,
) -> Result<JobOutcome, DomainError> {
    let (Some(proxy), Some(sender)) = (
        accounts::find_by_id(&fed.store, proxy_id).await?,
        accounts::find_by_id(&fed.store, sender_id).await?,
    ) else {
        return Ok(JobOutcome::Fail {
            error: "an account is gone".into(),
        });
    };
    let Some(create) = posts::find_activity(&fed.store, activity_id).await? else {
        return Ok(JobOutcome::Fail {
            error: "the note is gone".into(),
        });
    };
    let Some(site_url) = proxy.site_url.as_deref().and_then(|s| Url::parse(s).ok()) else {
        return Ok(JobOutcome::Fail {
            error: "not a proxy actor".into(),
        });
    };
    let object = create.object_ap_id.clone().unwrap_or_default();
    let target = target_of(fed, &object, &site_url).await?;
    let granted = site_grants::hand_over(
        &fed.store,
        Handover {
            object_ap_id: object,
            activity_ap_id: activity_id.to_owned(),
            proxy_id,
            sender_id,
            site_url: site_url.to_string(),
        },
    )
    .await?;
    let source = Url::parse(&fed.urls.private_page(&granted.page_key)).expect("a valid URL");
    let sent = send_with(
        &fed.fetcher,
        &source,
        &target,
        &[("code", granted.code.as_str()), ("realm", &fed.urls.host())],
    )
    .await;
    fed.wake.notify_one();
    Ok(match sent {
        Ok(SendOutcome::Sent { .. }) => JobOutcome::Done,
        Ok(SendOutcome::NoEndpoint) => {
            let reason = "This site does not take Webmentions, so it cannot receive private notes.";
            refuse(fed, &proxy, &sender, activity_id, reason).await?;
            JobOutcome::Done
        }
        Ok(SendOutcome::Refused {
            status,
            retry_after,
        }) if status.is_server_error() => JobOutcome::Retry {
            error: format!("the site answered {status}"),
            retry_after,
        },
        Ok(SendOutcome::Refused { status, .. }) => {
            let reason = format!(
                "The site refused this private note (its Webmention endpoint answered {}).",
                status.as_u16()
            );
            refuse(fed, &proxy, &sender, activity_id, &reason).await?;
            JobOutcome::Done
        }
        Err(error) if error.is_retryable() => JobOutcome::Retry {
            error: error.to_string(),
            retry_after: None,
        },
        Err(error) => JobOutcome::Fail {
            error: error.to_string(),
        },
    })
}

/// The Webmention's target: the site's post the note replies to, else the
/// site's home page.
async fn target_of(fed: &Federation, object: &str, site_url: &Url) -> Result<Url, DomainError> {
    let parent = posts::find_post(&fed.store, object)
        .await?
        .and_then(|post| post.in_reply_to);
    if let Some(parent) = parent
        && let Some(url) = site_post_url(&fed.store, &parent).await?
        && let Ok(url) = Url::parse(&url)
        && url.origin() == site_url.origin()
    {
        return Ok(url);
    }
    Ok(site_url.clone())
}

/// The proxy rejects the sender's Create, saying why.
async fn refuse(
    fed: &Federation,
    proxy: &Account,
    sender: &Account,
    activity_id: &str,
    reason: &str,
) -> Result<(), DomainError> {
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("activities");
    let object = ActivityObject::Id(activity_id.to_owned());
    let document = ActivityDocument::builder(ActivityKind::Reject, &id, &proxy.actor_url, object)
        .to([sender.actor_url.clone()])
        .summary(reason)
        .published(now)
        .build();
    let reject = NewActivity::minted(
        proxy,
        id,
        "Reject",
        Some(activity_id.to_owned()),
        vec![sender.actor_url.clone()],
        document.to_json(),
        now,
    );
    ledger::record(&fed.store, &fed.urls, proxy, reject, Effect::None).await?;
    fed.wake.notify_one();
    Ok(())
}
