//! Checking who someone is, without letting that check be turned against the server:
//!
//! - argon2 runs on the bounded [`Passwords`] pool;
//! - a successful check is remembered for [`VERIFIED_TTL`] under an HMAC of the credentials and
//!   the stored hash, so a client that sends Basic credentials with every REST call pays argon2
//!   once a minute, not per call (a changed password changes the key);
//! - failures per client address slow down, then refuse, further attempts
//!   ([`tollgate_guard::FailureGuard`]); failures per user lock the account
//!   ([`LockPolicy`], WSO2's account locking, counted in the shared database so every node and
//!   `tollgate users unlock` see it);
//! - an unknown user costs as much as a known one (a decoy hash is checked), so timing does not
//!   tell which usernames exist.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::hmac;
use tollgate_guard::{Admission, FailureGuard, SourceKey};
use tollgate_store::{Store, UserRow};

use crate::passwords::DECOY_HASH;
use crate::{split_tenant, KeyManagerError, Passwords, Result};

/// How long a successful password check is remembered.
pub const VERIFIED_TTL: Duration = Duration::from_secs(60);
/// How many remembered checks at most.
const VERIFIED_CAPACITY: usize = 10_000;
/// Longest accepted username (WSO2's limit is 255 too).
const MAX_USERNAME: usize = 255;

/// WSO2's account locking (`[identity_mgt.account_locking]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    pub enabled: bool,
    /// Consecutive failed logins that lock the account.
    pub allowed_failed_attempts: u32,
    /// How long a lock lasts; `None` until an administrator unlocks the account.
    pub unlock_after: Option<Duration>,
}

impl Default for LockPolicy {
    fn default() -> Self {
        LockPolicy {
            enabled: true,
            allowed_failed_attempts: 5,
            unlock_after: Some(Duration::from_secs(300)),
        }
    }
}

/// The credential checks of one control plane.
pub struct Logins {
    passwords: Arc<Passwords>,
    sources: Arc<FailureGuard<SourceKey>>,
    locking: LockPolicy,
    verified: quick_cache::sync::Cache<[u8; 32], Instant>,
    /// Keys the remembered checks (random per process: nothing to steal from the cache).
    mac: hmac::Key,
}

impl Logins {
    pub fn new(
        passwords: Arc<Passwords>,
        sources: Arc<FailureGuard<SourceKey>>,
        locking: LockPolicy,
    ) -> Logins {
        let rng = ring::rand::SystemRandom::new();
        let mac = hmac::Key::generate(hmac::HMAC_SHA256, &rng).unwrap_or_else(|_| {
            // No system randomness: a key from the clock still keeps the cache's keys unguessable
            // to a remote client, who never sees them.
            let seed = format!("{:?}{:?}", Instant::now(), std::thread::current().id());
            hmac::Key::new(hmac::HMAC_SHA256, seed.as_bytes())
        });
        Logins {
            passwords,
            sources,
            locking,
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
            mac,
        }
    }

    pub fn passwords(&self) -> &Arc<Passwords> {
        &self.passwords
    }

    /// Waits out or refuses an attempt from `source` per its failures so far.
    pub(crate) async fn admit_source(&self, source: Option<IpAddr>) -> Result<()> {
        let Some(source) = source else { return Ok(()) };
        match self.sources.admit(&SourceKey::from(source)) {
            Admission::Allow => Ok(()),
            Admission::Delay(delay) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
            Admission::Refuse(left) => Err(KeyManagerError::TooManyAttempts {
                retry_after_secs: left.as_secs().max(1),
            }),
        }
    }

    pub(crate) fn source_failed(&self, source: Option<IpAddr>) {
        if let Some(source) = source {
            self.sources.failed(SourceKey::from(source));
        }
    }

    fn verified_key(&self, user: &UserRow, password: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.mac);
        for part in [
            user.tenant.as_bytes(),
            user.username.as_bytes(),
            user.password_hash.as_bytes(),
            password.as_bytes(),
        ] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(ctx.sign().as_ref());
        key
    }

    /// The user behind `username` if `password` is theirs.
    pub(crate) async fn authenticate(
        &self,
        store: &Store,
        username: &str,
        password: &str,
        source: Option<IpAddr>,
    ) -> Result<Option<UserRow>> {
        self.admit_source(source).await?;
        let valid_name = !username.is_empty()
            && username.len() <= MAX_USERNAME
            && !username.chars().any(|c| c.is_ascii_control());
        let (tenant, name) = split_tenant(username);
        let user = if valid_name {
            store.find_user(tenant, name).await?
        } else {
            None
        };
        let Some(user) = user else {
            self.passwords.verify(password, DECOY_HASH).await?;
            self.source_failed(source);
            return Ok(None);
        };
        let now = tollgate_model::now_millis();
        if self.locking.enabled && user.locked_until > now {
            self.source_failed(source);
            return Err(KeyManagerError::AccountLocked {
                retry_after_secs: (user.locked_until != i64::MAX)
                    .then(|| ((user.locked_until - now) / 1000).max(1) as u64),
            });
        }
        let key = self.verified_key(&user, password);
        if self
            .verified
            .get(&key)
            .is_some_and(|until| until > Instant::now())
        {
            return Ok(Some(user));
        }
        // A user with failures behind them waits a little longer for each check.
        if self.locking.enabled && user.failed_logins >= 2 {
            let delay = Duration::from_millis(250 * (user.failed_logins as u64 - 1).min(8));
            tokio::time::sleep(delay).await;
        }
        if self.passwords.verify(password, &user.password_hash).await? {
            self.verified.insert(key, Instant::now() + VERIFIED_TTL);
            if user.failed_logins > 0 || user.locked_until != 0 {
                store
                    .clear_failed_logins(&user.tenant, &user.username)
                    .await?;
            }
            return Ok(Some(user));
        }
        self.source_failed(source);
        if self.locking.enabled {
            let until = match self.locking.unlock_after {
                Some(after) => now.saturating_add(after.as_millis() as i64),
                None => i64::MAX,
            };
            let (_, locked_until) = store
                .record_failed_login(&user.id, self.locking.allowed_failed_attempts as i64, until)
                .await?;
            if locked_until > now && locked_until != user.locked_until {
                tracing::warn!(user = ?username, "account locked after too many failed logins");
            }
        }
        Ok(None)
    }
}
