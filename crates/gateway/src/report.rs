//! When a gateway tells the control plane what it has applied: on every change, and as a
//! heartbeat every [`HEARTBEAT`] so the control plane knows which gateways are live.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often an unchanged position is reported again.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// Decides which of the synchronizer's (frequent) calls become reports.
#[derive(Default)]
pub struct AppliedReports {
    last: Mutex<Option<(String, i64, Instant)>>,
}

impl AppliedReports {
    /// Whether `(epoch, seq)` should be reported now (and, if so, remembers it as reported).
    pub fn due(&self, epoch: &str, seq: i64) -> bool {
        let mut last = tollgate_guard::lock(&self.last);
        let now = Instant::now();
        let due = match &*last {
            Some((e, s, at)) => e != epoch || *s != seq || now.duration_since(*at) >= HEARTBEAT,
            None => true,
        };
        if due {
            *last = Some((epoch.to_string(), seq, now));
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_due_repeats_are_not() {
        let reports = AppliedReports::default();
        assert!(reports.due("e", 1));
        assert!(!reports.due("e", 1));
        assert!(reports.due("e", 2));
        assert!(reports.due("f", 2));
    }
}
