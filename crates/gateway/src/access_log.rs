//! The access log: one line per request, JSON (the default) or Apache's combined format, written
//! by a thread of its own. The request path only fills an [`AccessEntry`] (clones of what the
//! request already holds: header values and the URI share their bytes) and puts it on a bounded
//! queue when the response body ends; a full queue drops the entry and counts it, it never
//! blocks a request. The writer drains the queue every 100 ms — no wake-up per request — and
//! flushes what it drained; at shutdown it drains and flushes once more.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Uri, Version};
use hyper::body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use tollgate_model::KeyType;

use crate::state::ApiRoute;

/// How often the writer drains the queue.
const DRAIN_EVERY: Duration = Duration::from_millis(100);

/// The line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLogFormat {
    Json,
    /// Apache's combined format, then `activityid`, API, version and the request's milliseconds.
    Combined,
}

/// What one line says of one request.
pub struct AccessEntry {
    /// When the request arrived (milliseconds since the Unix epoch).
    pub at_millis: i64,
    pub started: Instant,
    pub activity_id: HeaderValue,
    pub client: Option<IpAddr>,
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub referer: Option<HeaderValue>,
    pub user_agent: Option<HeaderValue>,
    pub route: Option<Arc<ApiRoute>>,
    pub application: Option<String>,
    pub key_type: Option<KeyType>,
    pub status: u16,
    /// WSO2's error code, when the gateway answered itself.
    pub error_code: Option<&'static str>,
    pub upstream: Option<Arc<str>>,
    pub backend: Option<Duration>,
    /// Set when the body ends.
    pub bytes: u64,
    pub duration: Duration,
}

/// The queue and its writer.
pub struct AccessLog {
    queue: SyncSender<Box<AccessEntry>>,
    /// Entries dropped because the queue was full (a metric: `access_log_dropped_total`).
    dropped: Counter,
    stop: Arc<AtomicBool>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl AccessLog {
    /// Starts the writer, appending to `file` (its folder created); `capacity` entries wait at
    /// most.
    pub fn start(
        file: &Path,
        format: AccessLogFormat,
        capacity: usize,
        dropped: Counter,
    ) -> std::io::Result<Arc<AccessLog>> {
        if let Some(folder) = file.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)?;
        let (queue, entries) = sync_channel(capacity);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            let file = file.to_path_buf();
            std::thread::Builder::new()
                .name("access-log".into())
                .spawn(move || write_lines(entries, BufWriter::new(out), format, &stop, &file))?
        };
        Ok(Arc::new(AccessLog {
            queue,
            dropped,
            stop,
            writer: Mutex::new(Some(writer)),
        }))
    }

    /// Queues an entry; when the queue is full, the entry is dropped and counted.
    pub fn push(&self, entry: Box<AccessEntry>) {
        match self.queue.try_send(entry) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.inc();
            }
        }
    }

    /// Entries dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }

    /// Drains what is queued, flushes, and ends the writer (at shutdown, once the listeners
    /// have finished their requests).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let writer = tollgate_guard::lock(&self.writer).take();
        if let Some(writer) = writer {
            writer.thread().unpark();
            if writer.join().is_err() {
                tracing::warn!("the access log writer panicked");
            }
        }
    }
}

fn write_lines(
    entries: Receiver<Box<AccessEntry>>,
    mut out: BufWriter<File>,
    format: AccessLogFormat,
    stop: &AtomicBool,
    file: &Path,
) {
    let mut line = String::with_capacity(512);
    loop {
        let stopping = stop.load(Ordering::Acquire);
        let mut wrote = false;
        for entry in entries.try_iter() {
            line.clear();
            match format {
                AccessLogFormat::Json => json_line(&entry, &mut line),
                AccessLogFormat::Combined => combined_line(&entry, &mut line),
            }
            line.push('\n');
            if let Err(err) = out.write_all(line.as_bytes()) {
                tracing::warn!(file = %file.display(), %err, "access log not written");
            }
            wrote = true;
        }
        if wrote {
            if let Err(err) = out.flush() {
                tracing::warn!(file = %file.display(), %err, "access log not flushed");
            }
        }
        if stopping {
            return;
        }
        std::thread::park_timeout(DRAIN_EVERY);
    }
}

/// The fields of a JSON line, borrowed from the entry.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLine<'e> {
    time: String,
    activity_id: &'e str,
    client: Option<String>,
    method: &'e str,
    path: &'e str,
    protocol: &'e str,
    api: Option<&'e str>,
    api_version: Option<&'e str>,
    application: Option<&'e str>,
    key_type: Option<&'e str>,
    status: u16,
    bytes: u64,
    duration_ms: f64,
    backend_ms: Option<f64>,
    upstream: Option<&'e str>,
    error_code: Option<&'e str>,
    user_agent: Option<&'e str>,
}

/// Milliseconds, to the microsecond.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

fn text(value: &Option<HeaderValue>) -> Option<&str> {
    value.as_ref().and_then(|v| v.to_str().ok())
}

fn json_line(entry: &AccessEntry, out: &mut String) {
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.at_millis) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
    let line = JsonLine {
        time,
        activity_id: entry.activity_id.to_str().unwrap_or_default(),
        client: entry.client.map(|ip| ip.to_string()),
        method: entry.method.as_str(),
        path: entry.uri.path_and_query().map_or("/", |p| p.as_str()),
        protocol: protocol(entry.version),
        api: entry.route.as_ref().map(|r| r.api.name.as_str()),
        api_version: entry.route.as_ref().map(|r| r.api.version.as_str()),
        application: entry.application.as_deref(),
        key_type: entry.key_type.map(KeyType::as_str),
        status: entry.status,
        bytes: entry.bytes,
        duration_ms: millis(entry.duration),
        backend_ms: entry.backend.map(millis),
        upstream: entry.upstream.as_deref(),
        error_code: entry.error_code,
        user_agent: text(&entry.user_agent),
    };
    match serde_json::to_string(&line) {
        Ok(json) => out.push_str(&json),
        Err(err) => tracing::warn!(%err, "access log line not encoded"),
    }
}

/// A header value inside double quotes: `"` and `\` escaped, `-` when absent.
fn quoted(out: &mut String, value: Option<&str>) {
    out.push('"');
    match value {
        Some(value) => {
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        None => out.push('-'),
    }
    out.push('"');
}

fn combined_line(entry: &AccessEntry, out: &mut String) {
    use std::fmt::Write as _;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.at_millis) * 1_000_000)
            .map(|t| {
                format!(
                    "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
                    t.day(),
                    MONTHS[usize::from(u8::from(t.month())) - 1],
                    t.year(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            })
            .unwrap_or_default();
    let client = entry
        .client
        .map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let target = entry.uri.path_and_query().map_or("/", |p| p.as_str());
    let _ = write!(
        out,
        "{client} - - [{time}] \"{} {target} {}\" {} {} ",
        entry.method,
        protocol(entry.version),
        entry.status,
        entry.bytes
    );
    quoted(out, text(&entry.referer));
    out.push(' ');
    quoted(out, text(&entry.user_agent));
    let _ = write!(
        out,
        " {} {} {} {}",
        entry.activity_id.to_str().unwrap_or("-"),
        entry.route.as_ref().map_or("-", |r| r.api.name.as_str()),
        entry.route.as_ref().map_or("-", |r| r.api.version.as_str()),
        millis(entry.duration)
    );
}

/// A response body that counts its bytes and, when it ends (or the client goes away), puts the
/// request's entry on the access log's queue.
pub struct Logged<B> {
    body: B,
    entry: Option<(Box<AccessEntry>, Arc<AccessLog>)>,
}

impl<B> Logged<B> {
    /// `body` logged as `entry`; without an entry, only passed through.
    pub fn new(body: B, entry: Option<(Box<AccessEntry>, Arc<AccessLog>)>) -> Logged<B> {
        Logged { body, entry }
    }

    fn finish(&mut self) {
        if let Some((mut entry, log)) = self.entry.take() {
            entry.duration = entry.started.elapsed();
            log.push(entry);
        }
    }
}

impl<B> Drop for Logged<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B> Body for Logged<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some((entry, _))) = (frame.data_ref(), this.entry.as_mut()) {
                    entry.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => this.finish(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AccessEntry {
        AccessEntry {
            at_millis: 1_796_640_000_123,
            started: Instant::now(),
            activity_id: HeaderValue::from_static("4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
            client: Some("203.0.113.9".parse().unwrap()),
            method: Method::GET,
            uri: Uri::from_static("/pizzashack/1.0.0/menu?size=L"),
            version: Version::HTTP_11,
            referer: None,
            user_agent: Some(HeaderValue::from_static("curl/8 \"quoted\"")),
            route: None,
            application: Some("app-1".into()),
            key_type: Some(KeyType::Production),
            status: 200,
            error_code: None,
            upstream: Some("http://backend:8080/v1".into()),
            backend: Some(Duration::from_micros(1500)),
            bytes: 345,
            duration: Duration::from_micros(2250),
        }
    }

    #[test]
    fn a_json_line_is_one_object_with_every_field() {
        let mut line = String::new();
        json_line(&entry(), &mut line);
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["time"], "2026-12-07T10:40:00.123Z");
        assert_eq!(value["activityId"], "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
        assert_eq!(value["client"], "203.0.113.9");
        assert_eq!(value["path"], "/pizzashack/1.0.0/menu?size=L");
        assert_eq!(value["status"], 200);
        assert_eq!(value["bytes"], 345);
        assert_eq!(value["durationMs"], 2.25);
        assert_eq!(value["backendMs"], 1.5);
        assert_eq!(value["keyType"], "PRODUCTION");
        assert_eq!(value["application"], "app-1");
        assert_eq!(value["upstream"], "http://backend:8080/v1");
        assert_eq!(value["userAgent"], "curl/8 \"quoted\"");
        assert!(value["errorCode"].is_null());
    }

    #[test]
    fn a_combined_line_quotes_what_clients_send() {
        let mut line = String::new();
        combined_line(&entry(), &mut line);
        assert_eq!(
            line,
            "203.0.113.9 - - [07/Dec/2026:10:40:00 +0000] \"GET /pizzashack/1.0.0/menu?size=L HTTP/1.1\" 200 345 \"-\" \"curl/8 \\\"quoted\\\"\" 4bf92f35-77b3-4da6-a3ce-929d0e0e4736 - - 2.25"
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_stop_flushes_the_rest() {
        let folder = std::env::temp_dir().join(format!("tollgate-access-{}", std::process::id()));
        let file = folder.join("access.log");
        let log = AccessLog::start(&file, AccessLogFormat::Json, 2, Counter::default()).unwrap();
        // The writer drains every 100 ms: a hundred entries at once overflow a queue of two.
        for _ in 0..100 {
            log.push(Box::new(entry()));
        }
        log.stop();
        let written = std::fs::read_to_string(&file).unwrap();
        let lines = written.lines().count();
        assert_eq!(lines as u64 + log.dropped(), 100, "{written}");
        assert!(log.dropped() >= 1);
        let _ = std::fs::remove_dir_all(folder);
    }
}
