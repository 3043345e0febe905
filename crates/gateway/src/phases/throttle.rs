//! Throttle: refuse a key the traffic manager has decided is over its limit (or whose share
//! this gateway has used up); count every request that passes. Counting is a put on a striped
//! map that a background task flushes to the traffic manager (see `crate::hits`).

use std::sync::atomic::Ordering;

use crate::hits::Hit;
use crate::state::ThrottleRule;
use crate::{Gateway, GatewayError};

/// Applies `rule` to one request at `now` (milliseconds).
pub fn throttle(gateway: &Gateway, rule: &ThrottleRule, now: i64) -> Result<(), GatewayError> {
    let hit = Hit {
        key: &rule.key,
        level: rule.level,
        policy: &rule.policy,
        window_start: now - now.rem_euclid(rule.window_millis),
    };
    if let Some(verdict) = gateway
        .decisions
        .load()
        .get(&*rule.key)
        .filter(|v| v.until > now)
    {
        let refused = match &verdict.allowance {
            None => true,
            Some(left) if left.fetch_sub(1, Ordering::Relaxed) <= 0 => {
                // This gateway's share is used up: ask the traffic manager for more.
                gateway.hits.record_demand(hit);
                true
            }
            Some(_) => false,
        };
        if refused {
            return Err(GatewayError::Throttled {
                retry_after_secs: (verdict.until.saturating_sub(now).saturating_add(999) / 1000)
                    as u64,
            });
        }
    }
    gateway.hits.record(hit);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tollgate_model::wire::ThrottleDecision;
    use tollgate_model::PolicyLevel;

    use super::*;

    fn rule() -> ThrottleRule {
        ThrottleRule {
            key: Arc::from("sub:app:api"),
            level: PolicyLevel::Subscription,
            policy: Arc::from("Gold"),
            window_millis: 60_000,
        }
    }

    fn counted(gateway: &Gateway) -> u64 {
        gateway.hits().take().iter().map(|hit| hit.count).sum()
    }

    #[test]
    fn a_key_without_a_decision_passes_and_is_counted() {
        let gateway = Gateway::new();
        let now = tollgate_model::now_millis();
        for _ in 0..3 {
            throttle(&gateway, &rule(), now).unwrap();
        }
        let hits = gateway.hits().take();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].count, 3);
        assert_eq!(hits[0].window_start, now - now % 60_000);
    }

    #[test]
    fn a_throttled_key_is_refused_until_the_decision_ends() {
        let gateway = Gateway::new();
        let now = tollgate_model::now_millis();
        gateway.apply_decisions(&[ThrottleDecision {
            key: "sub:app:api".into(),
            throttled: true,
            until: now + 2_500,
            allowance: None,
        }]);
        match throttle(&gateway, &rule(), now) {
            Err(GatewayError::Throttled { retry_after_secs }) => assert_eq!(retry_after_secs, 3),
            other => panic!("not throttled: {other:?}"),
        }
        assert_eq!(counted(&gateway), 0);
        assert!(throttle(&gateway, &rule(), now + 2_500).is_ok());
    }

    #[test]
    fn an_allowance_admits_its_share_then_asks_for_more() {
        let gateway = Gateway::new();
        let now = tollgate_model::now_millis();
        gateway.apply_decisions(&[ThrottleDecision {
            key: "sub:app:api".into(),
            throttled: false,
            until: now + 60_000,
            allowance: Some(2),
        }]);
        assert!(throttle(&gateway, &rule(), now).is_ok());
        assert!(throttle(&gateway, &rule(), now).is_ok());
        assert!(matches!(
            throttle(&gateway, &rule(), now),
            Err(GatewayError::Throttled { .. })
        ));
        // Two requests counted; the refusal sent as a demand (a hit of count 0).
        let hits = gateway.hits().take();
        assert_eq!(hits.iter().map(|h| h.count).sum::<u64>(), 2);
    }
}
