use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tollgate_hublink::{Backoff, Link, LinkError, NodeCredential};
use tollgate_model::wire::{Frame, FrameBody, PUBLISH_PATH};
use tollgate_model::EventEnvelope;
use tollgate_store::{Store, StoreError};
use tollgate_traffic::EventHub;

/// Reads the outbox in order and delivers each event to an event hub.
///
/// It wakes when a commit signals new events and, as a safety net, every second. A hub in this
/// process gets events directly; a remote hub gets them over its publish WebSocket and
/// acknowledges them, and the acknowledged position is stored per hub, so a control plane that
/// restarts, or a hub that was down, resumes where it stopped: the outbox holds what is owed.
pub struct OutboxRelay {
    store: Store,
    target: Target,
}

enum Target {
    InProcess {
        hub: Arc<EventHub>,
        last: i64,
    },
    Remote {
        url: String,
        credential: NodeCredential,
        tls: Option<Arc<rustls::ClientConfig>>,
    },
}

const BATCH: i64 = 500;

/// Why a relay's link to a remote hub ended (it reconnects with backoff; the outbox keeps what
/// is owed).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The WebSocket failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The hub's first frame was not its hello.
    #[error("expected hello, got {0:?}")]
    NoHello(Box<FrameBody>),
    #[error("closed before hello")]
    ClosedBeforeHello,
    #[error("closed")]
    Closed,
    /// Reading the outbox or storing the hub's position failed.
    #[error("the outbox: {0}")]
    Store(#[from] StoreError),
}

impl OutboxRelay {
    /// A relay to a hub in this process, starting after the newest event already in the outbox:
    /// the hub is as new as this process, and whoever needs older state reads a snapshot.
    pub async fn in_process(store: Store, hub: Arc<EventHub>) -> Result<Self, StoreError> {
        let last = store.last_event_seq().await?;
        Ok(OutboxRelay {
            store,
            target: Target::InProcess { hub, last },
        })
    }

    /// A relay to the hub at `url` (`ws://…` or `wss://…`).
    pub fn remote(
        store: Store,
        url: String,
        credential: NodeCredential,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Self {
        OutboxRelay {
            store,
            target: Target::Remote {
                url,
                credential,
                tls,
            },
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        match self.target {
            Target::InProcess { hub, last } => {
                relay_in_process(self.store, hub, last, shutdown).await
            }
            Target::Remote {
                url,
                credential,
                tls,
            } => relay_remote(self.store, url, credential, tls, shutdown).await,
        }
    }
}

/// Waits for new events (or a second, or shutdown); false on shutdown.
async fn wait(store: &Store, shutdown: &CancellationToken) -> bool {
    let signal = store.outbox_signal();
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = signal.notified() => true,
        _ = tokio::time::sleep(Duration::from_secs(1)) => true,
    }
}

async fn relay_in_process(
    store: Store,
    hub: Arc<EventHub>,
    mut last: i64,
    shutdown: CancellationToken,
) {
    loop {
        // Drain first, so events committed while we were starting are not left waiting.
        loop {
            match store.events_after(last, BATCH).await {
                Ok(events) => {
                    let n = events.len() as i64;
                    for envelope in events {
                        last = envelope.seq;
                        hub.publish(Arc::new(envelope));
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
        if !wait(&store, &shutdown).await {
            return;
        }
    }
}

async fn relay_remote(
    store: Store,
    url: String,
    credential: NodeCredential,
    tls: Option<Arc<rustls::ClientConfig>>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::default();
    loop {
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return,
            c = Link::connect(&url, PUBLISH_PATH, &credential, tls.as_ref()) => c,
        };
        match connected {
            Ok(mut link) => match deliver(&store, &url, &mut link, &mut backoff, &shutdown).await {
                Ok(()) => return,
                Err(reason) => {
                    tracing::warn!(hub = %url, %reason, "event hub link lost; the outbox keeps what is owed")
                }
            },
            Err(err) => {
                tracing::warn!(hub = %url, error = %err, "cannot reach the event hub; the outbox keeps what is owed")
            }
        }
        let delay = backoff.next_delay();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Sends what the hub has not acknowledged, batch by batch, until shutdown (`Ok`) or a link error.
async fn deliver(
    store: &Store,
    url: &str,
    link: &mut Link,
    backoff: &mut Backoff,
    shutdown: &CancellationToken,
) -> Result<(), RelayError> {
    match link.recv().await {
        Some(Ok(Frame {
            body: FrameBody::Hello { hub_id },
            ..
        })) => tracing::info!(hub = %url, %hub_id, "publishing to event hub"),
        Some(Ok(other)) => return Err(RelayError::NoHello(Box::new(other.body))),
        Some(Err(err)) => return Err(err.into()),
        None => return Err(RelayError::ClosedBeforeHello),
    }
    backoff.reset();
    let mut last = match store.relay_position(url).await? {
        Some(seq) => seq,
        // A hub never served before starts now: gateways take a snapshot when they connect.
        None => {
            let seq = store.last_event_seq().await?;
            store.set_relay_position(url, seq).await?;
            seq
        }
    };
    loop {
        let events: Vec<EventEnvelope> = store.events_after(last, BATCH).await?;
        if events.is_empty() {
            if !wait(store, shutdown).await {
                return Ok(());
            }
            continue;
        }
        let through = events.last().map(|e| e.seq).unwrap_or(last);
        for envelope in events {
            link.send(&Frame::new(FrameBody::Event {
                envelope: Box::new(envelope),
            }))
            .await?;
        }
        // The hub acknowledges in order; the last acknowledgement covers the batch.
        loop {
            match link.recv().await {
                Some(Ok(Frame {
                    body: FrameBody::Ack { seq },
                    ..
                })) => {
                    last = seq;
                    if seq >= through {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(err.into()),
                None => return Err(RelayError::Closed),
            }
        }
        store.set_relay_position(url, last).await?;
    }
}
