use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tollgate_store::Store;
use tollgate_traffic::EventHub;

/// Reads the outbox in order and publishes each event to the hub.
///
/// It wakes when a commit signals new events and, as a safety net, every second. Progress is
/// kept in memory: a gateway that misses events (for instance across a restart of this node)
/// sees a sequence gap or a new subscription and reloads its snapshot.
pub struct OutboxRelay {
    store: Store,
    hub: Arc<EventHub>,
    /// The last sequence handed to the hub.
    last: i64,
}

const BATCH: i64 = 500;

impl OutboxRelay {
    /// Starts after the newest event already in the outbox: whoever needs older state reads a snapshot.
    pub async fn new(store: Store, hub: Arc<EventHub>) -> Result<Self, tollgate_store::StoreError> {
        let last = store.last_event_seq().await?;
        Ok(OutboxRelay { store, hub, last })
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let signal = self.store.outbox_signal();
        let mut last = self.last;
        loop {
            // Drain first, so events committed while we were starting are not left waiting.
            loop {
                match self.store.events_after(last, BATCH).await {
                    Ok(events) => {
                        let n = events.len() as i64;
                        for envelope in events {
                            last = envelope.seq;
                            self.hub.publish(Arc::new(envelope));
                        }
                        if n < BATCH {
                            break;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot read the outbox; will retry");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = signal.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}
