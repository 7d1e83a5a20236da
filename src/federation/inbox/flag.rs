//! `Flag`: another server reports accounts or posts to this one's
//! operator (as Mastodon sends it: the reporting server's instance actor,
//! `object` listing the reported actor and posts, `content` the comment).

use serde_json::Value;

use super::{Inbound, InboxError};
use crate::domain::moderation::{NewReport, receive_report};
use crate::domain::posts::Applied;
use crate::federation::wire::{self, id_of};

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let targets: Vec<String> = match inbound.activity.get("object") {
        Some(Value::Array(items)) => items.iter().filter_map(id_of).map(str::to_owned).collect(),
        Some(other) => id_of(other).map(str::to_owned).into_iter().collect(),
        None => Vec::new(),
    };
    if targets.is_empty() {
        return Err(InboxError::BadRequest(
            "a Flag names what it reports in object".into(),
        ));
    }
    let report = NewReport {
        ap_id: wire::text(inbound.activity, "id")
            .unwrap_or_default()
            .to_owned(),
        reporter_id: inbound.actor.id,
        targets,
        comment: wire::text(inbound.activity, "content").map(str::to_owned),
        document: inbound.activity.to_string(),
    };
    Ok(match receive_report(&inbound.fed.store, report).await? {
        true => Applied::Stored { filed: 0 },
        false => Applied::Replay,
    })
}
