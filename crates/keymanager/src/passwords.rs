//! Password hashing on a small pool of dedicated threads.
//!
//! An argon2 check takes ~20 ms and 19 MiB by design. Run one blocking task per login attempt and
//! a few dozen guessing clients take the process to gigabytes that glibc keeps afterwards. Here
//! each worker owns its argon2 memory and reuses it, so hashing uses `workers × 19 MiB` at most,
//! and gives it back once the checks stop; callers wait in a bounded queue and give up after
//! [`QUEUE_TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, Semaphore};

use crate::KeyManagerError;

/// How long a caller waits for a worker before being told the server is busy.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);
/// Checks waiting per worker, beyond the one it is doing.
const QUEUE_PER_WORKER: usize = 16;
/// How long a worker keeps its argon2 memory without a job.
const RELEASE_AFTER: Duration = Duration::from_secs(1);
/// The most memory a stored hash may ask for (a hash with more is treated as invalid, not run).
const MAX_M_COST_KIB: u32 = 64 * 1024;

enum Job {
    Verify {
        password: String,
        stored_hash: String,
        reply: oneshot::Sender<bool>,
    },
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, String>>,
    },
}

/// The password-hashing pool. Cheap to share (`Arc`).
pub struct Passwords {
    jobs: flume::Sender<Job>,
    /// Workers plus queue: at most this many checks are accepted at once.
    slots: Semaphore,
}

impl Passwords {
    /// A pool of `workers` threads (one per core is right: the work is pure CPU).
    pub fn start(workers: usize) -> Arc<Passwords> {
        let workers = workers.max(1);
        let (sender, receiver) = flume::unbounded::<Job>();
        for i in 0..workers {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&receiver));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password-hashing thread");
            }
        }
        Arc::new(Passwords {
            jobs: sender,
            slots: Semaphore::new(workers * (1 + QUEUE_PER_WORKER)),
        })
    }

    async fn run<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<T>) -> Job,
    ) -> Result<T, KeyManagerError> {
        let _slot = tokio::time::timeout(QUEUE_TIMEOUT, self.slots.acquire())
            .await
            .map_err(|_| KeyManagerError::Busy)?
            .map_err(|_| KeyManagerError::Busy)?;
        let (reply, answer) = oneshot::channel();
        // Unbounded in the channel, bounded by the slots taken above.
        self.jobs
            .send(job(reply))
            .map_err(|_| KeyManagerError::Busy)?;
        answer.await.map_err(|_| KeyManagerError::Busy)
    }

    /// Whether `password` matches the stored PHC string. `Err(Busy)` when no worker became
    /// free in time.
    pub async fn verify(&self, password: &str, stored_hash: &str) -> Result<bool, KeyManagerError> {
        self.run(|reply| Job::Verify {
            password: password.to_string(),
            stored_hash: stored_hash.to_string(),
            reply,
        })
        .await
    }

    /// Hashes a new password (argon2id, WSO2-independent PHC string).
    pub async fn hash(&self, password: &str) -> Result<String, KeyManagerError> {
        self.run(|reply| Job::Hash {
            password: password.to_string(),
            reply,
        })
        .await?
        .map_err(KeyManagerError::Crypto)
    }
}

/// A worker: takes jobs until the pool is dropped, with one argon2 memory it reuses while jobs
/// keep coming and gives back after [`RELEASE_AFTER`] without one.
fn work(receiver: &flume::Receiver<Job>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = if memory.is_empty() {
            receiver.recv().map_err(|_| ())
        } else {
            match receiver.recv_timeout(RELEASE_AFTER) {
                Ok(job) => Ok(job),
                Err(flume::RecvTimeoutError::Timeout) => {
                    memory = Vec::new();
                    tollgate_guard::release_freed_memory();
                    continue;
                }
                Err(flume::RecvTimeoutError::Disconnected) => Err(()),
            }
        };
        match job {
            Ok(Job::Verify {
                password,
                stored_hash,
                reply,
            }) => {
                // A caller that gave up (its client went away) costs nothing more.
                if !reply.is_closed() {
                    let _ = reply.send(verify_with(&mut memory, &password, &stored_hash));
                }
            }
            Ok(Job::Hash { password, reply }) => {
                if !reply.is_closed() {
                    let _ = reply.send(hash_with(&mut memory, &password));
                }
            }
            Err(_) => return,
        }
    }
}

fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    &mut memory[..needed]
}

fn verify_with(memory: &mut Vec<Block>, password: &str, stored_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let Some(expected) = parsed.hash else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST_KIB {
        tracing::warn!("a stored password hash asks for more memory than allowed; refused");
        return false;
    }
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Some(salt) = parsed.salt else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    if argon2
        .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks(memory, &params))
        .is_err()
    {
        return false;
    }
    // Output's equality is constant-time.
    Output::new(out).is_ok_and(|computed| computed == expected)
}

fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String, String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_raw,
            &mut out,
            blocks(memory, &params),
        )
        .map_err(|e| e.to_string())?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e: argon2::password_hash::Error| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(hash.to_string())
}

/// A hash of a password nobody has, checked for unknown users so that their logins take as long
/// as known users' (no user enumeration by timing).
pub(crate) const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$3Z2yQ0r1b0xJc2Ryb3B3ZQ$0rF3Rj2oK3W4xq5n7y9bGg0kT3qX1hL5pD8mE2sV4aU";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_with_reused_memory_and_match_the_argon2_crate() {
        let pool = Passwords::start(2);
        let hash = pool.hash("correct horse").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(pool.verify("correct horse", &hash).await.unwrap());
        assert!(!pool.verify("wrong horse", &hash).await.unwrap());
        // A hash made by the argon2 crate's own API (as stored before this pool existed).
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let legacy = Argon2::default()
            .hash_password(b"legacy", &salt)
            .unwrap()
            .to_string();
        assert!(pool.verify("legacy", &legacy).await.unwrap());
        assert!(!pool.verify("legacy", "not a hash").await.unwrap());
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!pool.verify("anything", DECOY_HASH).await.unwrap());
    }

    #[tokio::test]
    async fn a_flood_of_checks_is_queued_and_bounded() {
        let pool = Passwords::start(1);
        let hash = pool.hash("pw").await.unwrap();
        let checks: Vec<_> = (0..40)
            .map(|_| {
                let (pool, hash) = (pool.clone(), hash.clone());
                tokio::spawn(async move { pool.verify("pw", &hash).await })
            })
            .collect();
        let mut busy = 0;
        let mut ok = 0;
        for check in checks {
            match check.await.unwrap() {
                Ok(true) => ok += 1,
                Err(KeyManagerError::Busy) => busy += 1,
                other => panic!("{other:?}"),
            }
        }
        // One worker and 16 queue places: 17 at once; the rest wait their turn (or, on a very
        // slow machine, are told the server is busy).
        assert_eq!(ok + busy, 40);
        assert!(ok >= 17, "{ok} {busy}");
    }
}
