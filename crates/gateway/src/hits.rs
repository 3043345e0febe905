//! Request hits: what each admitted request leaves behind for throttling. The request path adds
//! one to a counter in a small per-thread map (no channel, no wake-up); every 10 ms the reporter
//! takes the maps and sends the counts, per key and window, to the traffic manager.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tollgate_model::wire::ThrottleHit;
use tollgate_model::PolicyLevel;

use crate::sync::StateFeed;
use crate::HashMap;

/// One admitted request that counts against a limited policy. Borrowed from the runtime state:
/// counting a hit clones no `Arc` (whose count every serving thread would write to).
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub key: &'a Arc<str>,
    pub level: PolicyLevel,
    pub policy: &'a Arc<str>,
    pub window_start: i64,
}

/// How often hits are flushed to the traffic manager: the bound on how late a decision can be.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(10);
/// Distinct (key, window) pairs one stripe holds between flushes; beyond it hits are dropped
/// and counted, so memory stays bounded whatever the traffic.
const STRIPE_CAPACITY: usize = 100_000;
const STRIPES: usize = 16;

/// Counts since the last flush: key → one count per window (rarely two: a window just ended).
#[derive(Default)]
struct Pending {
    counts: HashMap<Arc<str>, Vec<ThrottleHit>>,
    /// (key, window) pairs held.
    pairs: usize,
}

/// Counts hits between flushes, striped so request threads rarely meet on a lock (which no
/// configuration change ever holds).
pub struct HitCounter {
    stripes: Box<[Mutex<Pending>]>,
    dropped: std::sync::atomic::AtomicU64,
}

impl Default for HitCounter {
    fn default() -> Self {
        HitCounter {
            stripes: (0..STRIPES)
                .map(|_| Mutex::new(Pending::default()))
                .collect(),
            dropped: Default::default(),
        }
    }
}

fn stripe_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local!(static STRIPE: Cell<Option<usize>> = const { Cell::new(None) });
    STRIPE.with(|s| {
        *s.get().get_or_insert_with(|| {
            let stripe = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
            s.set(Some(stripe));
            stripe
        })
    })
}

impl HitCounter {
    pub fn record(&self, hit: Hit<'_>) {
        self.add(hit, 1);
    }

    /// Notes that a request for the key was refused for want of allowance: sends a hit of count 0
    /// with the next flush, which asks the traffic manager for a new share.
    pub fn record_demand(&self, hit: Hit<'_>) {
        self.add(hit, 0);
    }

    fn add(&self, hit: Hit<'_>, count: u64) {
        let mut pending = tollgate_guard::lock(&self.stripes[stripe_of_this_thread()]);
        if let Some(windows) = pending.counts.get_mut(&**hit.key) {
            if let Some(counted) = windows
                .iter_mut()
                .find(|h| h.window_start == hit.window_start)
            {
                counted.count += count;
                return;
            }
        }
        if pending.pairs >= STRIPE_CAPACITY {
            if count > 0 {
                self.dropped.fetch_add(count, Ordering::Relaxed);
            }
            return;
        }
        pending.pairs += 1;
        pending
            .counts
            .entry(hit.key.clone())
            .or_default()
            .push(ThrottleHit {
                key: hit.key.to_string(),
                level: hit.level,
                policy: hit.policy.to_string(),
                window_start: hit.window_start,
                count,
            });
    }

    /// Takes every count gathered since the last call.
    pub fn take(&self) -> Vec<ThrottleHit> {
        let mut hits = Vec::new();
        for stripe in self.stripes.iter() {
            let taken = std::mem::take(&mut *tollgate_guard::lock(stripe));
            hits.extend(taken.counts.into_values().flatten());
        }
        hits
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Sends the gathered hits to the feed every [`FLUSH_INTERVAL`], and once more at shutdown.
pub async fn report(
    counter: Arc<HitCounter>,
    feed: Arc<dyn StateFeed>,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let hits = counter.take();
        if !hits.is_empty() {
            feed.report_hits(hits);
        }
    }
    let hits = counter.take();
    if !hits.is_empty() {
        feed.report_hits(hits);
    }
}
