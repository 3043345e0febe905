//! Checking who someone is, without letting that check be turned against the server:
//!
//! - argon2 runs on the bounded [`Passwords`] pool;
//! - a successful check is remembered for [`VERIFIED_TTL`] under an HMAC of the credentials and
//!   the stored hash, so a client that sends Basic credentials with every REST call pays argon2
//!   once a minute, not per call (a changed password changes the key);
//! - failures per client address slow down, then refuse, further attempts
//!   ([`tollgate_guard::FailureGuard`]); failures per username slow down further attempts at
//!   that name, whether or not such a user exists;
//! - failures per user lock the account ([`LockPolicy`], WSO2's account locking, counted in the
//!   shared database so every node and `tollgate users unlock` see it). Each check reserves an
//!   attempt *before* argon2 runs, so concurrent guesses cannot all slip through before the
//!   first failures are counted, and a correct password cannot lift a lock set meanwhile;
//! - an unknown user costs as much as a known one (a decoy hash is checked), so timing does not
//!   tell which usernames exist.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::hmac;
use tollgate_guard::{FailureGuard, SourceKey};
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

/// Failures per username: each further attempt at the name waits (0.25 s doubling, at most 2 s
/// from the third failure on); never refused (that is what account locking is for).
const NAMES: tollgate_guard::FailurePolicy = tollgate_guard::FailurePolicy {
    slow_after: 2,
    first_delay: Duration::from_millis(250),
    max_delay: Duration::from_secs(2),
    refuse_after: u32::MAX,
    refuse_for: Duration::from_secs(1),
    window: Duration::from_secs(600),
    max_keys: 65_536,
};

/// The credential checks of one control plane.
pub struct Logins {
    passwords: Arc<Passwords>,
    sources: Arc<FailureGuard<SourceKey>>,
    names: FailureGuard<String>,
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
            names: FailureGuard::new(NAMES),
            locking,
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
            mac,
        }
    }

    pub(crate) async fn hash_password(&self, password: &str) -> Result<String> {
        self.passwords.hash(password).await
    }

    /// Waits out or refuses an attempt from `source` per its failures so far.
    pub(crate) async fn admit_source(&self, source: Option<IpAddr>) -> Result<()> {
        let Some(source) = source else { return Ok(()) };
        self.sources
            .wait_turn(&SourceKey::from(source))
            .await
            .map_err(|left| KeyManagerError::TooManyAttempts {
                retry_after_secs: left.as_secs().max(1),
            })
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
        // Names are never refused, only slowed.
        let _ = self.names.wait_turn(&username.to_string()).await;
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
            self.failed(source, username);
            return Ok(None);
        };
        let now = tollgate_model::now_millis();
        let locked = |until: i64| KeyManagerError::AccountLocked {
            retry_after_secs: (until != i64::MAX).then(|| ((until - now) / 1000).max(1) as u64),
        };
        // An administrator's lock (until unlocked) holds whether or not failed logins lock.
        if (self.locking.enabled && user.locked_until > now) || user.locked_until == i64::MAX {
            self.failed(source, username);
            return Err(locked(user.locked_until));
        }
        let key = self.verified_key(&user, password);
        if self
            .verified
            .get(&key)
            .is_some_and(|until| until > Instant::now())
        {
            return Ok(Some(user));
        }
        // Reserve the attempt before checking, so concurrent guesses are counted too.
        let attempt = if self.locking.enabled {
            let allowed = self.locking.allowed_failed_attempts as i64;
            match store.reserve_login_attempt(&user.id, allowed, now).await? {
                Some(attempt) => Some(attempt),
                // Locked, or every remaining attempt is being checked right now.
                None => return Err(locked(now + 1000)),
            }
        } else {
            None
        };
        let matches = match self.passwords.verify(password, &user.password_hash).await {
            Ok(matches) => matches,
            Err(busy) => {
                if attempt.is_some() {
                    store.release_login_attempt(&user.id).await?;
                }
                return Err(busy);
            }
        };
        if matches {
            if attempt.is_some() && !store.settle_login_success(&user.id, now).await? {
                return Err(locked(now + 1000));
            }
            self.verified.insert(key, Instant::now() + VERIFIED_TTL);
            self.names.succeeded(&username.to_string());
            return Ok(Some(user));
        }
        self.failed(source, username);
        if attempt == Some(self.locking.allowed_failed_attempts as i64) {
            let until = match self.locking.unlock_after {
                Some(after) => now.saturating_add(after.as_millis() as i64),
                None => i64::MAX,
            };
            store.lock_user(&user.id, until).await?;
            tracing::warn!(user = ?username, "account locked after too many failed logins");
        }
        Ok(None)
    }

    fn failed(&self, source: Option<IpAddr>, username: &str) {
        self.source_failed(source);
        self.names.failed(username.to_string());
    }
}
