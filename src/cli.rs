//! The `estuary` command line: parsing and one function per command. Every
//! command prints JSON on stdout when it succeeds.

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::Config;
use crate::domain::accounts::{self, NewLocalAccount};
use crate::domain::tokens;
use crate::server::{Server, open_store, shutdown_signal};
use crate::store::Store;
use crate::urls::Urls;

#[derive(Debug, Parser)]
#[command(name = "estuary", version, about = "A federated inbox/outbox server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve HTTP until SIGTERM/SIGINT.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage local users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage client API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage rooms (Group actors).
    #[command(subcommand)]
    Room(RoomCommand),
    /// Inspect the delivery queue.
    #[command(subcommand)]
    Queue(QueueCommand),
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Print pending, failed (retrying), dead, running and done job counts.
    Stats,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local user with a fresh RSA-2048 key.
    Add {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        summary: Option<String>,
    },
    /// Set a user's password (read from stdin) for the OAuth login page.
    Passwd { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a read/write bearer token for a user (shown once, stored hashed).
    Issue { name: String },
}

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

impl Command {
    /// The log filter used when `RUST_LOG` is unset: the server narrates,
    /// one-shot commands stay quiet unless something is wrong.
    pub fn default_log_filter(&self) -> &'static str {
        match self {
            Command::Serve => "info",
            _ => "warn",
        }
    }
}

/// Runs one command and returns what it prints on stdout.
pub async fn run(command: Command, config: Config) -> anyhow::Result<Value> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let applied = open_migrated(&config).await?.1;
            Ok(json!({ "applied": applied }))
        }
        Command::User(UserCommand::Add {
            name,
            display_name,
            summary,
        }) => {
            let (store, _) = open_migrated(&config).await?;
            let urls = Urls::new(config.base_url.clone());
            let new = NewLocalAccount {
                name,
                display_name,
                summary,
                ..Default::default()
            };
            let account = accounts::create_user(&store, &urls, new).await?;
            Ok(json!({ "id": account.actor_url, "acct": handle(&urls, &account.username) }))
        }
        Command::Room(RoomCommand::Approve { room, member }) => {
            moderate(&config, &room, &member, Moderation::Approve).await
        }
        Command::Room(RoomCommand::Remove { room, member }) => {
            moderate(&config, &room, &member, Moderation::Remove).await
        }
        Command::Room(RoomCommand::Ban { room, member }) => {
            moderate(&config, &room, &member, Moderation::Ban).await
        }
        Command::Queue(QueueCommand::Stats) => {
            let (store, _) = open_migrated(&config).await?;
            Ok(serde_json::to_value(crate::delivery::stats(&store).await?)?)
        }
        Command::User(UserCommand::Passwd { name }) => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let (store, _) = open_migrated(&config).await?;
            crate::domain::oauth::set_password(&store, &name, password).await?;
            Ok(json!({ "user": name.to_lowercase(), "password": "set" }))
        }
        Command::Token(TokenCommand::Issue { name }) => {
            let (store, _) = open_migrated(&config).await?;
            Ok(json!({ "token": tokens::issue_token(&store, &name).await? }))
        }
        Command::Room(RoomCommand::Add {
            name,
            title,
            owner,
            members_only,
        }) => {
            let (store, _) = open_migrated(&config).await?;
            let urls = Urls::new(config.base_url.clone());
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
    }
}

#[derive(Debug, Clone, Copy)]
enum Moderation {
    Approve,
    Remove,
    Ban,
}

/// The owner's moderation of a room, from the command line.
async fn moderate(
    config: &Config,
    room: &str,
    member: &str,
    what: Moderation,
) -> anyhow::Result<Value> {
    let (store, _) = open_migrated(config).await?;
    let fed = crate::server::federation(config, store.clone()).await?;
    let room = accounts::find_local(&store, room)
        .await?
        .filter(|a| a.kind == crate::domain::accounts::AccountKind::Group)
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

fn handle(urls: &Urls, name: &str) -> String {
    format!("{name}@{}", urls.host())
}

/// Opens the database and applies pending migrations, so that every
/// command works on a fresh SQLite file.
async fn open_migrated(config: &Config) -> anyhow::Result<(Store, Vec<String>)> {
    let store = open_store(config)?;
    let migrating = store.clone();
    let applied = tokio::task::spawn_blocking(move || migrating.migrate()).await??;
    Ok((store, applied))
}

async fn serve(config: Config) -> anyhow::Result<Value> {
    let base_url = config.base_url.to_string();
    let server = Server::bind(config).await?;
    let addr = server.local_addr()?;
    // The first stdout line tells scripts (and tests using port 0) where
    // the server listens.
    println!(
        "{}",
        json!({ "listening": addr.to_string(), "base_url": base_url })
    );
    tracing::info!(%addr, "listening");
    server.run(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(json!({ "stopped": true }))
}
