//! Ticket Auth, the publisher's side: when a site is admitted to a
//! members-only room, or its follow of a local person is accepted, the
//! room's feed (or the person's, with the followers-only posts) is offered
//! to it with a ticket sent to the `ticket_endpoint` its home page names
//! (`ticket`, `resource` = the Atom feed, `subject` = the site, `iss` = this
//! instance). The site redeems the ticket at our token endpoint
//! (`grant_type=ticket`) for a token that reads the feed while the
//! membership or follow lasts. A site that names no ticket endpoint is not
//! sent one.

use url::Url;

use super::discovery::rel_from_page;
use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts;
use crate::domain::actions::Action;
use crate::domain::site_grants;
use crate::federation::ctx::Federation;

/// The relation naming a site's ticket endpoint.
pub const TICKET_ENDPOINT_REL: &str = "ticket_endpoint";

/// Runs `ticket_send` jobs.
pub struct Tickets(pub Federation);

impl JobHandler for Tickets {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let Ok(Action::SendTicket {
                room_id, proxy_id, ..
            }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            match send_ticket(&fed, room_id, proxy_id).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

async fn send_ticket(
    fed: &Federation,
    room_id: i64,
    proxy_id: i64,
) -> Result<JobOutcome, DomainError> {
    let (Some(room), Some(proxy)) = (
        accounts::find_by_id(&fed.store, room_id).await?,
        accounts::find_by_id(&fed.store, proxy_id).await?,
    ) else {
        return Ok(JobOutcome::Done);
    };
    let Some(site) = proxy.site_url.as_deref().and_then(|s| Url::parse(s).ok()) else {
        return Ok(JobOutcome::Done);
    };
    let page = match fed
        .fetcher
        .get_page(&site, super::receive::MAX_SOURCE_BYTES, 5)
        .await
    {
        Ok(page) => page,
        Err(error) if error.is_retryable() => {
            return Ok(JobOutcome::Retry {
                error: error.to_string(),
                retry_after: None,
            });
        }
        Err(error) => {
            return Ok(JobOutcome::Fail {
                error: error.to_string(),
            });
        }
    };
    let Some(endpoint) = rel_from_page(
        &page.final_url,
        &page.headers,
        &page.body,
        TICKET_ENDPOINT_REL,
    ) else {
        return Ok(JobOutcome::Done);
    };
    let ticket = site_grants::issue_ticket(&fed.store, room.id, site.as_str()).await?;
    let resource = fed.urls.atom_feed(&room.actor_url);
    let issuer = fed.urls.path("/");
    let form = [
        ("ticket", ticket.as_str()),
        ("resource", resource.as_str()),
        ("subject", site.as_str()),
        ("iss", issuer.as_str()),
    ];
    Ok(match fed.fetcher.post_form(&endpoint, &form).await {
        Ok(outcome) if outcome.status.is_success() => JobOutcome::Done,
        Ok(outcome) if outcome.status.is_server_error() => JobOutcome::Retry {
            error: format!("the ticket endpoint answered {}", outcome.status),
            retry_after: outcome.retry_after,
        },
        Ok(outcome) => JobOutcome::Fail {
            error: format!("the ticket endpoint refused the ticket: {}", outcome.status),
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
