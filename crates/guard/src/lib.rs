//! Defences shared by every component that faces clients:
//!
//! - [`ClientAddr`]: the peer address a listener puts on each request, so credential checks
//!   can tell sources apart;
//! - [`FailureGuard`]: failed credential checks per key (a client address, a user) slow the next
//!   attempts down, then refuse them for a while — in bounded memory;
//! - [`Every`]: a warning that an attacker can trigger at will (refused connections, accept
//!   errors) is written at most once per period, with the count of those left out;
//! - [`lock`]: the one way to lock a `std::sync::Mutex`, and so the one policy for a poisoned
//!   one (carry on with its data, say so in the log);
//! - [`release_freed_memory`]: after a burst (a snapshot loaded, a flood of password checks), the
//!   heap glibc kept is handed back to the operating system.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The address of the client that sent a request (a request extension set by the listener).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Set beside [`ClientAddr`] when the request came over TLS (cookies are then `Secure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverTls;

/// The key a client address is limited by: the address itself for IPv4, its /64 network for
/// IPv6 (one host commonly holds a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceKey(u128);

impl From<IpAddr> for SourceKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => SourceKey(u32::from(v4) as u128),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SourceKey(u32::from(v4) as u128),
                None => SourceKey((u128::from(v6) & !((1u128 << 64) - 1)) | (1 << 32)),
            },
        }
    }
}

/// How failures are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePolicy {
    /// Failures within `window` before attempts are slowed down.
    pub slow_after: u32,
    /// The first delay; it doubles with every further failure, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Failures within `window` after which attempts are refused for `refuse_for`.
    pub refuse_after: u32,
    pub refuse_for: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// Keys tracked at most (memory bound); when full, every key not refused right now is
    /// forgotten.
    pub max_keys: usize,
}

impl FailurePolicy {
    /// Client addresses: slowed after 5 failures, refused for 10 minutes after 20.
    pub const SOURCES: FailurePolicy = FailurePolicy {
        slow_after: 5,
        first_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(4),
        refuse_after: 20,
        refuse_for: Duration::from_secs(600),
        window: Duration::from_secs(600),
        max_keys: 65_536,
    };
}

/// What to do with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allow,
    /// Check the credential after this long (the failures so far make guessing slow).
    Delay(Duration),
    /// Refuse without checking, for this much longer.
    Refuse(Duration),
}

struct Entry {
    failures: u32,
    /// When the current run of failures began.
    since: Instant,
    refused_until: Option<Instant>,
}

/// Failed attempts per key. Off when built with [`FailureGuard::disabled`].
pub struct FailureGuard<K> {
    policy: Option<FailurePolicy>,
    entries: Mutex<HashMap<K, Entry>>,
}

impl<K: Hash + Eq + Clone> FailureGuard<K> {
    pub fn new(policy: FailurePolicy) -> Self {
        FailureGuard {
            policy: Some(policy),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// A guard that allows everything (configuration switched it off).
    pub fn disabled() -> Self {
        FailureGuard {
            policy: None,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Entry>> {
        // Every critical section leaves the map consistent; a panic elsewhere cannot break it.
        lock(&self.entries)
    }

    /// Whether an attempt for `key` may be checked now.
    pub fn admit(&self, key: &K) -> Admission {
        self.admit_at(key, Instant::now())
    }

    fn admit_at(&self, key: &K, now: Instant) -> Admission {
        let Some(policy) = self.policy else {
            return Admission::Allow;
        };
        let entries = self.lock();
        let Some(entry) = entries.get(key) else {
            return Admission::Allow;
        };
        match entry.refused_until {
            Some(until) if until > now => return Admission::Refuse(until - now),
            // A refusal served wipes the slate (the next failure starts a new count).
            Some(_) => return Admission::Allow,
            None => {}
        }
        if now.duration_since(entry.since) > policy.window || entry.failures < policy.slow_after {
            return Admission::Allow;
        }
        let doublings = (entry.failures - policy.slow_after).min(16);
        Admission::Delay(
            policy
                .first_delay
                .saturating_mul(1 << doublings)
                .min(policy.max_delay),
        )
    }

    /// Waits out the delay `key`'s failures call for; `Err(left)` when it is refused for `left`.
    pub async fn wait_turn(&self, key: &K) -> Result<(), Duration> {
        match self.admit(key) {
            Admission::Allow => Ok(()),
            Admission::Delay(delay) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
            Admission::Refuse(left) => Err(left),
        }
    }

    /// Records a failed attempt.
    pub fn failed(&self, key: K) {
        self.failed_at(key, Instant::now())
    }

    fn failed_at(&self, key: K, now: Instant) {
        let Some(policy) = self.policy else { return };
        let mut entries = self.lock();
        if !entries.contains_key(&key) && entries.len() >= policy.max_keys {
            // Full: keep only the keys refused now (one pass, then room for many more), so a
            // flood of new keys costs a scan per `max_keys` failures, not per failure.
            entries.retain(|_, e| e.refused_until.is_some_and(|until| until > now));
            if entries.len() >= policy.max_keys {
                return;
            }
        }
        let entry = entries.entry(key).or_insert(Entry {
            failures: 0,
            since: now,
            refused_until: None,
        });
        if now.duration_since(entry.since) > policy.window
            || entry.refused_until.is_some_and(|until| until <= now)
        {
            *entry = Entry {
                failures: 0,
                since: now,
                refused_until: None,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures >= policy.refuse_after {
            entry.refused_until = Some(now + policy.refuse_for);
        }
    }

    /// Forgets `key`'s failures (a user who got their password right).
    pub fn succeeded(&self, key: &K) {
        if self.policy.is_some() {
            self.lock().remove(key);
        }
    }

    /// Forgets every key (an administrator's unlock).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn tracked(&self) -> usize {
        self.lock().len()
    }
}

/// Lets a repeated event through at most once per `period`; counts the ones held back.
pub struct Every {
    period_millis: u64,
    origin: Instant,
    /// Milliseconds since `origin` at which the event last passed, plus one (0: never).
    last: AtomicU64,
    held_back: AtomicU64,
}

impl Every {
    pub fn new(period: Duration) -> Self {
        Every {
            period_millis: period.as_millis().max(1) as u64,
            origin: Instant::now(),
            last: AtomicU64::new(0),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when the event may be logged now, `n` being how many were held back since the
    /// last one; `None` when it should be left out.
    pub fn ready(&self) -> Option<u64> {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now < last + self.period_millis {
            self.held_back.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if self
            .last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            self.held_back.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.held_back.swap(0, Ordering::Relaxed))
    }
}

/// Locks `mutex`, also when a thread panicked while it held it (which poisons a
/// `std::sync::Mutex`): the workspace's one policy for a poisoned lock is to carry on with the
/// data as the panic left it, never to skip the work silently (a hit counter that stopped
/// counting would switch throttling off without a word). Every critical section guarded this
/// way leaves its data consistent wherever it can panic, so the data is usable; the poisoning is
/// logged — at most once a minute, with the count of those left out — and cleared, so the next
/// lock takes the ordinary path again.
///
/// Costs nothing over `mutex.lock()` when the mutex is not poisoned.
#[inline]
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => recover(mutex, poisoned),
    }
}

#[cold]
#[inline(never)]
fn recover<'m, T: ?Sized>(
    mutex: &'m Mutex<T>,
    poisoned: PoisonError<MutexGuard<'m, T>>,
) -> MutexGuard<'m, T> {
    static POISONINGS: LazyLock<Every> = LazyLock::new(|| Every::new(Duration::from_secs(60)));
    mutex.clear_poison();
    if let Some(held_back) = POISONINGS.ready() {
        tracing::warn!(
            data = std::any::type_name::<T>(),
            held_back,
            "a lock was held by a thread that panicked; carrying on with its data"
        );
    }
    poisoned.into_inner()
}

/// Hands the heap freed after a burst back to the operating system: glibc keeps freed memory in
/// its arenas (and serves large blocks from them once one has been freed), so a process that
/// once needed hundreds of megabytes would keep them.
/// Whether two secrets are equal, in time that does not depend on where they differ: the one
/// comparison of credentials (client secrets, node credentials, hashes of tokens) everywhere.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only walks glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: FailurePolicy = FailurePolicy {
        slow_after: 2,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(300),
        refuse_after: 5,
        refuse_for: Duration::from_secs(60),
        window: Duration::from_secs(120),
        max_keys: 3,
    };

    #[test]
    fn failures_slow_down_then_refuse_then_expire() {
        let guard = FailureGuard::new(POLICY);
        let t = Instant::now();
        assert_eq!(guard.admit_at(&"a", t), Admission::Allow);
        guard.failed_at("a", t);
        assert_eq!(guard.admit_at(&"a", t), Admission::Allow);
        guard.failed_at("a", t);
        assert_eq!(
            guard.admit_at(&"a", t),
            Admission::Delay(Duration::from_millis(100))
        );
        guard.failed_at("a", t);
        assert_eq!(
            guard.admit_at(&"a", t),
            Admission::Delay(Duration::from_millis(200))
        );
        guard.failed_at("a", t);
        assert_eq!(
            guard.admit_at(&"a", t),
            Admission::Delay(Duration::from_millis(300))
        );
        guard.failed_at("a", t);
        assert_eq!(
            guard.admit_at(&"a", t + Duration::from_secs(10)),
            Admission::Refuse(Duration::from_secs(50))
        );
        // Other keys are unaffected; once the refusal ends, the key starts afresh.
        assert_eq!(guard.admit_at(&"b", t), Admission::Allow);
        let later = t + Duration::from_secs(61);
        assert_eq!(guard.admit_at(&"a", later), Admission::Allow);
        guard.failed_at("a", later);
        assert_eq!(guard.admit_at(&"a", later), Admission::Allow);
        guard.succeeded(&"a");
        assert_eq!(guard.tracked(), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let guard = FailureGuard::new(POLICY);
        let t = Instant::now();
        for key in 0..100 {
            guard.failed_at(key, t);
        }
        assert!(guard.tracked() <= 3);
        // Keys refused right now survive a full map; the others make room.
        for _ in 0..5 {
            guard.failed_at(7, t);
        }
        for key in 100..200 {
            guard.failed_at(key, t);
        }
        assert!(matches!(guard.admit_at(&7, t), Admission::Refuse(_)));
        assert!(guard.tracked() <= 3);
    }

    #[test]
    fn disabled_allows_everything() {
        let guard = FailureGuard::disabled();
        for _ in 0..100 {
            guard.failed("x");
        }
        assert_eq!(guard.admit(&"x"), Admission::Allow);
    }

    #[test]
    fn ipv6_hosts_share_their_network() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        let c: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(SourceKey::from(a), SourceKey::from(b));
        assert_ne!(SourceKey::from(a), SourceKey::from(c));
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(SourceKey::from(v4), SourceKey::from(mapped));
    }

    #[test]
    fn a_poisoned_mutex_still_yields_its_data() {
        let mutex = std::sync::Arc::new(Mutex::new(vec![1]));
        let held = mutex.clone();
        let panicked = std::thread::spawn(move || {
            let mut data = lock(&held);
            data.push(2);
            panic!("a panic while the lock is held (expected by this test)");
        })
        .join();
        assert!(panicked.is_err());
        assert!(mutex.is_poisoned());
        // The data is there as the panic left it, and the mutex works as before.
        assert_eq!(*lock(&mutex), [1, 2]);
        assert!(!mutex.is_poisoned());
        lock(&mutex).push(3);
        assert_eq!(*lock(&mutex), [1, 2, 3]);
    }

    #[test]
    fn every_lets_one_through_per_period() {
        let every = Every::new(Duration::from_secs(3600));
        assert_eq!(every.ready(), Some(0));
        assert_eq!(every.ready(), None);
        assert_eq!(every.ready(), None);
        let every = Every::new(Duration::from_millis(1));
        assert_eq!(every.ready(), Some(0));
        std::thread::sleep(Duration::from_millis(5));
        assert!(every.ready().is_some());
    }
}
