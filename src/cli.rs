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
