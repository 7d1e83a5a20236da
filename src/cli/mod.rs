//! The `estuary` command line: parsing, and one module per command group
//! (`users`, `tokens`, `rooms`, `queue`, `moderation`). Every command prints
//! JSON on stdout when it succeeds.
//!
//! Commands that only read never create a database: they fail, naming the
//! file they looked for. Commands that create something (`user add`,
//! `room add`, `migrate`, `serve`) may create a new SQLite database, and
//! then say so on stderr with its full path.

mod moderation;
mod queue;
mod rooms;
mod tokens;
mod users;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::Config;
use crate::server::{Server, open_store};
use crate::store::{ConnectionManager, Store};
use crate::urls::Urls;

pub use moderation::{AccountCommand, DomainCommand, ReportsCommand};
pub use queue::QueueCommand;
pub use rooms::RoomCommand;
pub use tokens::TokenCommand;
pub use users::UserCommand;

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
    /// Inspect and manage the delivery queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Block or silence other servers.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Suspend accounts, remote or local.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Reports (Flag activities) received from other servers.
    #[command(subcommand)]
    Reports(ReportsCommand),
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
            let (_, applied) = open_or_create(&config).await?;
            Ok(json!({ "applied": applied }))
        }
        Command::User(command) => users::run(command, &config).await,
        Command::Token(command) => tokens::run(command, &config).await,
        Command::Room(command) => rooms::run(command, &config).await,
        Command::Queue(command) => queue::run(command, &config).await,
        Command::Domain(command) => moderation::run_domain(command, &config).await,
        Command::Account(command) => moderation::run_account(command, &config).await,
        Command::Reports(command) => moderation::run_reports(command, &config).await,
    }
}

/// Why the database could not be opened for a command.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "no database at {path} (DATABASE_URL={url:?}, read from {cwd}); this command does not create one: \
         set DATABASE_URL or run `estuary migrate` to create it"
    )]
    Missing {
        path: String,
        url: String,
        cwd: String,
    },
}

/// The file a SQLite URL names, made absolute; `None` for PostgreSQL and
/// in-memory databases.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let manager = ConnectionManager::new(url);
    let path = manager.sqlite_path()?;
    if path == ":memory:" || path.starts_with("file:") {
        return None;
    }
    Some(std::path::absolute(Path::new(path)).unwrap_or_else(|_| PathBuf::from(path)))
}

fn cwd() -> String {
    std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Opens an existing database and applies pending migrations; never
/// creates one.
pub(crate) async fn open_existing(config: &Config) -> anyhow::Result<Store> {
    if let Some(path) = sqlite_file(&config.database_url)
        && !path.is_file()
    {
        return Err(OpenError::Missing {
            path: path.display().to_string(),
            url: config.database_url.clone(),
            cwd: cwd(),
        }
        .into());
    }
    Ok(migrate(open_store(config)?).await?.0)
}

/// Opens the database, creating a SQLite file when there is none (and
/// saying so on stderr, with its full path), and applies migrations.
pub(crate) async fn open_or_create(config: &Config) -> anyhow::Result<(Store, Vec<String>)> {
    let created = sqlite_file(&config.database_url).filter(|path| !path.exists());
    let opened = migrate(open_store(config)?).await?;
    if let Some(path) = created {
        eprintln!("estuary: created a new database at {}", path.display());
    }
    Ok(opened)
}

async fn migrate(store: Store) -> anyhow::Result<(Store, Vec<String>)> {
    let migrating = store.clone();
    let applied = tokio::task::spawn_blocking(move || migrating.migrate()).await??;
    Ok((store, applied))
}

/// `NAME@HOST` of a local account.
pub(crate) fn handle(urls: &Urls, name: &str) -> String {
    format!("{name}@{}", urls.host())
}

pub(crate) fn urls(config: &Config) -> Urls {
    Urls::new(config.base_url.clone())
}

async fn serve(config: Config) -> anyhow::Result<Value> {
    let base_url = config.base_url.to_string();
    if let Some(path) = sqlite_file(&config.database_url).filter(|p| !p.exists()) {
        // A log event (not a bare line), so JSON logs stay JSON.
        tracing::warn!(path = %path.display(), "creating a new database");
    }
    let server = Server::bind(config).await?;
    let addr = server.local_addr()?;
    // The first stdout line tells scripts (and tests using port 0) where
    // the server listens.
    println!(
        "{}",
        json!({ "listening": addr.to_string(), "base_url": base_url })
    );
    tracing::info!(%addr, "listening");
    server.run(crate::server::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(json!({ "stopped": true }))
}
