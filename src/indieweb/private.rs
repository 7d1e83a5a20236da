//! Direct notes to a site's proxy actor. A site accepts private notes by
//! declaring it on its home page with a `rel="private-notes"` link
//! (`<link rel="private-notes" href="/">`). Then the note is shown at an
//! unguessable capability URL given only to that site, as the source of a
//! Webmention to the site's home page — it is never on a public page.
//! Otherwise the sender receives a Reject of its Create.

use chrono::Utc;
use url::Url;

use super::discovery::{SendOutcome, send};
use super::mf2;
use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::actions::Action;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{self, NewActivity};
use crate::domain::webmentions;
use crate::federation::ctx::Federation;
use crate::federation::documents::{ActivityDocument, ActivityKind, ActivityObject};

/// The rel a site's home page uses to accept private notes.
pub const PRIVATE_NOTES_REL: &str = "private-notes";

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

/// Whether the site at `site_url` declares that it accepts private notes.
async fn accepts_private_notes(
    fed: &Federation,
    site_url: &Url,
) -> Result<bool, crate::federation::fetch::FetchError> {
    let page = fed
        .fetcher
        .get_page(site_url, super::receive::MAX_SOURCE_BYTES, 5)
        .await?;
    if !page.status.is_success() {
        return Ok(false);
    }
    let html = String::from_utf8_lossy(&page.body).into_owned();
    // A page over the parsing limits declares nothing.
    let Ok(document) = mf2::parse_blocking(html, page.final_url, fed.mf2_limits).await else {
        return Ok(false);
    };
    Ok(!document.rel(PRIVATE_NOTES_REL).is_empty())
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
    let accepts = match accepts_private_notes(fed, &site_url).await {
        Ok(accepts) => accepts,
        Err(error) if error.is_retryable() => {
            return Ok(JobOutcome::Retry {
                error: error.to_string(),
                retry_after: None,
            });
        }
        Err(_) => false,
    };
    if !accepts {
        refuse(fed, &proxy, &sender, activity_id).await?;
        return Ok(JobOutcome::Done);
    }
    let object = create.object_ap_id.clone().unwrap_or_default();
    let token = webmentions::grant_private_page(&fed.store, &object, site_url.as_str()).await?;
    let source = Url::parse(&fed.urls.path(&format!("/private/{token}"))).expect("a valid URL");
    Ok(match send(&fed.fetcher, &source, &site_url).await {
        Ok(SendOutcome::Sent { .. }) => JobOutcome::Done,
        Ok(SendOutcome::NoEndpoint) => {
            refuse(fed, &proxy, &sender, activity_id).await?;
            JobOutcome::Done
        }
        Ok(SendOutcome::Refused {
            status,
            retry_after,
        }) if status.is_server_error() => JobOutcome::Retry {
            error: format!("the site answered {status}"),
            retry_after,
        },
        Ok(SendOutcome::Refused { status, .. }) => JobOutcome::Fail {
            error: format!("the site refused it: {status}"),
        },
        Err(error) if error.is_retryable() => JobOutcome::Retry {
            error: error.to_string(),
            retry_after: None,
        },
        Err(error) => JobOutcome::Fail {
            error: error.to_string(),
        },
    })
}

/// The proxy rejects the sender's Create.
async fn refuse(
    fed: &Federation,
    proxy: &Account,
    sender: &Account,
    activity_id: &str,
) -> Result<(), DomainError> {
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("activities");
    let object = ActivityObject::Id(activity_id.to_owned());
    let document = ActivityDocument::builder(ActivityKind::Reject, &id, &proxy.actor_url, object)
        .to([sender.actor_url.clone()])
        .summary("This site does not accept private notes.")
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
