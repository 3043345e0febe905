use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;
use tollgate_model::{ApplyOutcome, EventEnvelope, RuntimeData, Snapshot};

use crate::{Gateway, RuntimeState};

/// Where a gateway gets its state: a full snapshot, and the events after it.
pub trait StateFeed: Send + Sync + 'static {
    /// Events from now on. Subscribe before taking the snapshot, so nothing falls in between.
    fn subscribe(&self) -> Receiver<Arc<EventEnvelope>>;
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Result<Snapshot, String>> + Send + '_>>;
}

/// Keeps a gateway's runtime state current: loads a snapshot, applies events in order, and
/// reloads on a gap, a new epoch or a lagging subscription.
pub struct Synchronizer {
    gateway: Arc<Gateway>,
    feed: Arc<dyn StateFeed>,
    environments: Vec<String>,
}

enum Next {
    Reload,
    Stop,
}

impl Synchronizer {
    pub fn new(gateway: Arc<Gateway>, feed: Arc<dyn StateFeed>, environments: Vec<String>) -> Self {
        Synchronizer {
            gateway,
            feed,
            environments,
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let events = self.feed.subscribe();
            let snapshot = tokio::select! {
                _ = shutdown.cancelled() => return,
                s = self.feed.snapshot() => s,
            };
            let snapshot = match snapshot {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(error = %err, retry_in = ?backoff, "cannot load gateway state");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            let mut data = RuntimeData::from_snapshot(&snapshot, self.environments.clone());
            self.publish(&data);
            tracing::info!(
                seq = data.seq,
                apis = data.apis.len(),
                "gateway state loaded"
            );
            match self.follow(&mut data, events, &shutdown).await {
                Next::Reload => continue,
                Next::Stop => return,
            }
        }
    }

    async fn follow(
        &self,
        data: &mut RuntimeData,
        mut events: Receiver<Arc<EventEnvelope>>,
        shutdown: &CancellationToken,
    ) -> Next {
        loop {
            let received = tokio::select! {
                _ = shutdown.cancelled() => return Next::Stop,
                r = events.recv() => r,
            };
            let mut changed = false;
            let mut pending = Some(received);
            // Apply everything already queued before rebuilding the indexes once.
            while let Some(received) = pending.take() {
                match received {
                    Ok(envelope) => match data.apply_envelope(&envelope) {
                        ApplyOutcome::Applied => changed = true,
                        ApplyOutcome::Stale => {}
                        outcome @ (ApplyOutcome::Gap { .. } | ApplyOutcome::NewEpoch) => {
                            tracing::info!(?outcome, "event stream broken; reloading state");
                            return Next::Reload;
                        }
                    },
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "fell behind the event hub; reloading state");
                        return Next::Reload;
                    }
                    Err(RecvError::Closed) => return Next::Stop,
                }
                pending = match events.try_recv() {
                    Ok(e) => Some(Ok(e)),
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                        Some(Err(RecvError::Lagged(n)))
                    }
                    Err(_) => None,
                };
            }
            if changed {
                self.publish(data);
            }
        }
    }

    fn publish(&self, data: &RuntimeData) {
        self.gateway.install(RuntimeState::build(data));
    }
}
