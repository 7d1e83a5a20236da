//! `estuary room …`: create and list rooms, see who asks to join, and
//! answer as the owner (approve, remove, ban).

use clap::Subcommand;
use serde_json::{Value, json};

use super::{handle, open_existing, open_or_create, urls};
use crate::config::Config;
use crate::domain::accounts::{self, AccountKind, NewLocalAccount};
use crate::domain::admin;

#[derive(Debug, Subcommand)]
pub enum RoomCommand {
    /// Create a room.
    Add {
        name: String,
        #[arg(long)]
        title: Option<String>,
        /// The local user who moderates the room.
        #[arg(long)]
        owner: Option<String>,
        /// Follow requests wait for the owner's approval.
        #[arg(long)]
        members_only: bool,
    },
    /// List rooms.
    List,
    /// Requests to join a members-only room that wait for an answer.
    Requests { room: String },
    /// Accept a pending request to join a members-only room.
    Approve {
        room: String,
        /// The member: an actor URL, a handle (name@host) or a site's domain.
        member: String,
    },
    /// Remove a member (they may ask to join again).
    Remove { room: String, member: String },
    /// Ban a member: removed, and their posts to the room are refused.
    Ban { room: String, member: String },
}

#[derive(Debug, Clone, Copy)]
enum Moderation {
    Approve,
    Remove,
    Ban,
}

pub async fn run(command: RoomCommand, config: &Config) -> anyhow::Result<Value> {
    let urls = urls(config);
    match command {
        RoomCommand::Add {
            name,
            title,
            owner,
            members_only,
        } => {
            let (store, _) = open_or_create(config).await?;
            let new = NewLocalAccount {
                name,
                display_name: title,
                owner,
                members_only,
                ..Default::default()
            };
            let room = accounts::create_room(&store, &urls, new).await?;
            Ok(json!({ "id": room.actor_url, "acct": handle(&urls, &room.username) }))
        }
        RoomCommand::List => {
            let store = open_existing(config).await?;
            Ok(json!({ "rooms": admin::list(&store, &urls, AccountKind::Group).await? }))
        }
        RoomCommand::Requests { room } => {
            let store = open_existing(config).await?;
            let room = admin::find(&store, &room, AccountKind::Group).await?;
            Ok(json!({
                "room": room.username,
                "requests": admin::join_requests(&store, &room).await?,
            }))
        }
        RoomCommand::Approve { room, member } => {
            moderate(config, &room, &member, Moderation::Approve).await
        }
        RoomCommand::Remove { room, member } => {
            moderate(config, &room, &member, Moderation::Remove).await
        }
        RoomCommand::Ban { room, member } => {
            moderate(config, &room, &member, Moderation::Ban).await
        }
    }
}

/// The owner's moderation of a room, from the command line.
async fn moderate(
    config: &Config,
    room: &str,
    member: &str,
    what: Moderation,
) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    let fed = crate::server::federation(config, store.clone()).await?;
    let room = accounts::find_local(&store, room)
        .await?
        .filter(|a| a.kind == AccountKind::Group)
        .ok_or_else(|| anyhow::anyhow!("there is no room named {room:?}"))?;
    let found = if member.starts_with("http://") || member.starts_with("https://") {
        accounts::find_by_actor_url(&store, member).await?
    } else if let Some((name, host)) = crate::federation::resolve::parse_handle(member)
        && host.eq_ignore_ascii_case(&fed.urls.host())
    {
        match accounts::find_local(&store, name).await? {
            Some(local) => Some(local),
            None => accounts::find_proxy(&store, name).await?,
        }
    } else {
        accounts::find_proxy(&store, member).await?
    };
    let member_account = found.ok_or_else(|| anyhow::anyhow!("{member:?} is not known here"))?;
    match what {
        Moderation::Approve => {
            crate::rooms::membership::approve(&fed, &room, &member_account).await?
        }
        Moderation::Remove => {
            if !crate::rooms::membership::leave(&store, room.id, member_account.id).await? {
                anyhow::bail!("{member:?} is not a member of {}", room.username);
            }
        }
        Moderation::Ban => crate::rooms::membership::ban(&fed, &room, &member_account).await?,
    }
    Ok(
        json!({ "room": room.username, "member": member_account.actor_url, "done": format!("{what:?}").to_lowercase() }),
    )
}
