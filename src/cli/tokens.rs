//! `estuary token …`: issue, list and revoke client API tokens.

use clap::Subcommand;
use serde_json::{Value, json};

use super::open_existing;
use crate::config::Config;
use crate::domain::accounts::AccountKind;
use crate::domain::{admin, tokens};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a read/write bearer token for a user (shown once, stored hashed).
    Issue { name: String },
    /// List a user's tokens (ids, scopes, dates; never the tokens).
    List { name: String },
    /// Revoke a token by the id `token list` shows.
    Revoke { id: i64 },
}

pub async fn run(command: TokenCommand, config: &Config) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    match command {
        TokenCommand::Issue { name } => {
            Ok(json!({ "token": tokens::issue_token(&store, &name).await? }))
        }
        TokenCommand::List { name } => {
            let user = admin::find(&store, &name, AccountKind::Person).await?;
            Ok(json!({ "tokens": admin::tokens(&store, &user).await? }))
        }
        TokenCommand::Revoke { id } => Ok(serde_json::to_value(
            admin::revoke_token(&store, id).await?,
        )?),
    }
}
