//! Request ids, before routing: WSO2's `activityid` header and the W3C `traceparent`. Both are
//! passed on from the client when well-formed, generated otherwise; both go to the backend,
//! and `activityid` comes back to the client on every answer, errors included, so that a
//! client's report, the access log and the backend's log name the same request.
//!
//! A generated `activityid` is the trace id in UUID form: one random 128-bit number serves both,
//! and a trace found in a tracing system is the request found in the logs.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use rand::Rng;

/// WSO2's correlation header.
pub const ACTIVITY_ID: HeaderName = HeaderName::from_static("activityid");
/// W3C Trace Context.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The longest client-sent `activityid` passed on; a longer one is replaced.
const MAX_ACTIVITY_ID: usize = 128;

/// The ids one request carries.
#[derive(Clone, Debug)]
pub struct RequestIds {
    pub activity_id: HeaderValue,
    pub traceparent: HeaderValue,
}

/// The request's ids: the client's where well-formed, else new ones.
pub fn request_ids(headers: &HeaderMap) -> RequestIds {
    let traceparent = headers
        .get(TRACEPARENT)
        .filter(|v| is_traceparent(v.as_bytes()));
    let activity_id = headers
        .get(ACTIVITY_ID)
        .filter(|v| is_activity_id(v.as_bytes()));
    match (activity_id, traceparent) {
        (Some(activity_id), Some(traceparent)) => RequestIds {
            activity_id: activity_id.clone(),
            traceparent: traceparent.clone(),
        },
        (activity_id, Some(traceparent)) => RequestIds {
            activity_id: activity_id.cloned().unwrap_or_else(|| {
                // The trace id's 32 hex digits, after `00-`.
                uuid_form(&traceparent.as_bytes()[3..35])
            }),
            traceparent: traceparent.clone(),
        },
        (activity_id, None) => {
            let mut rng = rand::thread_rng();
            // Neither id may be all zeros (W3C); a zero draw is astronomically rare: set a bit.
            let trace_id: u128 = rng.gen::<u128>() | 1;
            let parent_id: u64 = rng.gen::<u64>() | 1;
            // `00-{trace id}-{parent id}-00`, written without the formatting machinery.
            let mut traceparent = *b"00-00000000000000000000000000000000-0000000000000000-00";
            hex_into(&mut traceparent[3..35], trace_id);
            hex_into(&mut traceparent[36..52], u128::from(parent_id));
            RequestIds {
                activity_id: activity_id
                    .cloned()
                    .unwrap_or_else(|| uuid_form(&traceparent[3..35])),
                traceparent: header_value(&traceparent),
            }
        }
    }
}

/// `value`'s lowest `out.len()` hex digits, lowercase, into `out`.
fn hex_into(out: &mut [u8], mut value: u128) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in out.iter_mut().rev() {
        *byte = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// 32 lowercase hex digits as a UUID: 8-4-4-4-12.
fn uuid_form(hex: &[u8]) -> HeaderValue {
    let mut out = [b'-'; 36];
    out[0..8].copy_from_slice(&hex[0..8]);
    out[9..13].copy_from_slice(&hex[8..12]);
    out[14..18].copy_from_slice(&hex[12..16]);
    out[19..23].copy_from_slice(&hex[16..20]);
    out[24..36].copy_from_slice(&hex[20..32]);
    header_value(&out)
}

/// Hex digits and dashes are valid header text.
fn header_value(text: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// What may pass as an `activityid`: 1 to 128 of letters, digits and `-._:`.
fn is_activity_id(value: &[u8]) -> bool {
    (1..=MAX_ACTIVITY_ID).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(b))
}

/// A `traceparent` as W3C Trace Context level 1 defines it: `version-traceid-parentid-flags` in
/// lowercase hex, version not `ff`, neither id all zeros; a later version may append fields.
fn is_traceparent(value: &[u8]) -> bool {
    let lower_hex = |s: &[u8]| s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let not_zero = |s: &[u8]| s.iter().any(|&b| b != b'0');
    if value.len() < 55 {
        return false;
    }
    let (version, trace_id, parent_id, flags) =
        (&value[0..2], &value[3..35], &value[36..52], &value[53..55]);
    value[2] == b'-'
        && value[35] == b'-'
        && value[52] == b'-'
        && lower_hex(version)
        && version != b"ff"
        && lower_hex(trace_id)
        && not_zero(trace_id)
        && lower_hex(parent_id)
        && not_zero(parent_id)
        && lower_hex(flags)
        && (value.len() == 55 || (version != b"00" && value[55] == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert((*name).clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_request_without_ids_gets_a_trace_and_the_same_id_as_its_activity() {
        let ids = request_ids(&HeaderMap::new());
        let traceparent = ids.traceparent.to_str().unwrap();
        assert!(is_traceparent(traceparent.as_bytes()), "{traceparent}");
        assert!(traceparent.ends_with("-00"));
        let activity_id = ids.activity_id.to_str().unwrap();
        assert_eq!(activity_id.len(), 36);
        assert_eq!(activity_id.replace('-', ""), traceparent[3..35]);
        assert_ne!(
            request_ids(&HeaderMap::new()).activity_id,
            ids.activity_id,
            "each request has its own"
        );
    }

    #[test]
    fn the_clients_well_formed_ids_are_kept() {
        let ids = request_ids(&headers(&[
            (&ACTIVITY_ID, "order-42:retry.1"),
            (&TRACEPARENT, PARENT),
        ]));
        assert_eq!(ids.activity_id, "order-42:retry.1");
        assert_eq!(ids.traceparent, PARENT);
        // A trace without an activity id: the activity id is the trace's.
        let ids = request_ids(&headers(&[(&TRACEPARENT, PARENT)]));
        assert_eq!(ids.activity_id, "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
    }

    #[test]
    fn malformed_ids_are_replaced() {
        for bad in [
            "",
            "has space",
            "quote\"d",
            &"x".repeat(MAX_ACTIVITY_ID + 1),
        ] {
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(bad) {
                map.insert(ACTIVITY_ID, value);
            }
            assert_ne!(request_ids(&map).activity_id, bad);
        }
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(!is_traceparent(bad.as_bytes()), "{bad}");
        }
        assert!(is_traceparent(
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"
        ));
    }
}
