//! The super admin account: its password comes from the configuration, from
//! `TOLLGATE_ADMIN_PASSWORD`, or — on a first start with neither — is generated and written to
//! `data/admin-password` (mode 0600). A well-known default is never accepted silently.

use std::path::Path;

use base64::Engine;
use tollgate_model::{scopes::roles, SUPER_TENANT};
use tollgate_store::Store;

use crate::config::Config;
use crate::error::StartError;

pub const PASSWORD_ENV: &str = "TOLLGATE_ADMIN_PASSWORD";
const WELL_KNOWN: &[&str] = &[
    "admin", "password", "changeme", "123456", "wso2", "tollgate",
];

pub async fn ensure_admin(
    config: &Config,
    store: &Store,
    passwords: &tollgate_keymanager::Passwords,
) -> Result<(), StartError> {
    let username = &config.super_admin.username;
    let configured = std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(|p| (p, PASSWORD_ENV))
        .or_else(|| {
            config
                .super_admin
                .password
                .clone()
                .map(|p| (p, "[super_admin] password"))
        });
    let existing = store
        .find_user(SUPER_TENANT, username)
        .await
        .map_err(StartError::AdminAccount)?;
    let password = match configured {
        Some((password, source)) => {
            if password.len() < 5 {
                return Err(StartError::AdminPasswordTooShort { setting: source });
            }
            if WELL_KNOWN.contains(&password.to_lowercase().as_str()) {
                tracing::warn!(
                    "{source}: the admin password is a well-known default; anyone who knows WSO2 or Tollgate can log in. Change it before exposing this node."
                );
            }
            // Skip the rehash when nothing changed (argon2 is slow by design).
            if let Some(user) = &existing {
                if passwords
                    .verify(&password, &user.password_hash)
                    .await
                    .map_err(StartError::AdminPassword)?
                {
                    return Ok(());
                }
            }
            password
        }
        None if existing.is_some() => return Ok(()),
        None => {
            let password = generate_password();
            write_password_file(&config.server.data_dir.join("admin-password"), &password)?;
            tracing::warn!(
                user = %username,
                password = %password,
                file = %config.server.data_dir.join("admin-password").display(),
                "generated the admin password (shown once; also saved in the file)"
            );
            password
        }
    };
    let hash = passwords
        .hash(&password)
        .await
        .map_err(StartError::AdminPassword)?;
    store
        .upsert_user(SUPER_TENANT, username, &hash, &[roles::ADMIN])
        .await
        .map_err(StartError::AdminAccount)
}

pub const KEYSTORE_PASSWORD_ENV: &str = "TOLLGATE_KEYSTORE_PASSWORD";
const KEYSTORE_PASSWORD_FILE: &str = "keystore-password";

/// The keystore password the signing keys are encrypted with: `TOLLGATE_KEYSTORE_PASSWORD`,
/// `[keystore.primary] password`, or one generated on first start into `data/keystore-password`
/// (mode 0600) — enough for one node; a cluster of control planes sets the same one everywhere.
pub fn keystore_vault(config: &Config) -> Result<tollgate_keymanager::Vault, StartError> {
    let primary = &config.keystore.primary;
    let configured = std::env::var(KEYSTORE_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| primary.password.clone().map(String::from));
    let password = match configured {
        Some(password) => password,
        None => {
            let path = config.server.data_dir.join(KEYSTORE_PASSWORD_FILE);
            match std::fs::read_to_string(&path) {
                Ok(existing) if !existing.trim().is_empty() => existing.trim().to_string(),
                _ => {
                    let password = generate_password();
                    write_password_file(&path, &password)?;
                    tracing::info!(file = %path.display(), "generated the keystore password that encrypts the token-signing keys; back it up with the database, or set [keystore.primary] password");
                    password
                }
            }
        }
    };
    Ok(tollgate_keymanager::Vault::new(
        password,
        primary.previous_password.clone().map(String::from),
    ))
}

fn generate_password() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn write_password_file(path: &Path, password: &str) -> Result<(), StartError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(password.as_bytes()))
        .map_err(|source| StartError::WriteFile {
            path: path.to_path_buf(),
            source,
        })
}
