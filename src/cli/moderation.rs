//! `estuary domain …`, `estuary account …` and `estuary reports …`:
//! blocking and silencing other servers, suspending accounts, and the
//! reports other servers send.

use clap::Subcommand;
use serde_json::{Value, json};

use super::open_existing;
use crate::config::Config;
use crate::domain::admin::status_of;
use crate::domain::moderation::{self, Severity};

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Block a domain (and its subdomains): its inbox POSTs are refused,
    /// nothing is fetched from or sent to it, follows both ways end.
    Block {
        domain: String,
        /// Only silence it: follows stay, but it is hidden from public pages.
        #[arg(long)]
        silence: bool,
        /// Do not show its images (avatars, attachments).
        #[arg(long)]
        reject_media: bool,
    },
    /// Lift the rule for a domain.
    Unblock { domain: String },
    /// List blocked and silenced domains.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Suspend an account (an actor URL or NAME@HOST): its inbox POSTs are
    /// refused and its posts hidden.
    Suspend { actor: String },
    /// Lift an account's suspension.
    Unsuspend { actor: String },
}

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// List open reports (all with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Mark a report resolved.
    Resolve { id: i64 },
}

pub async fn run_domain(command: DomainCommand, config: &Config) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    match command {
        DomainCommand::Block {
            domain,
            silence,
            reject_media,
        } => {
            let severity = if silence {
                Severity::Silence
            } else {
                Severity::Block
            };
            let blocked = moderation::block_domain(&store, &domain, severity, reject_media).await?;
            Ok(serde_json::to_value(blocked)?)
        }
        DomainCommand::Unblock { domain } => {
            let domain = moderation::unblock_domain(&store, &domain).await?;
            Ok(json!({ "unblocked": domain }))
        }
        DomainCommand::List => Ok(json!({ "domains": moderation::domain_rules(&store).await? })),
    }
}

pub async fn run_account(command: AccountCommand, config: &Config) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    let (actor, suspend) = match command {
        AccountCommand::Suspend { actor } => (actor, true),
        AccountCommand::Unsuspend { actor } => (actor, false),
    };
    let account = moderation::find_account(&store, &config.host(), &actor).await?;
    let account = moderation::suspend_account(&store, &account, suspend).await?;
    Ok(json!({
        "id": account.actor_url,
        "local": account.is_local(),
        "status": status_of(&account),
    }))
}

pub async fn run_reports(command: ReportsCommand, config: &Config) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    match command {
        ReportsCommand::List { all } => {
            Ok(json!({ "reports": moderation::reports(&store, all).await? }))
        }
        ReportsCommand::Resolve { id } => Ok(serde_json::to_value(
            moderation::resolve_report(&store, id).await?,
        )?),
    }
}
