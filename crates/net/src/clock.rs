//! A coarse clock for connection deadlines: milliseconds since the process started, advanced by
//! one background thread every [`TICK`]. Reading it is one relaxed load, so marking a request's
//! start and end costs no system call (deadlines are seconds long; 50 ms is precise enough).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(50);

static NOW_MILLIS: AtomicU64 = AtomicU64::new(0);
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Starts the ticking thread (once); the listeners call it before accepting.
pub(crate) fn start() {
    STARTED.get_or_init(|| {
        let origin = Instant::now();
        let spawned = std::thread::Builder::new()
            .name("coarse-clock".into())
            .spawn(move || loop {
                std::thread::sleep(TICK);
                NOW_MILLIS.store(origin.elapsed().as_millis() as u64, Ordering::Relaxed);
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start the coarse clock; connection deadlines will not advance");
        }
        origin
    });
}

/// Milliseconds since start-up, at most [`TICK`] behind.
pub(crate) fn now_millis() -> u64 {
    NOW_MILLIS.load(Ordering::Relaxed)
}
