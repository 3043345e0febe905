use std::collections::HashMap;

use tollgate_model::wire::{ThrottleDecision, ThrottleHit};
use tollgate_model::{PolicyLevel, ThrottlePolicy};

/// Counts requests per throttle key in fixed, clock-aligned windows, as WSO2's traffic manager
/// does, and decides when a key has used its quota.
#[derive(Default)]
pub struct ThrottleCounter {
    policies: HashMap<(PolicyLevel, String), ThrottlePolicy>,
    windows: HashMap<String, Window>,
    records_since_sweep: usize,
}

struct Window {
    start: i64,
    end: i64,
    count: u64,
    decided: bool,
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

    /// Adds hits; returns the keys that have just reached their limit.
    pub fn record(&mut self, hits: &[ThrottleHit], now: i64) -> Vec<ThrottleDecision> {
        let mut decisions = Vec::new();
        for hit in hits {
            let Some(policy) = self.policies.get(&(hit.level, hit.policy.clone())) else {
                tracing::debug!(policy = %hit.policy, "hit for an unknown policy ignored");
                continue;
            };
            let Some(limit) = policy.request_count else {
                continue;
            };
            let length = policy.window_millis();
            // The window is the traffic manager's clock-aligned one; a gateway's hit from a
            // window that has already closed no longer counts.
            let start = now - now.rem_euclid(length);
            if hit.window_start + length <= start {
                continue;
            }
            let window = self.windows.entry(hit.key.clone()).or_insert(Window {
                start,
                end: start + length,
                count: 0,
                decided: false,
            });
            if window.start != start {
                *window = Window {
                    start,
                    end: start + length,
                    count: 0,
                    decided: false,
                };
            }
            window.count += hit.count;
            if window.count >= limit.max(0) as u64 && !window.decided {
                window.decided = true;
                decisions.push(ThrottleDecision {
                    key: hit.key.clone(),
                    throttled: true,
                    until: window.end,
                });
            }
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
            time_unit: "min".into(),
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
        assert!(counter.record(&[hit(600, 120_000)], now).is_empty());
        let decisions = counter.record(&[hit(400, 120_000)], now);
        assert_eq!(
            decisions,
            vec![ThrottleDecision {
                key: "sub:a:b".into(),
                throttled: true,
                until: 180_000
            }]
        );
        // Once decided, further hits in the window decide nothing new.
        assert!(counter.record(&[hit(10, 120_000)], now).is_empty());
        assert_eq!(counter.active(now).len(), 1);
        // The next window starts from zero.
        assert!(counter.record(&[hit(1, 180_000)], 181_000).is_empty());
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
        assert!(counter.record(&[h, hit(5000, 0)], 1).is_empty());
    }
}
