//! Per-connection deadlines that cost nothing per request: no timer, no lock.
//!
//! A connection is always in one of three phases, tracked with relaxed atomics by the I/O and
//! the service it wraps ([`WatchedIo`], [`Watched`]):
//!
//! - **waiting for a request head** — from the accept, or from the first byte after an idle
//!   spell: the head must be complete (the service called) within `request_head_timeout`,
//!   however the bytes trickle in (slowloris);
//! - **busy** — requests in flight: the connection may be silent (a slow backend) but not for
//!   longer than `socket_timeout` with nothing read or written, and a request may wait no longer
//!   than that for its response to start (HTTP/2 pings do not keep a hung backend's streams
//!   open);
//! - **idle** between requests: closed gracefully after `keep_alive_timeout`.
//!
//! One thread of the process (the same that advances the coarse [`clock`]) looks at every open
//! connection four times a second and, when one is overdue, orders it retired (closed
//! gracefully) or cut, waking its task. A serving thread thus has no timer to keep (an armed
//! timer costs every idle park of its runtime a clock read and a timer-wheel scan), and a
//! connection's task checks one atomic when it is woken.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::Service;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::{clock, BoxError, ErrorStyle, Limits};

/// What the watchdog ordered a connection to do.
mod order {
    pub const NONE: u8 = 0;
    pub const RETIRE: u8 = 1;
    pub const CUT_HEAD: u8 = 2;
    pub const CUT_SILENT: u8 = 3;
    pub const CUT_LINGERING: u8 = 4;
}

/// The phase of one connection (see the module documentation), and the watchdog's orders.
pub(crate) struct Watch {
    in_flight: AtomicU32,
    /// Requests whose response has not started yet.
    awaiting: AtomicU32,
    /// Coarse milliseconds of the last progress on responses: a request began to wait when none
    /// was waiting, or a response started.
    response_progress: AtomicU64,
    /// Coarse milliseconds + 1 at which the pending request head began; 0 when none is.
    head_since: AtomicU64,
    /// Coarse milliseconds at which the last request finished.
    idle_since: AtomicU64,
    /// Whether anything was read or written since the watchdog last looked.
    active: AtomicBool,
    /// HTTP/2 multiplexes: frames arrive between requests (pings, window updates), so the
    /// request-head deadline does not apply; the idle one does.
    head_rule: AtomicBool,
    /// The watchdog's order (see [`order`]), and the task to wake for it.
    order: AtomicU8,
    waker: AtomicWaker,
    /// Set when the connection has ended: the watchdog forgets it.
    ended: AtomicBool,
    /// The listener it belongs to, to be retired with it at shutdown.
    listener: Arc<ListenerState>,
}

/// What a listener's connections share.
#[derive(Default)]
pub(crate) struct ListenerState {
    pub(crate) shutting_down: AtomicBool,
}

impl Watch {
    /// Watches a connection just accepted on `listener`, until the returned registration drops.
    pub(crate) fn register(
        listener: &Arc<ListenerState>,
        limits: Limits,
    ) -> (Arc<Watch>, Registration) {
        let now = clock::now_millis();
        let watch = Arc::new(Watch {
            in_flight: AtomicU32::new(0),
            awaiting: AtomicU32::new(0),
            response_progress: AtomicU64::new(now),
            // A fresh connection owes its first request head from the accept on.
            head_since: AtomicU64::new(now + 1),
            idle_since: AtomicU64::new(now),
            active: AtomicBool::new(false),
            head_rule: AtomicBool::new(true),
            order: AtomicU8::new(order::NONE),
            waker: AtomicWaker::new(),
            ended: AtomicBool::new(false),
            listener: listener.clone(),
        });
        registry().add(Watchdog::new(watch.clone(), limits));
        (watch.clone(), Registration(watch))
    }

    /// For an HTTP/2 connection (known once TLS has negotiated it).
    pub(crate) fn without_head_rule(&self) {
        self.head_rule.store(false, Ordering::Relaxed);
        self.head_since.store(0, Ordering::Relaxed);
        self.idle_since
            .store(clock::now_millis(), Ordering::Relaxed);
    }

    fn on_read(&self) {
        if !self.active.load(Ordering::Relaxed) {
            self.active.store(true, Ordering::Relaxed);
        }
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_rule.load(Ordering::Relaxed)
            && self.head_since.load(Ordering::Relaxed) == 0
        {
            self.head_since
                .store(clock::now_millis() + 1, Ordering::Relaxed);
        }
    }

    fn on_write(&self) {
        if !self.active.load(Ordering::Relaxed) {
            self.active.store(true, Ordering::Relaxed);
        }
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        if self.awaiting.fetch_add(1, Ordering::Relaxed) == 0 {
            self.response_progress
                .store(clock::now_millis(), Ordering::Relaxed);
        }
        if self.head_since.load(Ordering::Relaxed) != 0 {
            self.head_since.store(0, Ordering::Relaxed);
        }
        InFlight {
            watch: self.clone(),
            awaiting: true,
        }
    }

    fn command(&self, what: u8) {
        self.order.store(what, Ordering::Release);
        self.waker.wake();
    }

    /// The watchdog's order, registering `cx` to be woken for the next one.
    pub(crate) fn poll_order(&self, cx: &mut Context<'_>) -> u8 {
        self.waker.register(cx.waker());
        self.order.load(Ordering::Acquire)
    }

    /// Why a cut connection was cut, for the debug log.
    pub(crate) fn cut_reason(what: u8) -> &'static str {
        match what {
            order::CUT_HEAD => "request head not received in time",
            order::CUT_SILENT => "no progress while a request was in flight",
            _ => "still open after being asked to close",
        }
    }
}

pub(crate) use order::{NONE as ORDER_NONE, RETIRE as ORDER_RETIRE};

/// Keeps a connection watched; dropping it (the connection ended) lets the watchdog forget it.
pub(crate) struct Registration(Arc<Watch>);

impl Drop for Registration {
    fn drop(&mut self) {
        self.0.ended.store(true, Ordering::Relaxed);
    }
}

/// A request in flight; its end (the response body finished or dropped) is marked on drop.
pub(crate) struct InFlight {
    watch: Arc<Watch>,
    /// Whether its response has yet to start.
    awaiting: bool,
}

impl InFlight {
    /// The response has started.
    fn responded(&mut self) {
        if std::mem::take(&mut self.awaiting) {
            self.watch.awaiting.fetch_sub(1, Ordering::Relaxed);
            self.watch
                .response_progress
                .store(clock::now_millis(), Ordering::Relaxed);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.awaiting {
            self.watch.awaiting.fetch_sub(1, Ordering::Relaxed);
        }
        if self.watch.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.watch
                .idle_since
                .store(clock::now_millis(), Ordering::Relaxed);
        }
    }
}

/// What the watchdog concluded about one connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fine,
    /// Idle past the keep-alive timeout, or its listener shuts down: close gracefully
    /// (HTTP/2: GOAWAY).
    Retire,
    /// One of [`order`]'s cuts: drop the connection.
    Cut(u8),
}

/// The watchdog's view of one connection.
pub(crate) struct Watchdog {
    watch: Arc<Watch>,
    limits: Limits,
    /// When the watchdog last saw a busy connection make progress.
    busy_seen: Option<u64>,
    /// When the connection was ordered to retire.
    retired_at: Option<u64>,
}

impl Watchdog {
    fn new(watch: Arc<Watch>, limits: Limits) -> Watchdog {
        Watchdog {
            watch,
            limits,
            busy_seen: None,
            retired_at: None,
        }
    }

    fn look_at(&mut self, now: u64) -> Verdict {
        let ms = |d: Duration| d.as_millis() as u64;
        let (head, idle, socket) = (
            ms(self.limits.request_head_timeout),
            ms(self.limits.keep_alive_timeout),
            ms(self.limits.socket_timeout),
        );
        if let Some(at) = self.retired_at {
            // Asked to close: a connection still there a head timeout later (a request still
            // in flight may finish under the busy rule) is cut.
            if self.watch.in_flight.load(Ordering::Relaxed) == 0 && now.saturating_sub(at) >= head {
                return Verdict::Cut(order::CUT_LINGERING);
            }
        }
        let watch = &self.watch;
        let active = watch.active.swap(false, Ordering::Relaxed);
        if watch.awaiting.load(Ordering::Relaxed) > 0
            && now.saturating_sub(watch.response_progress.load(Ordering::Relaxed)) >= socket
        {
            return Verdict::Cut(order::CUT_SILENT);
        }
        if watch.in_flight.load(Ordering::Relaxed) > 0 {
            let seen = match self.busy_seen {
                Some(seen) if !active => seen,
                _ => now,
            };
            self.busy_seen = Some(seen);
            if now.saturating_sub(seen) >= socket {
                return Verdict::Cut(order::CUT_SILENT);
            }
            return Verdict::Fine;
        }
        self.busy_seen = None;
        match watch.head_since.load(Ordering::Relaxed) {
            0 => {
                let since = watch.idle_since.load(Ordering::Relaxed);
                if now.saturating_sub(since) >= idle {
                    return Verdict::Retire;
                }
            }
            started => {
                if now.saturating_sub(started - 1) >= head {
                    return Verdict::Cut(order::CUT_HEAD);
                }
            }
        }
        if watch.listener.shutting_down.load(Ordering::Relaxed) {
            return Verdict::Retire;
        }
        Verdict::Fine
    }

    /// Looks, and orders what is due; `false` once the connection has ended (forget it).
    fn patrol(&mut self, now: u64) -> bool {
        if self.watch.ended.load(Ordering::Relaxed) {
            return false;
        }
        match self.look_at(now) {
            Verdict::Fine => {}
            Verdict::Retire => self.retire(now),
            Verdict::Cut(why) => self.watch.command(why),
        }
        true
    }

    /// Orders the connection to close gracefully (once).
    fn retire(&mut self, now: u64) {
        if self.retired_at.is_none() {
            self.retired_at = Some(now);
            self.watch.command(order::RETIRE);
        }
    }
}

/// Every watched connection of the process.
struct Registry {
    dogs: Mutex<Vec<Watchdog>>,
}

/// How often the watchdog looks at every connection.
const PATROL_EVERY: Duration = Duration::from_millis(250);

fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        clock::start(PATROL_EVERY, || registry().patrol());
        Registry {
            dogs: Mutex::new(Vec::new()),
        }
    })
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Watchdog>> {
        // Every critical section leaves the list consistent.
        tollgate_guard::lock(&self.dogs)
    }

    fn add(&self, dog: Watchdog) {
        self.lock().push(dog);
    }

    fn patrol(&self) {
        let now = clock::now_millis();
        self.lock().retain_mut(|dog| dog.patrol(now));
    }
}

/// Orders the idle connections of `listener` (between requests, none in flight) to retire now:
/// at its connection limit, idle keep-alive clients make room for waiting ones, as in nginx.
pub(crate) fn retire_idle(listener: &Arc<ListenerState>) {
    retire_where(listener, |watch| {
        watch.in_flight.load(Ordering::Relaxed) == 0
            && watch.head_since.load(Ordering::Relaxed) == 0
            && !watch.ended.load(Ordering::Relaxed)
    });
}

/// Orders every connection of `listener` to retire now (the server shuts down).
pub(crate) fn retire_all(listener: &Arc<ListenerState>) {
    listener.shutting_down.store(true, Ordering::Relaxed);
    retire_where(listener, |_| true);
}

fn retire_where(listener: &Arc<ListenerState>, which: impl Fn(&Watch) -> bool) {
    let now = clock::now_millis();
    for dog in registry().lock().iter_mut() {
        if Arc::ptr_eq(&dog.watch.listener, listener) && which(&dog.watch) {
            dog.retire(now);
        }
    }
}

pin_project_lite::pin_project! {
    /// A socket whose reads and writes mark its connection's [`Watch`].
    pub(crate) struct WatchedIo<I> {
        #[pin]
        inner: I,
        watch: Arc<Watch>,
    }
}

impl<I> WatchedIo<I> {
    pub(crate) fn new(inner: I, watch: Arc<Watch>) -> Self {
        WatchedIo { inner, watch }
    }
}

impl<I: AsyncRead> AsyncRead for WatchedIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let result = this.inner.poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.on_read();
        }
        result
    }
}

impl<I: AsyncWrite> AsyncWrite for WatchedIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let result = this.inner.poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.watch.on_write();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let result = this.inner.poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.watch.on_write();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

/// A listener's service for one connection: marks requests in flight, refuses requests whose
/// `Host` header RFC 9112 says must be refused, tells the service the client's address, and
/// answers a request whose handler panicked with a 500 instead of dropping the connection.
pub(crate) struct Watched<S> {
    inner: S,
    watch: Arc<Watch>,
    client: Option<tollgate_guard::ClientAddr>,
    /// Whether the connection is TLS (told with the client's address).
    tls: bool,
    style: ErrorStyle,
}

impl<S> Watched<S> {
    pub(crate) fn new(
        inner: S,
        watch: Arc<Watch>,
        client: Option<tollgate_guard::ClientAddr>,
        tls: bool,
        style: ErrorStyle,
    ) -> Self {
        Watched {
            inner,
            watch,
            client,
            tls,
            style,
        }
    }
}

impl<S, B> Service<Request<Incoming>> for Watched<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = std::convert::Infallible>,
{
    type Response = Response<WatchedBody<B>>;
    type Error = std::convert::Infallible;
    type Future = WatchedFuture<S::Future>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let in_flight = self.watch.request_started();
        if let Err(why) = check_host(&request) {
            return WatchedFuture {
                inner: None,
                in_flight: Some(in_flight),
                refused: Some(self.style.response(StatusCode::BAD_REQUEST, why)),
                style: self.style,
            };
        }
        if let Some(client) = self.client {
            request.extensions_mut().insert(client);
            if self.tls {
                request.extensions_mut().insert(tollgate_guard::OverTls);
            }
        }
        WatchedFuture {
            inner: Some(self.inner.call(request)),
            in_flight: Some(in_flight),
            refused: None,
            style: self.style,
        }
    }
}

/// RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without a `Host` header,
/// with more than one, or with an invalid one.
fn check_host<B>(request: &Request<B>) -> Result<(), &'static str> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err("The request has more than one Host header");
    }
    match first {
        None if request.version() == http::Version::HTTP_11 => {
            Err("The request has no Host header")
        }
        Some(host) if !valid_host(host) => Err("The request's Host header is not a valid host"),
        _ => Ok(()),
    }
}

/// `host[:port]`: a registered name, an IPv4 address or a bracketed IPv6 literal; no user info,
/// no path, no spaces.
fn valid_host(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'%' | b'~')
        })
}

pin_project_lite::pin_project! {
    pub struct WatchedFuture<F> {
        #[pin]
        inner: Option<F>,
        in_flight: Option<InFlight>,
        refused: Option<Response<Full<Bytes>>>,
        style: ErrorStyle,
    }
}

impl<F, B> Future for WatchedFuture<F>
where
    F: Future<Output = Result<Response<B>, std::convert::Infallible>>,
{
    type Output = Result<Response<WatchedBody<B>>, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut in_flight = this.in_flight.take();
        if let Some(refused) = this.refused.take() {
            if let Some(in_flight) = in_flight.as_mut() {
                in_flight.responded();
            }
            return Poll::Ready(Ok(
                refused.map(|body| WatchedBody::Local { body, in_flight })
            ));
        }
        let Some(inner) = this.inner.as_pin_mut() else {
            // Polled after completion: hyper never does.
            return Poll::Pending;
        };
        // A panic in a handler must not take the connection (and the client's answer) with it.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(Ok(response))) => {
                if let Some(in_flight) = in_flight.as_mut() {
                    in_flight.responded();
                }
                Poll::Ready(Ok(
                    response.map(|body| WatchedBody::Inner { body, in_flight })
                ))
            }
            Ok(Poll::Pending) => {
                *this.in_flight = in_flight;
                Poll::Pending
            }
            Ok(Poll::Ready(Err(never))) => match never {},
            Err(_) => {
                if let Some(in_flight) = in_flight.as_mut() {
                    in_flight.responded();
                }
                // The panic hook logged it, with its location.
                let response = this.style.response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server could not complete the request; see its log",
                );
                Poll::Ready(Ok(
                    response.map(|body| WatchedBody::Local { body, in_flight })
                ))
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that marks the end of its request when it is finished or dropped.
    #[project = WatchedBodyProj]
    pub enum WatchedBody<B> {
        Inner { #[pin] body: B, in_flight: Option<InFlight> },
        Local { #[pin] body: Full<Bytes>, in_flight: Option<InFlight> },
    }
}

impl<B> Body for WatchedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project() {
            WatchedBodyProj::Inner { body, in_flight } => {
                let polled = body.poll_frame(cx);
                if matches!(polled, Poll::Ready(None)) {
                    in_flight.take();
                }
                polled.map_err(Into::into)
            }
            WatchedBodyProj::Local { body, in_flight } => {
                let polled = body.poll_frame(cx);
                if matches!(polled, Poll::Ready(None)) {
                    in_flight.take();
                }
                polled.map_err(|never| match never {})
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            WatchedBody::Inner { body, .. } => body.is_end_stream(),
            WatchedBody::Local { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            WatchedBody::Inner { body, .. } => body.size_hint(),
            WatchedBody::Local { body, .. } => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            request_head_timeout: Duration::from_secs(20),
            keep_alive_timeout: Duration::from_secs(60),
            socket_timeout: Duration::from_secs(180),
            max_connections: 10,
        }
    }

    fn watched() -> (Arc<Watch>, Watchdog, u64) {
        let listener = Arc::new(ListenerState::default());
        let (watch, registration) = Watch::register(&listener, limits());
        std::mem::forget(registration);
        let start = watch.head_since.load(Ordering::Relaxed) - 1;
        (watch.clone(), Watchdog::new(watch, limits()), start)
    }

    #[test]
    fn a_head_must_arrive_in_time_however_it_trickles() {
        let (watch, mut dog, start) = watched();
        assert_eq!(dog.look_at(start + 1_000), Verdict::Fine);
        watch.on_read();
        assert_eq!(dog.look_at(start + 19_000), Verdict::Fine);
        watch.on_read();
        assert_eq!(dog.look_at(start + 20_000), Verdict::Cut(order::CUT_HEAD));
    }

    #[test]
    fn busy_connections_need_progress_and_idle_ones_retire() {
        let (watch, mut dog, t) = watched();
        let mut request = watch.request_started();
        // The response has started (its body is being written, or the upload read).
        request.responded();
        let t = t.max(watch.response_progress.load(Ordering::Relaxed));
        assert_eq!(dog.look_at(t), Verdict::Fine);
        watch.on_write();
        assert_eq!(dog.look_at(t + 100_000), Verdict::Fine);
        assert_eq!(dog.look_at(t + 279_000), Verdict::Fine);
        assert_eq!(dog.look_at(t + 280_000), Verdict::Cut(order::CUT_SILENT));
        drop(request);
        // Idle: retired after the keep-alive timeout, counted from the end of the request.
        let idle = watch.idle_since.load(Ordering::Relaxed);
        assert_eq!(dog.look_at(idle + 59_000), Verdict::Fine);
        assert_eq!(dog.look_at(idle + 60_000), Verdict::Retire);
        // Told to retire, still there a head timeout later: cut.
        assert!(dog.patrol(idle + 60_000));
        assert_eq!(watch.order.load(Ordering::Relaxed), order::RETIRE);
        assert_eq!(
            dog.look_at(idle + 80_000),
            Verdict::Cut(order::CUT_LINGERING)
        );
    }

    #[test]
    fn a_response_that_never_starts_is_cut_however_busy_the_connection_looks() {
        let (watch, mut dog, _) = watched();
        let _request = watch.request_started();
        let t = watch.response_progress.load(Ordering::Relaxed);
        // Pings keep the socket active, but no response starts.
        for step in 1..9 {
            watch.on_read();
            watch.on_write();
            assert_eq!(dog.look_at(t + step * 20_000), Verdict::Fine);
        }
        assert_eq!(dog.look_at(t + 180_000), Verdict::Cut(order::CUT_SILENT));
    }

    #[test]
    fn host_headers_follow_rfc_9112() {
        let with = |hosts: &[&str], version| {
            let mut builder = Request::get("/").version(version);
            for host in hosts {
                builder = builder.header(header::HOST, *host);
            }
            check_host(&builder.body(()).unwrap())
        };
        assert!(with(&["example.com:8280"], http::Version::HTTP_11).is_ok());
        assert!(with(&["[::1]:8280"], http::Version::HTTP_11).is_ok());
        assert!(with(&["a", "b"], http::Version::HTTP_11).is_err());
        assert!(with(&[], http::Version::HTTP_11).is_err());
        assert!(with(&[], http::Version::HTTP_10).is_ok());
        assert!(with(&["user@host"], http::Version::HTTP_11).is_err());
        assert!(with(&["a b"], http::Version::HTTP_11).is_err());
    }
}
