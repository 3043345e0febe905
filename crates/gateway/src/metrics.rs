//! The gateway's Prometheus metrics, served in the text exposition format on its management
//! listener (`/metrics`). Everything the request path touches is an atomic prepared ahead:
//! each API's counters and histograms are looked up once (the first request after its route is
//! built) and kept beside the route; the histograms are our own, lock-free, encoded through
//! `prometheus-client` (whose own histogram takes a lock per observation).
//!
//! Label sets are bounded: APIs, versions and key types come from the deployed state, codes
//! and error kinds from fixed lists; a path that matches no API adds no label.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use tollgate_model::KeyType;

/// Upper bounds of the latency buckets, in microseconds (0.5 ms … 10 s).
const BUCKETS_MICROS: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// A latency histogram of atomics: one `fetch_add` for the bucket, one for the sum.
#[derive(Clone, Default, Debug)]
pub struct LatencyHistogram(Arc<Buckets>);

#[derive(Default, Debug)]
struct Buckets {
    /// Per bucket (not cumulative); the last is `+Inf`.
    counts: [AtomicU64; BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl LatencyHistogram {
    pub fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_MICROS
            .iter()
            .position(|&bound| micros <= bound)
            .unwrap_or(BUCKETS_MICROS.len());
        self.0.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.0.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let mut buckets = Vec::with_capacity(BUCKETS_MICROS.len() + 1);
        let mut count = 0;
        for (i, bucket) in self.0.counts.iter().enumerate() {
            let n = bucket.load(Ordering::Relaxed);
            count += n;
            let bound = BUCKETS_MICROS
                .get(i)
                .map_or(f64::INFINITY, |&micros| micros as f64 / 1e6);
            buckets.push((bound, n));
        }
        let sum = self.0.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    api: String,
    version: String,
    status_class: &'static str,
    key_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: String,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    direction: &'static str,
}

/// Status classes, by the hundreds digit.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const KEY_TYPES: [KeyType; 2] = [KeyType::Production, KeyType::Sandbox];

/// One gateway's metrics.
pub struct GatewayMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<ApiLabels, LatencyHistogram>,
    backend_duration: Family<ApiLabels, LatencyHistogram>,
    suspensions: Family<ApiLabels, Counter>,
    refused: Family<CodeLabels, Counter>,
    upstream_errors: Family<KindLabels, Counter>,
    open_connections: Gauge,
    open_websockets: Gauge,
    websocket_frames: Family<DirectionLabels, Counter>,
    access_log_dropped: Counter,
    state_seq: Gauge,
    state_age: Gauge,
    /// When the state was last installed (milliseconds since the Unix epoch).
    installed_at: AtomicI64,
}

/// One API's series, looked up once and kept with its route.
pub struct ApiMetrics {
    /// By key type, then status class.
    requests: [[Counter; 5]; 2],
    pub duration: LatencyHistogram,
    pub backend_duration: LatencyHistogram,
    pub suspensions: Counter,
}

impl ApiMetrics {
    /// Counts one answered request.
    pub fn answered(&self, key_type: KeyType, status: http::StatusCode, elapsed: Duration) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        let key = usize::from(key_type == KeyType::Sandbox);
        self.requests[key][class].inc();
        self.duration.observe(elapsed);
    }
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        GatewayMetrics::new()
    }
}

impl GatewayMetrics {
    pub fn new() -> GatewayMetrics {
        use prometheus_client::registry::Unit;
        let metrics = GatewayMetrics {
            registry: Registry::with_prefix("tollgate_gateway"),
            requests: Family::default(),
            duration: Family::default(),
            backend_duration: Family::default(),
            suspensions: Family::default(),
            refused: Family::default(),
            upstream_errors: Family::default(),
            open_connections: Gauge::default(),
            open_websockets: Gauge::default(),
            websocket_frames: Family::default(),
            access_log_dropped: Counter::default(),
            state_seq: Gauge::default(),
            state_age: Gauge::default(),
            installed_at: AtomicI64::new(0),
        };
        // The registry holds clones: each shares its atomics with the field it was cloned from.
        let mut registry = Registry::with_prefix("tollgate_gateway");
        let m = &metrics;
        registry.register(
            "requests",
            "Requests answered, by API, version, status class and key type",
            m.requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time from a request's arrival to its response head, by API",
            Unit::Seconds,
            m.duration.clone(),
        );
        registry.register_with_unit(
            "backend_duration",
            "Time from sending a request to the backend to its response head, by API",
            Unit::Seconds,
            m.backend_duration.clone(),
        );
        registry.register(
            "endpoint_suspensions",
            "Endpoints suspended after failures, by API",
            m.suspensions.clone(),
        );
        registry.register(
            "refused",
            "Requests refused or failed by the gateway, by WSO2 error code",
            m.refused.clone(),
        );
        registry.register(
            "upstream_errors",
            "Failed backend calls, by what failed",
            m.upstream_errors.clone(),
        );
        registry.register(
            "open_connections",
            "Client connections open on the gateway's listeners",
            m.open_connections.clone(),
        );
        registry.register(
            "websocket_connections",
            "WebSocket connections open through the gateway",
            m.open_websockets.clone(),
        );
        registry.register(
            "websocket_frames",
            "WebSocket data frames relayed, by direction (upstream: client to backend)",
            m.websocket_frames.clone(),
        );
        registry.register(
            "access_log_dropped",
            "Access log entries dropped because the writer's queue was full",
            m.access_log_dropped.clone(),
        );
        registry.register(
            "state_sequence",
            "Sequence number of the applied runtime state",
            m.state_seq.clone(),
        );
        registry.register_with_unit(
            "state_age",
            "Time since the runtime state was last applied",
            Unit::Seconds,
            m.state_age.clone(),
        );
        GatewayMetrics {
            registry,
            ..metrics
        }
    }

    /// The series of one API (`name`, `version`).
    pub fn api(&self, name: &str, version: &str) -> ApiMetrics {
        let labels = ApiLabels {
            api: name.to_string(),
            version: version.to_string(),
        };
        let requests = KEY_TYPES.map(|key_type| {
            STATUS_CLASSES.map(|class| {
                self.requests.get_or_create_owned(&RequestLabels {
                    api: name.to_string(),
                    version: version.to_string(),
                    status_class: class,
                    key_type: key_type.as_str(),
                })
            })
        });
        ApiMetrics {
            requests,
            duration: self.duration.get_or_create_owned(&labels),
            backend_duration: self.backend_duration.get_or_create_owned(&labels),
            suspensions: self.suspensions.get_or_create_owned(&labels),
        }
    }

    /// A request refused (or failed) with WSO2's `code`.
    pub fn refused(&self, code: &'static str) {
        self.refused.get_or_create(&CodeLabels { code }).inc();
    }

    /// A backend call that failed with `kind` (see `UpstreamErrorKind::name`).
    pub fn upstream_error(&self, kind: &'static str) {
        self.upstream_errors
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// A client connection opened; it counts until the guard is dropped.
    pub fn connection_opened(self: &Arc<Self>) -> OpenConnection {
        self.open_connections.inc();
        OpenConnection(self.clone())
    }

    /// A WebSocket connection opened; it counts until the guard is dropped.
    pub fn websocket_opened(self: &Arc<Self>) -> OpenWebSocket {
        self.open_websockets.inc();
        OpenWebSocket(self.clone())
    }

    /// A WebSocket data frame relayed: `upstream` (client to backend) or `downstream`.
    pub fn websocket_frame(&self, direction: &'static str) {
        self.websocket_frames
            .get_or_create(&DirectionLabels { direction })
            .inc();
    }

    /// The counter of access log entries dropped (see `access_log::AccessLog`).
    pub fn access_log_dropped(&self) -> Counter {
        self.access_log_dropped.clone()
    }

    /// A state was installed.
    pub fn state_installed(&self, seq: i64) {
        self.state_seq.set(seq);
        self.installed_at
            .store(tollgate_model::now_millis(), Ordering::Relaxed);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let installed_at = self.installed_at.load(Ordering::Relaxed);
        if installed_at > 0 {
            self.state_age
                .set((tollgate_model::now_millis() - installed_at).max(0) / 1000);
        }
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%err, "metrics could not be encoded");
        }
        text
    }
}

/// An open client connection, counted in `open_connections` while it lives.
#[derive(Debug)]
pub struct OpenConnection(Arc<GatewayMetrics>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open_connections.dec();
    }
}

/// An open WebSocket connection, counted in `websocket_connections` while it lives.
#[derive(Debug)]
pub struct OpenWebSocket(Arc<GatewayMetrics>);

impl Drop for OpenWebSocket {
    fn drop(&mut self) {
        self.0.open_websockets.dec();
    }
}

impl std::fmt::Debug for GatewayMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayMetrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_parses_with_every_series_and_bounded_labels() {
        let metrics = Arc::new(GatewayMetrics::new());
        let api = metrics.api("PizzaShackAPI", "1.0.0");
        api.answered(
            KeyType::Production,
            http::StatusCode::OK,
            Duration::from_millis(3),
        );
        api.answered(
            KeyType::Sandbox,
            http::StatusCode::NOT_FOUND,
            Duration::from_secs(20),
        );
        api.backend_duration.observe(Duration::from_micros(800));
        metrics.refused("900901");
        metrics.refused("900901");
        metrics.upstream_error("connect");
        let open = metrics.connection_opened();
        metrics.state_installed(42);
        let text = metrics.render();
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
        let value = |name: &str, labels: &[(&str, &str)]| {
            scrape
                .samples
                .iter()
                .find(|s| {
                    s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
                })
                .map(|s| match &s.value {
                    prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Untyped(v) => *v,
                    prometheus_parse::Value::Histogram(buckets) => {
                        buckets.last().map_or(0.0, |b| b.count)
                    }
                    other => panic!("{other:?}"),
                })
                .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
        };
        let ok = [
            ("api", "PizzaShackAPI"),
            ("version", "1.0.0"),
            ("status_class", "2xx"),
            ("key_type", "PRODUCTION"),
        ];
        assert_eq!(value("tollgate_gateway_requests_total", &ok), 1.0);
        assert_eq!(
            value(
                "tollgate_gateway_requests_total",
                &[("status_class", "4xx"), ("key_type", "SANDBOX")]
            ),
            1.0
        );
        assert_eq!(
            value("tollgate_gateway_refused_total", &[("code", "900901")]),
            2.0
        );
        assert_eq!(
            value(
                "tollgate_gateway_upstream_errors_total",
                &[("kind", "connect")]
            ),
            1.0
        );
        assert_eq!(value("tollgate_gateway_open_connections", &[]), 1.0);
        assert_eq!(value("tollgate_gateway_state_sequence", &[]), 42.0);
        // Both observations counted; the 20 s one in +Inf only.
        assert_eq!(value("tollgate_gateway_request_duration_seconds", &[]), 2.0);
        drop(open);
        assert!(metrics
            .render()
            .contains("tollgate_gateway_open_connections 0"));
    }
}
