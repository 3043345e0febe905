//! A gateway's feed from separate nodes: the snapshot from the control plane's internal data API,
//! events and throttle decisions from one or more event hubs over WebSocket.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tollgate_hublink::{Backoff, Link, NodeCredential};
use tollgate_model::wire::{
    FeedItem, Frame, FrameBody, GatewayReport, IntrospectedToken, ThrottleHit, GATEWAY_REPORT_PATH,
    INTROSPECT_PATH, SUBSCRIBE_PATH,
};
use tollgate_model::Snapshot;

use crate::{FeedError, StateFeed};

/// Path of the control plane's runtime snapshot, under its internal data API.
pub const SNAPSHOT_PATH: &str = "/internal/data/v1/runtime-snapshot";

pub struct NetworkFeed {
    service_url: String,
    labels: Vec<String>,
    credential: NodeCredential,
    http: reqwest::Client,
    items: broadcast::Sender<FeedItem>,
    hits: broadcast::Sender<Arc<Vec<ThrottleHit>>>,
    node_id: String,
    reports: crate::report::AppliedReports,
}

impl NetworkFeed {
    /// `service_url`: the control plane (`[apim.event_hub] service_url`); `hubs`: the event hubs
    /// (`event_listening_endpoints`). Starts one link task per hub.
    pub fn start(
        service_url: String,
        hubs: Vec<String>,
        labels: Vec<String>,
        credential: NodeCredential,
        tls: Option<Arc<rustls::ClientConfig>>,
        shutdown: CancellationToken,
    ) -> Result<Arc<NetworkFeed>, FeedError> {
        let mut http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
        if let Some(tls) = &tls {
            http = http.use_preconfigured_tls((**tls).clone());
        }
        let http = http.build().map_err(FeedError::Client)?;
        let (items, _) = broadcast::channel(4096);
        let (hits, _) = broadcast::channel(256);
        // Names this gateway to the traffic managers (which share quotas among gateways) and
        // to the control plane (which tracks what each gateway has applied).
        let node_id = format!("gateway-{:016x}", rand_id());
        let feed = Arc::new(NetworkFeed {
            service_url: service_url.trim_end_matches('/').to_string(),
            labels,
            credential: credential.clone(),
            http,
            items,
            hits,
            node_id: node_id.clone(),
            reports: Default::default(),
        });
        for hub in hubs {
            tokio::spawn(link(
                hub,
                node_id.clone(),
                credential.clone(),
                tls.clone(),
                feed.items.clone(),
                feed.hits.clone(),
                shutdown.clone(),
            ));
        }
        Ok(feed)
    }
}

impl StateFeed for NetworkFeed {
    fn subscribe(&self) -> broadcast::Receiver<FeedItem> {
        self.items.subscribe()
    }

    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Result<Snapshot, FeedError>> + Send + '_>> {
        Box::pin(async move {
            let url = format!("{}{SNAPSHOT_PATH}", self.service_url);
            let response = match self
                .http
                .get(&url)
                .query(&[("gatewayLabels", self.labels.join(","))])
                .header(http::header::AUTHORIZATION, self.credential.authorization())
                .send()
                .await
            {
                Ok(response) => response,
                Err(source) => return Err(FeedError::Unreachable { url, source }),
            };
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(FeedError::Refused { url, status, body });
            }
            match response.json::<Snapshot>().await {
                Ok(snapshot) => Ok(snapshot),
                Err(source) => Err(FeedError::Unreadable {
                    url,
                    what: "snapshot",
                    source,
                }),
            }
        })
    }

    fn introspect<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<IntrospectedToken>, FeedError>> + Send + 'a>>
    {
        Box::pin(async move {
            let url = format!("{}{INTROSPECT_PATH}", self.service_url);
            let response = match self
                .http
                .post(&url)
                .header(http::header::AUTHORIZATION, self.credential.authorization())
                .form(&[("token", token)])
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await
            {
                Ok(response) => response,
                Err(source) => return Err(FeedError::Unreachable { url, source }),
            };
            let status = response.status();
            if status == reqwest::StatusCode::NO_CONTENT {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(FeedError::Refused {
                    url,
                    status,
                    body: String::new(),
                });
            }
            match response.json::<IntrospectedToken>().await {
                Ok(token) => Ok(Some(token)),
                Err(source) => Err(FeedError::Unreadable {
                    url,
                    what: "answer",
                    source,
                }),
            }
        })
    }

    fn report_hits(&self, hits: Vec<ThrottleHit>) {
        // Every connected hub counts every gateway's hits, so their decisions agree.
        let _ = self.hits.send(Arc::new(hits));
    }

    fn report_applied(&self, epoch: &str, seq: i64) {
        if !self.reports.due(epoch, seq) {
            return;
        }
        let report = GatewayReport {
            node_id: self.node_id.clone(),
            labels: self.labels.clone(),
            epoch: epoch.to_string(),
            applied_seq: seq,
        };
        let url = format!("{}{GATEWAY_REPORT_PATH}", self.service_url);
        let request = self
            .http
            .post(&url)
            .timeout(std::time::Duration::from_secs(5))
            .header(http::header::AUTHORIZATION, self.credential.authorization())
            .json(&report);
        // Off the synchronizer's path; a lost report is repeated by the next heartbeat.
        tokio::spawn(async move {
            match request.send().await {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => {
                    tracing::debug!(status = %response.status(), "gateway report refused")
                }
                Err(err) => tracing::debug!(error = %err, "gateway report not delivered"),
            }
        });
    }
}

/// One hub: connect, say nothing until the hub's hello, then forward events and decisions to the
/// feed and hits to the hub; reconnect with backoff when the link drops.
async fn link(
    url: String,
    node_id: String,
    credential: NodeCredential,
    tls: Option<Arc<rustls::ClientConfig>>,
    items: broadcast::Sender<FeedItem>,
    hits: broadcast::Sender<Arc<Vec<ThrottleHit>>>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::default();
    loop {
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return,
            c = Link::connect(&url, SUBSCRIBE_PATH, &credential, tls.as_ref()) => c,
        };
        match connected {
            Ok(mut link) => {
                let mut outgoing = hits.subscribe();
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        batch = outgoing.recv() => match batch {
                            Ok(batch) => {
                                let frame = Frame::new(FrameBody::Hits { gateway: node_id.clone(), hits: (*batch).clone() });
                                if link.send(&frame).await.is_err() {
                                    break;
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(batches = n, "hit batches dropped: hub link too slow"),
                            Err(broadcast::error::RecvError::Closed) => return,
                        },
                        frame = link.recv() => match frame {
                            Some(Ok(frame)) => match frame.body {
                                FrameBody::Hello { hub_id } => {
                                    tracing::info!(hub = %url, %hub_id, "connected to event hub");
                                    backoff.reset();
                                    let _ = items.send(FeedItem::Resync);
                                }
                                FrameBody::Event { envelope } => {
                                    let _ = items.send(FeedItem::Event(Arc::new(*envelope)));
                                }
                                FrameBody::Decisions { decisions } => {
                                    let _ = items.send(FeedItem::Decisions(Arc::new(decisions)));
                                }
                                _ => {}
                            },
                            Some(Err(err)) => {
                                tracing::warn!(hub = %url, error = %err, "event hub link failed");
                                break;
                            }
                            None => {
                                tracing::warn!(hub = %url, "event hub closed the link");
                                break;
                            }
                        },
                    }
                }
            }
            Err(err) => tracing::warn!(hub = %url, error = %err, "cannot reach the event hub"),
        }
        let delay = backoff.next_delay();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// A process-unique random number (no `rand` dependency needed for one id).
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}
