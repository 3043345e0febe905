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

/// One admitted request that counts against a limited policy.
#[derive(Debug, Clone)]
pub struct Hit {
    pub key: Arc<str>,
    pub level: PolicyLevel,
    pub policy: Arc<str>,
    pub window_start: i64,
}

/// How often hits are flushed to the traffic manager: the bound on how late a decision can be.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(10);
/// Distinct (key, window) pairs one stripe holds between flushes; beyond it hits are dropped
/// and counted, so memory stays bounded whatever the traffic.
const STRIPE_CAPACITY: usize = 100_000;
const STRIPES: usize = 16;

type Pending = HashMap<(Arc<str>, i64), ThrottleHit>;

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
                .map(|_| Mutex::new(HashMap::default()))
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
    pub fn record(&self, hit: &Hit) {
        let Ok(mut pending) = self.stripes[stripe_of_this_thread()].lock() else {
            return;
        };
        if let Some(entry) = pending.get_mut(&(hit.key.clone(), hit.window_start)) {
            entry.count += 1;
            return;
        }
        if pending.len() >= STRIPE_CAPACITY {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.insert(
            (hit.key.clone(), hit.window_start),
            ThrottleHit {
                key: hit.key.to_string(),
                level: hit.level,
                policy: hit.policy.to_string(),
                window_start: hit.window_start,
                count: 1,
            },
        );
    }

    /// Notes that a request for the key was refused for want of allowance: sends a hit of count 0
    /// with the next flush, which asks the traffic manager for a new share.
    pub fn record_demand(&self, hit: &Hit) {
        let Ok(mut pending) = self.stripes[stripe_of_this_thread()].lock() else {
            return;
        };
        if pending.len() < STRIPE_CAPACITY {
            pending
                .entry((hit.key.clone(), hit.window_start))
                .or_insert_with(|| ThrottleHit {
                    key: hit.key.to_string(),
                    level: hit.level,
                    policy: hit.policy.to_string(),
                    window_start: hit.window_start,
                    count: 0,
                });
        }
    }

    /// Takes every count gathered since the last call.
    pub fn take(&self) -> Vec<ThrottleHit> {
        let mut hits = Vec::new();
        for stripe in self.stripes.iter() {
            let taken = match stripe.lock() {
                Ok(mut pending) => std::mem::take(&mut *pending),
                Err(_) => continue,
            };
            hits.extend(taken.into_values());
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
