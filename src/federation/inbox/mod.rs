//! The inbox pipeline, in a fixed order: find the inbox, verify the
//! signature (and digest), parse the activity, check that the signer is its
//! actor, then hand it to the handler of its verb (one file per verb).

mod create;
mod delete;
mod flag;
mod follow;
mod follow_answer;
mod reaction;
mod undo;
mod update;

use chrono::Utc;
use serde_json::Value;

use super::ctx::Federation;
use super::verify::{SignedRequest, VerifyError, verify_request};
use super::wire::{self, field_id, type_of};
use crate::domain::DomainError;
use crate::domain::accounts::Account;
use crate::domain::audience::classify;
use crate::domain::posts::{Applied, NewActivity};

/// Which inbox a POST reached.
#[derive(Debug, Clone)]
pub enum InboxTarget {
    /// `POST /inbox`.
    Shared,
    /// A local account's own inbox.
    Account(Box<Account>),
}

/// Why an inbox POST was refused; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// 400
    #[error("{0}")]
    BadRequest(String),
    /// 400
    #[error("the body does not match its digest")]
    Digest,
    /// 401
    #[error("{0}")]
    Unauthorized(String),
    /// 403
    #[error("{0}")]
    Forbidden(String),
    /// 500
    #[error(transparent)]
    Internal(DomainError),
}

impl From<VerifyError> for InboxError {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::Digest(_) => InboxError::Digest,
            other => InboxError::Unauthorized(other.public_message()),
        }
    }
}

impl From<DomainError> for InboxError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotOwner | DomainError::NotMember(_) => {
                InboxError::Forbidden(error.to_string())
            }
            other => InboxError::Internal(other),
        }
    }
}

/// What the handler of a verb is given.
pub(crate) struct Inbound<'a> {
    pub fed: &'a Federation,
    /// The verified sender (the signer, who is the activity's actor).
    pub actor: &'a Account,
    pub activity: &'a Value,
    pub target: &'a InboxTarget,
}

impl Inbound<'_> {
    /// The activity as stored: addressing, visibility and the document.
    pub fn to_new_activity(&self, object_ap_id: Option<&str>) -> NewActivity {
        let addressees = wire::addressees(self.activity);
        NewActivity {
            ap_id: wire::text(self.activity, "id")
                .unwrap_or_default()
                .to_owned(),
            kind: type_of(self.activity).unwrap_or_default().to_owned(),
            actor_id: self.actor.id,
            object_ap_id: object_ap_id.map(str::to_owned),
            visibility: classify(&addressees, self.actor.followers_url.as_deref()),
            addressees,
            document: self.activity.to_string(),
            local: false,
            published: wire::datetime(self.activity, "published")
                .unwrap_or_else(|| Utc::now().naive_utc()),
        }
    }

    /// The local account an activity's `object` names.
    pub async fn local_object_account(&self) -> Result<Option<Account>, InboxError> {
        let Some(object) = field_id(self.activity, "object") else {
            return Err(InboxError::BadRequest("the activity has no object".into()));
        };
        let cache = &self.fed.actors;
        Ok(cache
            .local_by_actor_url(&self.fed.store, object)
            .await?
            .map(|actor| actor.account.clone()))
    }
}

/// Receives one POST to an inbox: verifies it and applies it.
pub async fn receive(
    fed: &Federation,
    target: &InboxTarget,
    request: SignedRequest<'_>,
) -> Result<Applied, InboxError> {
    let body = request.body.unwrap_or_default();
    let signer = verify_request(fed, request).await?;
    let activity = super::intake::check_activity(body, &signer.owner.actor_url)?;
    let id = wire::text(&activity, "id").unwrap_or_default();
    let kind = type_of(&activity).unwrap_or_default();
    let inbound = Inbound {
        fed,
        actor: &signer.owner,
        activity: &activity,
        target,
    };
    let applied = match kind {
        "Create" => create::receive(&inbound).await?,
        "Update" => update::receive(&inbound).await?,
        "Delete" => delete::receive(&inbound).await?,
        "Follow" => follow::receive(&inbound).await?,
        "Accept" => follow_answer::receive(&inbound, true).await?,
        "Reject" => follow_answer::receive(&inbound, false).await?,
        "Undo" => undo::receive(&inbound).await?,
        "Like" | "Announce" => reaction::receive(&inbound).await?,
        "Block" => reaction::receive_block(&inbound).await?,
        "Flag" => flag::receive(&inbound).await?,
        other => {
            tracing::info!(
                kind = other,
                id,
                "ignoring an activity of a type we do not handle"
            );
            Applied::Ignored
        }
    };
    tracing::debug!(kind, id, ?applied, "inbox activity");
    Ok(applied)
}

/// The embedded object of an activity (fetching is not done here: peers
/// embed the objects of Create and Update).
pub(crate) fn embedded_object(activity: &Value) -> Result<&Value, InboxError> {
    match activity.get("object") {
        Some(object @ Value::Object(_)) => Ok(object),
        Some(_) => Err(InboxError::BadRequest(
            "the object must be embedded in the activity".into(),
        )),
        None => Err(InboxError::BadRequest("the activity has no object".into())),
    }
}
