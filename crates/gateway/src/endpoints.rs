//! Endpoint lists as the request path uses them, prepared when a state is built: a single
//! endpoint, a load-balanced list (round robin, optionally with session affinity by cookie), or
//! a failover list (the first endpoint that is not suspended). Each endpoint keeps its health —
//! WSO2's suspension rules — in atomics beside its settings, so the path reads one atomic per
//! endpoint and takes a lock only when a call fails, or succeeds after failures.
//!
//! A state rebuilt with an unchanged API keeps the same [`EndpointGroup`] (see `state.rs`), so
//! a suspension outlives a change elsewhere; a redeployed API starts with healthy endpoints.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, COOKIE};
use tollgate_model::{EndpointResilience, EndpointRouting, RuntimeEndpoint, TransportErrorCode};

use crate::upstream::{EndpointTrust, Upstream, UpstreamError};

/// How long a backend may take to start its answer when its endpoint sets no `actionDuration`:
/// WSO2's default socket timeout.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(180);

/// The cookie that keeps a client on one endpoint of a load-balanced list.
pub const AFFINITY_COOKIE: &str = "tollgate_lb";

/// One key type's endpoints, as the request path chooses among them.
pub struct EndpointGroup {
    members: Vec<Member>,
    kind: GroupKind,
    /// The next round-robin turn.
    turn: AtomicUsize,
}

enum GroupKind {
    Single,
    LoadBalance { affinity: Option<Affinity> },
    Failover,
}

/// A load-balanced list's affinity cookie's attributes, prepared.
struct Affinity {
    /// `; Path=/base; HttpOnly[; Max-Age=n]`
    attributes: String,
}

/// One endpoint of a list.
pub struct Member {
    pub upstream: Upstream,
    /// How long the backend may take to start its answer.
    pub timeout: Duration,
    pub settings: EndpointResilience,
    /// The value of the affinity cookie naming this endpoint: a hash of its URL, the same on
    /// every gateway.
    cookie: HeaderValue,
    health: Health,
}

/// An endpoint's health: when it may next be used, and what its failures so far decide.
#[derive(Default)]
struct Health {
    /// Milliseconds since the Unix epoch before which the endpoint is skipped; 0: usable.
    unusable_until: AtomicU64,
    /// Whether a failure is on record (a success must then clear it).
    troubled: AtomicBool,
    record: Mutex<FailureRecord>,
}

#[derive(Default)]
struct FailureRecord {
    /// Retry errors in a row (WSO2's timeout state).
    retry_failures: u32,
    /// The last suspension's length; 0: not suspended since the last success.
    last_suspension: u64,
}

/// What happened to an endpoint after a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// The error is not one the endpoint's settings act on.
    Ignored,
    /// Left alone for the retry delay (WSO2's timeout state).
    Retrying { until: u64 },
    /// Suspended.
    Suspended { until: u64 },
}

/// Why no endpoint could be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllSuspended;

impl EndpointGroup {
    /// The group for `endpoints` used as `routing`; `base_path` scopes the affinity cookie,
    /// `trust` gives an endpoint URL's uploaded certificates.
    pub fn build(
        routing: &EndpointRouting,
        endpoints: &[RuntimeEndpoint],
        base_path: &str,
        trust: &dyn Fn(&str) -> Option<Arc<EndpointTrust>>,
    ) -> Result<EndpointGroup, UpstreamError> {
        let members = endpoints
            .iter()
            .map(|endpoint| {
                Ok(Member {
                    upstream: Upstream::parse(&endpoint.url)?.trusting(trust(&endpoint.url)),
                    timeout: endpoint
                        .resilience
                        .timeout_millis
                        .map_or(DEFAULT_RESPONSE_TIMEOUT, Duration::from_millis),
                    settings: endpoint.resilience.clone(),
                    cookie: affinity_value(&endpoint.url),
                    health: Health::default(),
                })
            })
            .collect::<Result<Vec<_>, UpstreamError>>()?;
        let kind = match routing {
            _ if members.len() < 2 => GroupKind::Single,
            EndpointRouting::Single => GroupKind::Single,
            EndpointRouting::Failover => GroupKind::Failover,
            EndpointRouting::LoadBalance { affinity } => GroupKind::LoadBalance {
                affinity: affinity.as_ref().map(|affinity| {
                    let path = if base_path.is_empty() { "/" } else { base_path };
                    let mut attributes = format!("; Path={path}; HttpOnly");
                    if let Some(max_age) = affinity.max_age_secs {
                        attributes.push_str(&format!("; Max-Age={max_age}"));
                    }
                    Affinity { attributes }
                }),
            },
        };
        Ok(EndpointGroup {
            members,
            kind,
            turn: AtomicUsize::new(0),
        })
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Whether a failed request may go on to another endpoint of this group.
    pub fn has_alternatives(&self) -> bool {
        self.members.len() > 1
    }

    /// The order in which to try the endpoints for one request (indexes into
    /// [`EndpointGroup::members`]), skipping suspended ones: round robin (or the client's
    /// affinity) for a load-balanced list, the list's order for failover.
    pub fn plan(&self, now: u64, request: &HeaderMap) -> Result<Plan, AllSuspended> {
        let count = self.members.len();
        if count <= 1 {
            // The common case: one endpoint, one atomic read.
            return match self.members.first() {
                Some(member) if member.usable(now) => Ok(Plan {
                    order: [0; MAX_PLAN],
                    len: 1,
                    affine: None,
                }),
                _ => Err(AllSuspended),
            };
        }
        let affine = match &self.kind {
            GroupKind::LoadBalance { affinity: Some(_) } => self.affine_member(request),
            _ => None,
        };
        let first = match &self.kind {
            GroupKind::Single | GroupKind::Failover => 0,
            GroupKind::LoadBalance { .. } => affine
                .filter(|&i| self.members[i].usable(now))
                .unwrap_or_else(|| self.turn.fetch_add(1, Ordering::Relaxed) % count),
        };
        let mut order = [0; MAX_PLAN];
        let mut len = 0;
        for i in (first..count).chain(0..first) {
            if len == MAX_PLAN {
                break;
            }
            if self.members[i].usable(now) {
                order[len] = i;
                len += 1;
            }
        }
        if len == 0 {
            return Err(AllSuspended);
        }
        Ok(Plan { order, len, affine })
    }

    /// The `Set-Cookie` value that keeps the client on `member`, when this group has affinity
    /// and the request's cookie (`affine`, see [`Plan::affine`]) did not already name it.
    pub fn affinity_cookie(&self, member: usize, affine: Option<usize>) -> Option<HeaderValue> {
        let GroupKind::LoadBalance {
            affinity: Some(affinity),
        } = &self.kind
        else {
            return None;
        };
        if affine == Some(member) {
            return None;
        }
        let value = format!(
            "{AFFINITY_COOKIE}={}{}",
            self.members[member].cookie.to_str().unwrap_or_default(),
            affinity.attributes
        );
        HeaderValue::from_str(&value).ok()
    }

    /// The member the request's affinity cookie names.
    fn affine_member(&self, request: &HeaderMap) -> Option<usize> {
        let value = request
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == AFFINITY_COOKIE).then_some(value)
            })?;
        self.members
            .iter()
            .position(|m| m.cookie.as_bytes() == value.as_bytes())
    }
}

/// The most endpoints one request tries: a list longer than this is balanced over all of its
/// endpoints, each request trying at most this many.
const MAX_PLAN: usize = 16;

/// The endpoints one request may try, in order.
pub struct Plan {
    order: [usize; MAX_PLAN],
    len: usize,
    /// The endpoint the request's affinity cookie named.
    affine: Option<usize>,
}

impl Plan {
    pub fn affine(&self) -> Option<usize> {
        self.affine
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.order[..self.len].iter().copied()
    }
}

impl Member {
    /// Whether the endpoint may be called at `now` (milliseconds since the Unix epoch).
    fn usable(&self, now: u64) -> bool {
        self.health.unusable_until.load(Ordering::Relaxed) <= now
    }

    /// The call succeeded: a suspended or retrying endpoint is active again.
    pub fn succeeded(&self) {
        if !self.health.troubled.load(Ordering::Relaxed) {
            return;
        }
        let mut record = tollgate_guard::lock(&self.health.record);
        *record = FailureRecord::default();
        self.health.unusable_until.store(0, Ordering::Relaxed);
        self.health.troubled.store(false, Ordering::Relaxed);
    }

    /// The call failed with `code` at `now`: WSO2's rules decide whether the endpoint is left
    /// alone for the retry delay, suspended (for a growing interval), or kept in use.
    pub fn failed(&self, code: TransportErrorCode, now: u64) -> FailureOutcome {
        let settings = &self.settings;
        let mut record = tollgate_guard::lock(&self.health.record);
        let retried = settings.retry_error_codes.contains(&code);
        if retried && record.retry_failures < settings.retries_before_suspension {
            record.retry_failures += 1;
            let until = now + settings.retry_delay_millis;
            self.health.unusable_until.store(until, Ordering::Relaxed);
            self.health.troubled.store(true, Ordering::Relaxed);
            return FailureOutcome::Retrying { until };
        }
        let suspends = retried
            || if settings.suspend_error_codes.is_empty() {
                true
            } else {
                settings.suspend_error_codes.contains(&code)
            };
        if !suspends || settings.suspend_initial_millis == 0 {
            return FailureOutcome::Ignored;
        }
        let length = if record.last_suspension == 0 {
            settings.suspend_initial_millis
        } else {
            (record.last_suspension as f64 * settings.suspend_factor) as u64
        };
        let length = settings
            .suspend_max_millis
            .filter(|&max| max > 0)
            .map_or(length, |max| length.min(max));
        record.last_suspension = length;
        record.retry_failures = 0;
        let until = now + length;
        self.health.unusable_until.store(until, Ordering::Relaxed);
        self.health.troubled.store(true, Ordering::Relaxed);
        FailureOutcome::Suspended { until }
    }
}

/// The affinity cookie's value for an endpoint: FNV-1a of its URL, in hex — stable across
/// gateways and restarts, so any gateway sends a client back to the same endpoint.
fn affinity_value(url: &str) -> HeaderValue {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in url.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    HeaderValue::from_str(&format!("{hash:016x}")).unwrap_or(HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_model::SessionAffinity;

    fn endpoints(urls: &[&str], resilience: EndpointResilience) -> Vec<RuntimeEndpoint> {
        urls.iter()
            .map(|url| RuntimeEndpoint {
                url: url.to_string(),
                resilience: resilience.clone(),
            })
            .collect()
    }

    /// One endpoint, `http://a`, with `settings`.
    fn single(settings: EndpointResilience) -> EndpointGroup {
        EndpointGroup::build(
            &EndpointRouting::Single,
            &endpoints(&["http://a"], settings),
            "",
            &|_| None,
        )
        .unwrap()
    }

    fn order(group: &EndpointGroup, now: u64, headers: &HeaderMap) -> Vec<usize> {
        group.plan(now, headers).unwrap().iter().collect()
    }

    #[test]
    fn round_robin_turns_and_tries_the_rest_in_order() {
        let list = endpoints(&["http://a", "http://b", "http://c"], Default::default());
        let routing = EndpointRouting::LoadBalance { affinity: None };
        let group = EndpointGroup::build(&routing, &list, "/api/1", &|_| None).unwrap();
        let none = HeaderMap::new();
        assert_eq!(order(&group, 0, &none), [0, 1, 2]);
        assert_eq!(order(&group, 0, &none), [1, 2, 0]);
        assert_eq!(order(&group, 0, &none), [2, 0, 1]);
        // A suspended endpoint is skipped until its suspension ends.
        let outcome = group.members[0].failed(TransportErrorCode::ConnectionFailed, 1_000);
        assert_eq!(outcome, FailureOutcome::Suspended { until: 31_000 });
        assert_eq!(order(&group, 2_000, &none), [1, 2]);
        assert_eq!(order(&group, 31_000, &none).len(), 3);
    }

    #[test]
    fn failover_keeps_the_order_and_every_suspended_endpoint_is_refused() {
        let list = endpoints(&["http://primary", "http://backup"], Default::default());
        let group =
            EndpointGroup::build(&EndpointRouting::Failover, &list, "/f", &|_| None).unwrap();
        let none = HeaderMap::new();
        assert_eq!(order(&group, 0, &none), [0, 1]);
        assert_eq!(order(&group, 0, &none), [0, 1]);
        group.members[0].failed(TransportErrorCode::ConnectionFailed, 0);
        assert_eq!(order(&group, 1, &none), [1]);
        group.members[1].failed(TransportErrorCode::ConnectionTimedOut, 0);
        assert!(group.plan(1, &none).is_err());
        // A success ends the suspension at once.
        group.members[0].succeeded();
        assert_eq!(order(&group, 1, &none), [0]);
    }

    #[test]
    fn suspensions_grow_by_the_factor_up_to_the_maximum_and_reset_on_success() {
        let settings = EndpointResilience {
            suspend_initial_millis: 1_000,
            suspend_factor: 3.0,
            suspend_max_millis: Some(5_000),
            ..Default::default()
        };
        let group = single(settings);
        let member = &group.members[0];
        let code = TransportErrorCode::ConnectionFailed;
        assert_eq!(
            member.failed(code, 0),
            FailureOutcome::Suspended { until: 1_000 }
        );
        assert_eq!(
            member.failed(code, 1_000),
            FailureOutcome::Suspended { until: 4_000 }
        );
        assert_eq!(
            member.failed(code, 4_000),
            FailureOutcome::Suspended { until: 9_000 }
        );
        member.succeeded();
        assert_eq!(
            member.failed(code, 9_000),
            FailureOutcome::Suspended { until: 10_000 }
        );
    }

    #[test]
    fn retry_errors_are_borne_before_suspension_and_other_codes_are_ignored() {
        let settings = EndpointResilience {
            suspend_error_codes: vec![TransportErrorCode::ConnectionFailed],
            retry_error_codes: vec![TransportErrorCode::ConnectionTimedOut],
            retries_before_suspension: 2,
            retry_delay_millis: 100,
            ..Default::default()
        };
        let group = single(settings);
        let member = &group.members[0];
        let timeout = TransportErrorCode::ConnectionTimedOut;
        assert_eq!(
            member.failed(timeout, 0),
            FailureOutcome::Retrying { until: 100 }
        );
        assert_eq!(
            member.failed(timeout, 100),
            FailureOutcome::Retrying { until: 200 }
        );
        assert_eq!(
            member.failed(timeout, 200),
            FailureOutcome::Suspended { until: 30_200 }
        );
        member.succeeded();
        assert_eq!(
            member.failed(TransportErrorCode::ConnectionClosed, 0),
            FailureOutcome::Ignored
        );
        assert!(member.usable(1));
        // Zero initial and maximum durations: never suspended (WSO2's way to turn it off).
        let off = EndpointResilience {
            suspend_initial_millis: 0,
            ..Default::default()
        };
        let group = single(off);
        assert_eq!(
            group.members[0].failed(TransportErrorCode::ConnectionFailed, 0),
            FailureOutcome::Ignored
        );
    }

    #[test]
    fn affinity_sends_a_client_back_to_its_endpoint() {
        let list = endpoints(&["http://a", "http://b"], Default::default());
        let routing = EndpointRouting::LoadBalance {
            affinity: Some(SessionAffinity {
                max_age_secs: Some(600),
            }),
        };
        let group = EndpointGroup::build(&routing, &list, "/shop/1.0", &|_| None).unwrap();
        let none = HeaderMap::new();
        let first = order(&group, 0, &none)[0];
        let set = group.affinity_cookie(first, None).unwrap();
        let set = set.to_str().unwrap();
        assert!(
            set.ends_with("; Path=/shop/1.0; HttpOnly; Max-Age=600"),
            "{set}"
        );
        let mut headers = HeaderMap::new();
        let pair = set.split(';').next().unwrap();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=1; {pair}")).unwrap(),
        );
        for _ in 0..4 {
            assert_eq!(order(&group, 0, &headers)[0], first);
        }
        let affine = group.plan(0, &headers).unwrap().affine();
        assert_eq!(affine, Some(first));
        assert!(
            group.affinity_cookie(first, affine).is_none(),
            "already set"
        );
        // Its endpoint suspended, the client goes elsewhere.
        group.members[first].failed(TransportErrorCode::ConnectionFailed, 0);
        assert_eq!(order(&group, 1, &headers), [1 - first]);
    }
}
