//! `tollgate`: one binary, run as a profile (all-in-one, control-plane, gateway, traffic-manager).

mod admin;
mod config;
mod error;
mod logging;
mod node;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Profile};
use crate::error::StartError;

#[derive(Parser)]
#[command(name = "tollgate", version, about = "Tollgate API manager")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a node (all-in-one unless a profile is given).
    Start {
        /// deployment.toml to read.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// all-in-one (or default), control-plane, gateway (or gateway-worker), traffic-manager.
        #[arg(long, short)]
        profile: Option<Profile>,
    },
    /// Create or upgrade the database schemas, then exit.
    Migrate {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage the key manager's token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a signing key that signs from now on; the old one stays published until the tokens
    /// it signed have expired.
    Rotate {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Unlock an account locked after failed logins (WSO2's account locking).
    Unlock {
        /// The username (`user@tenant.domain` for another tenant).
        username: String,
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    logging::init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Start { config, profile } => {
                let mut config = load(config.as_deref())?;
                if let Some(profile) = profile {
                    config.server.profile = profile;
                }
                node::run(config).await
            }
            Command::Migrate { config } => node::migrate(load(config.as_deref())?).await,
            Command::Users {
                command: UsersCommand::Unlock { username, config },
            } => node::unlock_user(load(config.as_deref())?, &username).await,
            Command::Keys {
                command: KeysCommand::Rotate { config },
            } => node::rotate_keys(load(config.as_deref())?).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: Option<&std::path::Path>) -> Result<Config, StartError> {
    match path {
        Some(path) => Ok(Config::load(path)?),
        None => Ok(Config::default()),
    }
}
