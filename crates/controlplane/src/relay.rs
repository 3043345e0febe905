use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tollgate_hublink::{Backoff, Link, LinkError, NodeCredential};
use tollgate_model::wire::{Frame, FrameBody, PUBLISH_PATH};
use tollgate_model::EventEnvelope;
use tollgate_store::{Store, StoreError};
use tollgate_traffic::EventHub;

/// Reads the outbox in order and delivers each event to an event hub.
///
/// It waits on the store's commit watermark ([`Store::outbox_watermark`]): a commit of this
/// process that wrote events wakes every relay at once. Events other processes commit to the
/// same database are found by a poll every [`OTHER_WRITERS_POLL`]. A hub in this
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

/// How often a relay reads the outbox unprompted. The watermark tells of commits made through
/// this process's store only; other processes write to the same outbox too — another
/// control-plane node sharing the database, `tollgate keys rotate` — and their events reach this
/// relay (and its hub's gateways) by this poll, at most this long after they commit. One cheap
/// indexed query per interval; kept at the second the relay always allowed them.
const OTHER_WRITERS_POLL: Duration = Duration::from_secs(1);

/// Waits until the outbox may hold events after `relayed`: this process committed one (the
/// watermark passed `relayed`), or [`OTHER_WRITERS_POLL`] went by (another process may have).
/// False on shutdown.
async fn wait(
    watermark: &mut watch::Receiver<i64>,
    relayed: i64,
    shutdown: &CancellationToken,
) -> bool {
    let committed_here = async {
        if watermark
            .wait_for(|&committed| committed > relayed)
            .await
            .is_err()
        {
            // The store is gone (never while this relay holds it): only the poll is left.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = committed_here => true,
        _ = tokio::time::sleep(OTHER_WRITERS_POLL) => true,
    }
}

/// Waits `delay` (or shutdown); false on shutdown.
async fn pause(delay: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(delay) => true,
    }
}

async fn relay_in_process(
    store: Store,
    hub: Arc<EventHub>,
    mut last: i64,
    shutdown: CancellationToken,
) {
    let mut watermark = store.outbox_watermark();
    loop {
        // Drain first, so events committed while we were starting are not left waiting.
        let drained = loop {
            match store.events_after(last, BATCH).await {
                Ok(events) => {
                    let n = events.len() as i64;
                    for envelope in events {
                        last = envelope.seq;
                        hub.publish(Arc::new(envelope));
                    }
                    if n < BATCH {
                        break true;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read the outbox; will retry");
                    break false;
                }
            }
        };
        let go_on = if drained {
            wait(&mut watermark, last, &shutdown).await
        } else {
            // Not on the watermark: it may be past `last` already and would not wait at all.
            pause(OTHER_WRITERS_POLL, &shutdown).await
        };
        if !go_on {
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
    let mut watermark = store.outbox_watermark();
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
            if !wait(&mut watermark, last, shutdown).await {
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

#[cfg(test)]
mod tests {
    use tollgate_model::wire::FeedItem;
    use tollgate_store::{ApplicationRow, Change};

    use super::*;

    fn app(id: &str) -> ApplicationRow {
        ApplicationRow {
            id: id.into(),
            tenant: tollgate_model::SUPER_TENANT.into(),
            name: id.into(),
            owner: "alice".into(),
            throttling_policy: "Unlimited".into(),
            description: String::new(),
            token_type: tollgate_model::TokenType::Jwt,
            status: tollgate_model::ApplicationStatus::Approved,
            attributes: serde_json::json!({}),
            created_time: 1,
            updated_time: 1,
        }
    }

    async fn create(store: &Store, id: &str) {
        let mut tx = store.begin().await.unwrap();
        tx.apply(&Change::CreateApplication(app(id))).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn next_seq(events: &mut tokio::sync::broadcast::Receiver<FeedItem>) -> i64 {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(FeedItem::Event(envelope))) => envelope.seq,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn events_of_this_process_and_of_others_reach_the_hub() {
        let dir = tempfile::tempdir().unwrap();
        let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        let store = Store::open(&url("apim.db"), &url("shared.db"))
            .await
            .unwrap();
        let hub = Arc::new(EventHub::new());
        let mut events = hub.subscribe();
        let shutdown = CancellationToken::new();
        let relay = OutboxRelay::in_process(store.clone(), hub.clone())
            .await
            .unwrap();
        let running = tokio::spawn(relay.run(shutdown.clone()));

        // Committed here: the watermark wakes the relay.
        create(&store, "a1").await;
        assert_eq!(next_seq(&mut events).await, 1);
        create(&store, "a2").await;
        assert_eq!(next_seq(&mut events).await, 2);

        // Committed by another process sharing the database (another control-plane node): the
        // watermark of this one does not move; the poll finds it.
        let other = Store::open(&url("apim.db"), &url("shared.db"))
            .await
            .unwrap();
        create(&other, "a3").await;
        assert_eq!(next_seq(&mut events).await, 3);

        shutdown.cancel();
        running.await.unwrap();
        other.close().await;
        store.close().await;
    }
}
