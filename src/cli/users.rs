//! `estuary user …`: create, list, show, edit, suspend and delete local
//! users; set their passwords.

use clap::Subcommand;
use serde_json::{Value, json};

use super::{handle, open_existing, open_or_create, urls};
use crate::config::Config;
use crate::domain::accounts::{self, AccountKind, NewLocalAccount};
use crate::domain::admin::{self, ProfileEdit};

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
    /// List local users.
    List,
    /// Show one user: profile, counts, tokens, state.
    Show { name: String },
    /// Change a user's profile (an empty text clears a field).
    Edit {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        summary: Option<String>,
        /// A PNG, JPEG, GIF or WebP file for the avatar.
        #[arg(long, value_name = "FILE")]
        avatar: Option<std::path::PathBuf>,
        /// A PNG, JPEG, GIF or WebP file for the header image.
        #[arg(long, value_name = "FILE")]
        header: Option<std::path::PathBuf>,
    },
    /// Suspend a user: no sign-in, no tokens, pages and actor hidden.
    Suspend { name: String },
    /// Lift a user's suspension.
    Unsuspend { name: String },
    /// Delete a user for good; followers elsewhere get the actor's Delete.
    Delete { name: String },
}

fn read_image(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

pub async fn run(command: UserCommand, config: &Config) -> anyhow::Result<Value> {
    let urls = urls(config);
    match command {
        UserCommand::Add {
            name,
            display_name,
            summary,
        } => {
            let (store, _) = open_or_create(config).await?;
            let new = NewLocalAccount {
                name,
                display_name,
                summary,
                ..Default::default()
            };
            let account = accounts::create_user(&store, &urls, new).await?;
            Ok(json!({ "id": account.actor_url, "acct": handle(&urls, &account.username) }))
        }
        UserCommand::Passwd { name } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let store = open_existing(config).await?;
            crate::domain::oauth::set_password(&store, &name, password).await?;
            Ok(json!({ "user": name.to_lowercase(), "password": "set" }))
        }
        UserCommand::List => {
            let store = open_existing(config).await?;
            let users = admin::list(&store, &urls, AccountKind::Person).await?;
            Ok(json!({ "users": users }))
        }
        UserCommand::Show { name } => {
            let store = open_existing(config).await?;
            let user = admin::find(&store, &name, AccountKind::Person).await?;
            Ok(serde_json::to_value(
                admin::show(&store, &urls, &user).await?,
            )?)
        }
        UserCommand::Edit {
            name,
            display_name,
            summary,
            avatar,
            header,
        } => {
            let edit = ProfileEdit {
                display_name,
                summary,
                avatar: avatar.as_deref().map(read_image).transpose()?,
                header: header.as_deref().map(read_image).transpose()?,
            };
            let store = open_existing(config).await?;
            let user = admin::find(&store, &name, AccountKind::Person).await?;
            let user = admin::edit(&store, &urls, &user, edit).await?;
            Ok(serde_json::to_value(
                admin::show(&store, &urls, &user).await?,
            )?)
        }
        UserCommand::Suspend { name } => suspend(config, &name, true).await,
        UserCommand::Unsuspend { name } => suspend(config, &name, false).await,
        UserCommand::Delete { name } => {
            let store = open_existing(config).await?;
            let user = admin::find(&store, &name, AccountKind::Person).await?;
            let id = urls.mint("activities");
            let document = crate::federation::builders::build_actor_delete(&id, &user);
            let deleted = admin::delete(&store, &urls, &user, id, document.to_string()).await?;
            Ok(serde_json::to_value(deleted)?)
        }
    }
}

async fn suspend(config: &Config, name: &str, suspend: bool) -> anyhow::Result<Value> {
    let store = open_existing(config).await?;
    let user = admin::find(&store, name, AccountKind::Person).await?;
    let user = admin::set_suspended(&store, &user, suspend).await?;
    Ok(json!({
        "user": user.username,
        "id": user.actor_url,
        "status": admin::status_of(&user),
    }))
}
