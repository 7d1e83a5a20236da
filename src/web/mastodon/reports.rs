//! Reports: a user reports an account (and some of its posts) to this
//! instance's moderators, who read them with `estuary reports list` beside
//! the `Flag`s other servers send.

use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::params::Params;
use super::{User, json, not_found, parse_id, unprocessable};
use crate::domain::moderation::{self, NewReport};
use crate::domain::timelines;
use crate::federation::documents::{ActivityDocument, ActivityKind, ActivityObject};
use crate::mastodon::convert::{account_to_mastodon, timestamp};
use crate::mastodon::entities::Report;
use crate::web::AppState;
use crate::web::error::WebError;

/// Longest comment a report may carry, in characters (as Mastodon).
const MAX_COMMENT_CHARS: usize = 1_000;

/// `POST /api/v1/reports`
pub async fn create(
    State(state): State<AppState>,
    user: User,
    params: Params,
) -> Result<Response, WebError> {
    let me = user.need("write:reports")?;
    let account_id = params
        .get("account_id")
        .ok_or_else(|| unprocessable("account_id is required"))?;
    let target = timelines::accounts(&state.store, vec![parse_id(account_id)?])
        .await?
        .pop()
        .ok_or_else(not_found)?;
    if target.account.id == me.id {
        return Err(unprocessable("You cannot report yourself"));
    }
    let comment = params.get("comment").unwrap_or_default().to_owned();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(unprocessable(format!(
            "the comment is longer than {MAX_COMMENT_CHARS} characters"
        )));
    }
    // Only posts of the reported account that the reporter may see.
    let mut targets = vec![target.account.actor_url.clone()];
    let mut status_ids = Vec::new();
    for id in params.all("status_ids") {
        let post = timelines::status(&state.store, Some(me.clone()), parse_id(id)?)
            .await?
            .filter(|view| view.post.author_id == target.account.id)
            .ok_or_else(not_found)?;
        targets.push(post.post.ap_id.clone());
        status_ids.push(post.id.to_string());
    }
    let now = Utc::now().naive_utc();
    let ap_id = state.urls.mint("reports");
    let mut flag = ActivityDocument::builder(
        ActivityKind::Flag,
        &ap_id,
        &me.actor_url,
        ActivityObject::Ids(targets.clone()),
    )
    .published(now);
    if !comment.is_empty() {
        flag = flag.summary(&comment);
    }
    let id = moderation::file_report(
        &state.store,
        NewReport {
            ap_id,
            reporter_id: me.id,
            targets,
            comment: (!comment.is_empty()).then(|| comment.clone()),
            document: flag.build().to_json(),
        },
    )
    .await?;
    Ok(json(&Report {
        id: id.to_string(),
        action_taken: false,
        action_taken_at: None,
        category: "other",
        comment,
        forwarded: false,
        created_at: timestamp(now),
        status_ids,
        rule_ids: None,
        target_account: account_to_mastodon(&target, &state.urls),
    }))
}
