//! Request hits: what each request leaves behind for throttling, aggregated per key and window
//! and sent to the traffic manager in batches, off the request path.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tollgate_model::wire::ThrottleHit;
use tollgate_model::PolicyLevel;

use crate::sync::StateFeed;

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

/// Aggregates hits and hands a batch to the feed every [`FLUSH_INTERVAL`]; flushes what is left
/// on shutdown.
pub async fn report(
    mut hits: mpsc::Receiver<Hit>,
    feed: Arc<dyn StateFeed>,
    shutdown: CancellationToken,
) {
    let mut pending: HashMap<(Arc<str>, i64), ThrottleHit> = HashMap::new();
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            hit = hits.recv() => match hit {
                Some(hit) => add(&mut pending, hit),
                None => break,
            },
            _ = tick.tick() => {
                if !pending.is_empty() {
                    feed.report_hits(pending.drain().map(|(_, h)| h).collect());
                }
            }
        }
    }
    while let Ok(hit) = hits.try_recv() {
        add(&mut pending, hit);
    }
    if !pending.is_empty() {
        feed.report_hits(pending.drain().map(|(_, h)| h).collect());
    }
}

fn add(pending: &mut HashMap<(Arc<str>, i64), ThrottleHit>, hit: Hit) {
    pending
        .entry((hit.key.clone(), hit.window_start))
        .or_insert_with(|| ThrottleHit {
            key: hit.key.to_string(),
            level: hit.level,
            policy: hit.policy.to_string(),
            window_start: hit.window_start,
            count: 0,
        })
        .count += 1;
}
