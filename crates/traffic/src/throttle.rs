use std::collections::{HashMap, HashSet};

use tollgate_model::wire::{ThrottleDecision, ThrottleHit};
use tollgate_model::{PolicyLevel, ThrottlePolicy};

/// Counts requests per throttle key in fixed, clock-aligned windows, as WSO2's traffic manager
/// does, and decides when a key has used its quota. Past half of a key's limit it also shares
/// what is left among the gateways using the key, so each can hold its share locally and the
/// sum stays within the limit however late the hits arrive.
#[derive(Default)]
pub struct ThrottleCounter {
    policies: HashMap<(PolicyLevel, String), ThrottlePolicy>,
    windows: HashMap<String, Window>,
    records_since_sweep: usize,
    /// Set when a hit named a policy this counter does not know (yet): its owner reloads them.
    pub unknown_policy_seen: bool,
}

struct Window {
    start: i64,
    end: i64,
    count: u64,
    decided: bool,
    /// Gateways that admitted, or asked for, requests of this key in this window.
    gateways: HashSet<String>,
}

impl Window {
    fn new(start: i64, length: i64) -> Window {
        Window {
            start,
            end: start + length,
            count: 0,
            decided: false,
            gateways: HashSet::new(),
        }
    }
}

impl ThrottleCounter {
    pub fn set_policies(&mut self, policies: &[ThrottlePolicy]) {
        for policy in policies {
            self.policies
                .insert((policy.level, policy.name.clone()), policy.clone());
        }
    }

    pub fn remove_policy(&mut self, level: PolicyLevel, name: &str) {
        self.policies.remove(&(level, name.to_string()));
    }

    /// Adds one gateway's hits (a hit of count 0 asks for more allowance); returns the decisions
    /// they lead to: "throttled until" for keys that reached their limit, fresh allowances for
    /// keys past half of it.
    ///
    /// `connected` is how many gateways listen to this hub: a share is never larger than what is
    /// left divided among them, even before every one of them has used the key.
    pub fn record(
        &mut self,
        gateway: &str,
        connected: usize,
        hits: &[ThrottleHit],
        now: i64,
    ) -> Vec<ThrottleDecision> {
        let mut decisions = Vec::new();
        let mut hot: Vec<(String, u64)> = Vec::new();
        for hit in hits {
            let Some(policy) = self.policies.get(&(hit.level, hit.policy.clone())) else {
                tracing::debug!(policy = %hit.policy, "hit for an unknown policy ignored");
                self.unknown_policy_seen = true;
                continue;
            };
            let Some(limit) = policy.request_count else {
                continue;
            };
            let limit = limit.max(0) as u64;
            let length = policy.window_millis();
            // The window is the traffic manager's clock-aligned one; a gateway's hit from a
            // window that has already closed no longer counts.
            let start = now - now.rem_euclid(length);
            if hit.window_start.saturating_add(length) <= start {
                continue;
            }
            let window = self
                .windows
                .entry(hit.key.clone())
                .or_insert_with(|| Window::new(start, length));
            if window.start != start {
                *window = Window::new(start, length);
            }
            window.count = window.count.saturating_add(hit.count);
            window.gateways.insert(gateway.to_string());
            if window.decided {
                // A gateway still admitting the key has not heard (it reloaded, or reconnected
                // after the broadcast): tell it again.
                if hit.count > 0
                    && !decisions
                        .iter()
                        .any(|d: &ThrottleDecision| d.key == hit.key)
                {
                    decisions.push(ThrottleDecision {
                        key: hit.key.clone(),
                        throttled: true,
                        until: window.end,
                        allowance: None,
                    });
                }
                continue;
            }
            if window.count >= limit {
                window.decided = true;
                decisions.push(ThrottleDecision {
                    key: hit.key.clone(),
                    throttled: true,
                    until: window.end,
                    allowance: None,
                });
            } else if window.count.saturating_mul(2) >= limit
                && !hot.iter().any(|(k, _)| k == &hit.key)
            {
                hot.push((hit.key.clone(), limit));
            }
        }
        for (key, limit) in hot {
            let Some(window) = self.windows.get(&key) else {
                continue;
            };
            if window.decided {
                continue;
            }
            let remaining = limit.saturating_sub(window.count);
            // At least one while anything is left, so a lone request is never starved: the sum
            // may pass the limit by at most one request per gateway.
            let sharers = window.gateways.len().max(connected).max(1) as u64;
            let share = (remaining / sharers).max(remaining.min(1));
            decisions.push(ThrottleDecision {
                key,
                throttled: false,
                until: window.end,
                allowance: Some(share),
            });
        }
        self.records_since_sweep += 1;
        if self.records_since_sweep >= 1024 {
            self.records_since_sweep = 0;
            self.windows.retain(|_, w| w.end > now);
        }
        decisions
    }

    pub fn active(&self, now: i64) -> Vec<ThrottleDecision> {
        self.windows
            .iter()
            .filter(|(_, w)| w.decided && w.end > now)
            .map(|(key, w)| ThrottleDecision {
                key: key.clone(),
                throttled: true,
                until: w.end,
                allowance: None,
            })
            .collect()
    }

    /// The count so far in the key's current window.
    pub fn count(&self, key: &str) -> u64 {
        self.windows.get(key).map_or(0, |w| w.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bronze() -> ThrottlePolicy {
        ThrottlePolicy {
            id: "b".into(),
            tenant: "carbon.super".into(),
            level: PolicyLevel::Subscription,
            name: "Bronze".into(),
            display_name: "Bronze".into(),
            description: String::new(),
            request_count: Some(1000),
            unit_time: 1,
            time_unit: tollgate_model::TimeUnit::Min,
        }
    }

    fn hit(count: u64, window_start: i64) -> ThrottleHit {
        ThrottleHit {
            key: "sub:a:b".into(),
            level: PolicyLevel::Subscription,
            policy: "Bronze".into(),
            window_start,
            count,
        }
    }

    #[test]
    fn hits_from_several_gateways_add_up_to_one_decision() {
        let mut counter = ThrottleCounter::default();
        counter.set_policies(&[bronze()]);
        let now = 120_000 + 5_000;
        assert!(counter
            .record("g1", 1, &[hit(400, 120_000)], now)
            .is_empty());
        // Past half the limit, what is left is shared among the gateways using the key.
        let shared = counter.record("g2", 1, &[hit(200, 120_000)], now);
        assert_eq!(
            shared,
            vec![ThrottleDecision {
                key: "sub:a:b".into(),
                throttled: false,
                until: 180_000,
                allowance: Some(200)
            }]
        );
        // A request for more (count 0) gets a fresh share of what is left.
        let again = counter.record("g2", 1, &[hit(0, 120_000)], now);
        assert_eq!(again[0].allowance, Some(200));
        let decisions = counter.record("g1", 1, &[hit(400, 120_000)], now);
        assert_eq!(
            decisions,
            vec![ThrottleDecision {
                key: "sub:a:b".into(),
                throttled: true,
                until: 180_000,
                allowance: None
            }]
        );
        // Once decided, a gateway that still sends hits is told again.
        assert!(counter.record("g1", 1, &[hit(10, 120_000)], now)[0].throttled);
        assert_eq!(counter.active(now).len(), 1);
        // The next window starts from zero.
        assert!(counter
            .record("g1", 1, &[hit(1, 180_000)], 181_000)
            .is_empty());
        assert_eq!(counter.count("sub:a:b"), 1);
        assert!(counter.active(181_000).is_empty());
    }

    #[test]
    fn unlimited_and_unknown_policies_are_not_counted() {
        let mut counter = ThrottleCounter::default();
        let mut unlimited = bronze();
        unlimited.name = "Unlimited".into();
        unlimited.request_count = None;
        counter.set_policies(&[unlimited]);
        let mut h = hit(5000, 0);
        h.policy = "Unlimited".into();
        assert!(counter.record("g1", 1, &[h, hit(5000, 0)], 1).is_empty());
    }
}
