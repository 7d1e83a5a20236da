//! Sending Webmentions from the queue: discover the target's endpoint and
//! POST source and target; retried with backoff like any delivery.

use url::Url;

use super::discovery::{SendOutcome, send};
use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::actions::Action;
use crate::federation::ctx::Federation;

/// Runs `webmention_send` jobs.
pub struct Send(pub Federation);

impl JobHandler for Send {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let (source, target) = match serde_json::from_str(&job.payload) {
                Ok(Action::SendWebmention { source, target, .. }) => (source, target),
                _ => {
                    return JobOutcome::Fail {
                        error: "unreadable payload".into(),
                    };
                }
            };
            let (Ok(source), Ok(target)) = (Url::parse(&source), Url::parse(&target)) else {
                return JobOutcome::Fail {
                    error: "source or target is not a URL".into(),
                };
            };
            match send(&fed.fetcher, &source, &target).await {
                Ok(SendOutcome::Sent { .. }) => JobOutcome::Done,
                Ok(SendOutcome::NoEndpoint) => {
                    tracing::debug!(%target, "no Webmention endpoint");
                    JobOutcome::Done
                }
                Ok(SendOutcome::Refused {
                    status,
                    retry_after,
                }) if status.is_server_error()
                    || status == http::StatusCode::TOO_MANY_REQUESTS
                    || status == http::StatusCode::REQUEST_TIMEOUT =>
                {
                    JobOutcome::Retry {
                        error: format!("the endpoint answered {status}"),
                        retry_after,
                    }
                }
                Ok(SendOutcome::Refused { status, .. }) => JobOutcome::Fail {
                    error: format!("the endpoint refused it: {status}"),
                },
                Err(error) if error.is_retryable() => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
                Err(error) => JobOutcome::Fail {
                    error: error.to_string(),
                },
            }
        })
    }
}
