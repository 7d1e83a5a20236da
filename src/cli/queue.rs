//! `estuary queue …`: counts, the jobs themselves, retrying dead jobs and
//! purging finished ones. Works while the server runs or not.

use clap::Subcommand;
use serde_json::{Value, json};

use super::open_existing;
use crate::config::Config;
use crate::delivery::admin;

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Print pending, failed (retrying), dead, running and done job counts.
    Stats,
    /// List jobs, newest first.
    List {
        /// Only jobs of this status: pending, running, retrying, dead, done.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Try a dead or retrying job again now (or every dead job with --dead).
    Retry {
        /// The job's id, as `queue list` shows it.
        #[arg(required_unless_present = "dead", conflicts_with = "dead")]
        id: Option<i64>,
        /// Every dead job.
        #[arg(long)]
        dead: bool,
    },
    /// Delete finished jobs of one status (dead or done).
    Purge {
        #[arg(long)]
        status: String,
    },
}

pub async fn run(command: QueueCommand, config: &Config) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    match command {
        QueueCommand::Stats => Ok(serde_json::to_value(crate::delivery::stats(&store).await?)?),
        QueueCommand::List { status, limit } => {
            Ok(json!({ "jobs": admin::list(&store, status, limit).await? }))
        }
        QueueCommand::Retry { id, .. } => Ok(json!({ "retried": admin::retry(&store, id).await? })),
        QueueCommand::Purge { status } => {
            let purged = admin::purge(&store, status.clone()).await?;
            Ok(json!({ "purged": purged, "status": status }))
        }
    }
}
