use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;
use tollgate_hublink::Backoff;
use tollgate_model::wire::{FeedItem, IntrospectedToken, ThrottleHit};
use tollgate_model::{ApplyOutcome, RuntimeData, Snapshot};

use crate::state::Changes;
use crate::{Gateway, RuntimeState};

/// Why a [`StateFeed`] could not answer (a snapshot, an introspection). The synchronizer retries
/// with backoff; an introspection that fails is answered 503 (`900900`).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The HTTP client for the control plane could not be built.
    #[error("HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The control plane could not be reached (or did not answer in time).
    #[error("{url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The control plane answered with an error status (and this body).
    #[error("{url}: {status}{}", detail(body))]
    Refused {
        url: String,
        status: http::StatusCode,
        body: String,
    },
    /// The control plane's answer is not the `what` asked for.
    #[error("{url}: unreadable {what}: {source}")]
    Unreadable {
        url: String,
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The source in this process (the database, the key manager) failed.
    #[error(transparent)]
    Local(Box<dyn std::error::Error + Send + Sync>),
}

impl FeedError {
    /// A failure of a source in this process (an all-in-one node's store or key manager).
    pub fn local(err: impl std::error::Error + Send + Sync + 'static) -> FeedError {
        FeedError::Local(Box::new(err))
    }
}

fn detail(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// Where a gateway gets its state and sends its hits: the control plane's snapshot, the event
/// hub's events and decisions.
pub trait StateFeed: Send + Sync + 'static {
    /// Feed items from now on. Subscribe before taking the snapshot, so nothing falls in between.
    fn subscribe(&self) -> Receiver<FeedItem>;
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Result<Snapshot, FeedError>> + Send + '_>>;
    /// Hands a batch of request hits to the traffic manager(s); never blocks.
    fn report_hits(&self, hits: Vec<ThrottleHit>);
    /// Tells the control plane which outbox position the state has applied (called after every
    /// change and once a second; the feed decides how often to pass it on); never blocks.
    fn report_applied(&self, epoch: &str, seq: i64);
    /// Asks the key manager about an opaque access token: `Ok(None)` when it is not active
    /// (unknown, expired or revoked).
    fn introspect<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<IntrospectedToken>, FeedError>> + Send + 'a>>;
}

/// Keeps a gateway's runtime state current: loads a snapshot, applies events in order, reloads
/// on a gap, a new epoch, a lagging subscription or a (re)connected hub. With a state file, it
/// persists what it has and starts from it when the control plane cannot be reached.
pub struct Synchronizer {
    gateway: Arc<Gateway>,
    feed: Arc<dyn StateFeed>,
    environments: Vec<String>,
    state_file: Option<PathBuf>,
}

enum Next {
    Reload,
    Stop,
}

/// How often, at most, the state file is rewritten.
const PERSIST_EVERY: Duration = Duration::from_secs(1);

impl Synchronizer {
    pub fn new(gateway: Arc<Gateway>, feed: Arc<dyn StateFeed>, environments: Vec<String>) -> Self {
        Synchronizer {
            gateway,
            feed,
            environments,
            state_file: None,
        }
    }

    /// Persists the state to `path` and starts from it when the control plane is unreachable.
    pub fn with_state_file(mut self, path: PathBuf) -> Self {
        self.state_file = Some(path);
        self
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::default();
        let mut persisted = Persisted::default();
        loop {
            let events = self.feed.subscribe();
            let snapshot = tokio::select! {
                _ = shutdown.cancelled() => return,
                s = self.feed.snapshot() => s,
            };
            let snapshot = match snapshot {
                Ok(s) => s,
                Err(err) => {
                    let retry_in = backoff.next_delay();
                    tracing::warn!(error = %err, ?retry_in, "cannot load gateway state from the control plane");
                    if !self.gateway.is_ready() {
                        self.start_from_file().await;
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(retry_in) => {}
                    }
                    continue;
                }
            };
            backoff.reset();
            let mut data = RuntimeData::from_snapshot(snapshot, self.environments.clone());
            self.publish(&data, &Changes::everything());
            self.persist(&data, &mut persisted, true).await;
            self.feed.report_applied(&data.epoch, data.seq);
            tollgate_guard::release_freed_memory();
            tracing::info!(
                seq = data.seq,
                apis = data.apis.len(),
                "gateway state loaded"
            );
            match self
                .follow(&mut data, events, &shutdown, &mut persisted)
                .await
            {
                Next::Reload => continue,
                Next::Stop => {
                    self.persist(&data, &mut persisted, true).await;
                    return;
                }
            }
        }
    }

    async fn start_from_file(&self) {
        let Some(path) = &self.state_file else { return };
        let loaded = tokio::fs::read(path)
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Snapshot>(&bytes).ok());
        if let Some(snapshot) = loaded {
            let data = RuntimeData::from_snapshot(snapshot, self.environments.clone());
            self.publish(&data, &Changes::everything());
            tracing::warn!(path = %path.display(), seq = data.seq, "serving from the persisted state until the control plane answers");
        }
    }

    async fn follow(
        &self,
        data: &mut RuntimeData,
        mut feed: Receiver<FeedItem>,
        shutdown: &CancellationToken,
        persisted: &mut Persisted,
    ) -> Next {
        let mut flush = tokio::time::interval(PERSIST_EVERY);
        loop {
            let received = tokio::select! {
                _ = shutdown.cancelled() => return Next::Stop,
                _ = flush.tick() => {
                    self.persist(data, persisted, true).await;
                    self.feed.report_applied(&data.epoch, data.seq);
                    continue;
                }
                r = feed.recv() => r,
            };
            let mut changes = Changes::default();
            let mut changed = false;
            let mut pending = Some(received);
            // Apply everything already queued before rebuilding the indexes once.
            while let Some(received) = pending.take() {
                match received {
                    Ok(FeedItem::Event(envelope)) => match data.apply_envelope(&envelope) {
                        ApplyOutcome::Applied => {
                            changes.note(&envelope.event);
                            changed = true;
                        }
                        ApplyOutcome::Stale => {}
                        outcome @ (ApplyOutcome::Gap { .. } | ApplyOutcome::NewEpoch) => {
                            tracing::info!(?outcome, "event stream broken; reloading state");
                            return Next::Reload;
                        }
                    },
                    Ok(FeedItem::Decisions(decisions)) => self.gateway.apply_decisions(&decisions),
                    Ok(FeedItem::Resync) => {
                        tracing::info!("hub link (re)established; reloading state");
                        return Next::Reload;
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "fell behind the event feed; reloading state");
                        return Next::Reload;
                    }
                    Err(RecvError::Closed) => return Next::Stop,
                }
                pending = match feed.try_recv() {
                    Ok(item) => Some(Ok(item)),
                    Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
                    Err(_) => None,
                };
            }
            if changed {
                if data.prune_revocations(tollgate_model::now_millis() / 1000) {
                    changes.note_revocations();
                }
                self.publish(data, &changes);
                self.persist(data, persisted, false).await;
                self.feed.report_applied(&data.epoch, data.seq);
            }
        }
    }

    /// Installs the state for `data` after `changes` (only what they touched is built again).
    fn publish(&self, data: &RuntimeData, changes: &Changes) {
        let previous = self.gateway.state();
        self.gateway.install(RuntimeState::update(
            data,
            Some(&previous),
            self.gateway.token_rules(),
            changes,
        ));
    }

    /// Writes the state file (atomically: temp file, then rename), at most every [`PERSIST_EVERY`]
    /// unless `now`; a skipped write is done by the next change or at shutdown.
    async fn persist(&self, data: &RuntimeData, persisted: &mut Persisted, now: bool) {
        let Some(path) = &self.state_file else { return };
        if persisted.seq == Some((data.epoch.clone(), data.seq)) {
            return;
        }
        if !now && persisted.at.is_some_and(|at| at.elapsed() < PERSIST_EVERY) {
            return;
        }
        let bytes = match serde_json::to_vec(&data.to_snapshot()) {
            Ok(b) => b,
            Err(err) => {
                tracing::warn!(error = %err, "cannot serialise the gateway state");
                return;
            }
        };
        let tmp = path.with_extension("tmp");
        let written = async {
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, path).await
        }
        .await;
        match written {
            Ok(()) => {
                persisted.seq = Some((data.epoch.clone(), data.seq));
                persisted.at = Some(Instant::now());
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "cannot persist the gateway state")
            }
        }
    }
}

#[derive(Default)]
struct Persisted {
    seq: Option<(String, i64)>,
    at: Option<Instant>,
}
