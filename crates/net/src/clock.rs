//! A coarse clock for connection deadlines: milliseconds since the process started, advanced by
//! one background thread every [`TICK`]. Reading it is one relaxed load, so marking a request's
//! start and end costs no system call (deadlines are seconds long; 50 ms is precise enough).
//! The same thread runs the connection watchdog's patrol.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(50);

static NOW_MILLIS: AtomicU64 = AtomicU64::new(0);
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Starts the ticking thread (once), which also calls `patrol` every `patrol_every`.
pub(crate) fn start(patrol_every: Duration, patrol: fn()) {
    STARTED.get_or_init(|| {
        let origin = Instant::now();
        let ticks_per_patrol = (patrol_every.as_millis() / TICK.as_millis()).max(1) as u64;
        let spawned = std::thread::Builder::new()
            .name("connection-watchdog".into())
            .spawn(move || {
                for tick in 1u64.. {
                    std::thread::sleep(TICK);
                    NOW_MILLIS.store(origin.elapsed().as_millis() as u64, Ordering::Relaxed);
                    if tick % ticks_per_patrol == 0 {
                        patrol();
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start the connection watchdog; connection deadlines will not be enforced");
        }
        origin
    });
}

/// Milliseconds since start-up, at most [`TICK`] behind.
pub(crate) fn now_millis() -> u64 {
    NOW_MILLIS.load(Ordering::Relaxed)
}
