//! The event hub's wire protocol: JSON text frames over one WebSocket per node.
//!
//! Every frame is `{"v": 1, "kind": "...", ...}`. A receiver refuses frames of a version it does
//! not speak and ignores kinds it does not know, so either side can be upgraded first.

use serde::{Deserialize, Serialize};

use crate::EventEnvelope;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Path of the hub's WebSocket endpoint for gateways (events and throttle decisions out, request
/// hits in).
pub const SUBSCRIBE_PATH: &str = "/hub/v1/subscribe";
/// Path of the hub's WebSocket endpoint for the control plane (events in, acknowledgements out).
pub const PUBLISH_PATH: &str = "/hub/v1/publish";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub v: u32,
    #[serde(flatten)]
    pub body: FrameBody,
}

impl Frame {
    pub fn new(body: FrameBody) -> Frame {
        Frame {
            v: PROTOCOL_VERSION,
            body,
        }
    }

    /// Reads a frame received from a peer: the one place the version is checked. A frame of
    /// another [`PROTOCOL_VERSION`] is refused; a kind this build does not know is read as
    /// [`FrameBody::Unknown`], for the receiver to ignore.
    pub fn decode(text: &str) -> Result<Frame, FrameError> {
        match serde_json::from_str::<Frame>(text) {
            Ok(frame) if frame.v == PROTOCOL_VERSION => Ok(frame),
            Ok(frame) => Err(FrameError::UnknownVersion(frame.v)),
            Err(err) => Err(FrameError::Malformed(err)),
        }
    }
}

/// Why a received frame was not taken (the receiver logs it and reads on).
#[derive(Debug)]
pub enum FrameError {
    /// Not JSON, or not the shape of any frame.
    Malformed(serde_json::Error),
    /// A protocol version this build does not speak.
    UnknownVersion(u32),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Malformed(err) => write!(f, "malformed frame: {err}"),
            FrameError::UnknownVersion(v) => write!(f, "frame of unknown protocol version {v}"),
        }
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FrameError::Malformed(err) => Some(err),
            FrameError::UnknownVersion(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FrameBody {
    /// Hub → node, first frame of a connection. A new `hub_id` means a restarted hub.
    Hello { hub_id: String },
    /// Control plane → hub → gateways: one controller event.
    Event { envelope: Box<EventEnvelope> },
    /// Hub → control plane: every event up to `seq` has been broadcast.
    Ack { seq: i64 },
    /// Gateway → hub: requests served since the last batch, counted per throttle key.
    Hits {
        gateway: String,
        hits: Vec<ThrottleHit>,
    },
    /// Hub → gateways: throttle decisions.
    Decisions { decisions: Vec<ThrottleDecision> },
    /// Anything this build does not know (sent by a newer peer).
    #[serde(other)]
    Unknown,
}

/// Requests a gateway admitted for one throttle key within one window (WSO2's request stream,
/// aggregated per batch so its cost does not grow with the request rate).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThrottleHit {
    /// The throttle key, e.g. `sub:{applicationId}:{apiId}`.
    pub key: String,
    /// The policy (tier) that limits the key and its level.
    pub level: crate::PolicyLevel,
    pub policy: String,
    /// Start of the clock-aligned window the requests fell in, in milliseconds.
    pub window_start: i64,
    pub count: u64,
}

/// A throttle decision: `key` is refused until `until` (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThrottleDecision {
    pub key: String,
    pub throttled: bool,
    pub until: i64,
    /// When not throttled: how many more requests each gateway may admit for the key before
    /// `until` unless told more. Sent once a key has used half its limit, so together the
    /// gateways stay within it without asking per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<u64>,
}

/// The subscription-level throttle key, as gateways and the traffic manager both derive it.
pub fn subscription_key(application_id: &str, api_id: &str) -> String {
    format!("sub:{application_id}:{api_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_versioned_and_unknown_kinds_are_tolerated() {
        let frame = Frame::new(FrameBody::Ack { seq: 7 });
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(text, r#"{"v":1,"kind":"ack","seq":7}"#);
        assert_eq!(serde_json::from_str::<Frame>(&text).unwrap(), frame);
        let future: Frame = serde_json::from_str(r#"{"v":1,"kind":"gossip","x":1}"#).unwrap();
        assert_eq!(future.body, FrameBody::Unknown);
    }

    #[test]
    fn decode_checks_the_version_and_tolerates_unknown_kinds() {
        assert_eq!(
            Frame::decode(r#"{"v":1,"kind":"ack","seq":7}"#).unwrap(),
            Frame::new(FrameBody::Ack { seq: 7 })
        );
        // A kind of a newer peer, in the version spoken: taken, to be ignored.
        assert_eq!(
            Frame::decode(r#"{"v":1,"kind":"gossip","x":1}"#)
                .unwrap()
                .body,
            FrameBody::Unknown
        );
        // Another version, whatever its kind: refused.
        for other in [
            r#"{"v":2,"kind":"ack","seq":7}"#,
            r#"{"v":0,"kind":"gossip"}"#,
        ] {
            assert!(
                matches!(Frame::decode(other), Err(FrameError::UnknownVersion(v)) if v != 1),
                "{other}"
            );
        }
        // Not a frame at all.
        for garbage in [
            "",
            "not json",
            r#"{"kind":"ack","seq":7}"#,
            r#"{"v":1}"#,
            r#"{"v":1,"kind":"ack"}"#,
        ] {
            assert!(
                matches!(Frame::decode(garbage), Err(FrameError::Malformed(_))),
                "{garbage}"
            );
        }
    }
}

/// What a gateway's feed delivers: controller events, throttle decisions, and "reload" when the
/// link to a hub was (re)established and events may have been missed.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    Event(std::sync::Arc<EventEnvelope>),
    Decisions(std::sync::Arc<Vec<ThrottleDecision>>),
    Resync,
}

/// What a gateway tells the control plane about itself: which outbox position its state has
/// applied, for the environments it serves. Sent when it changes and as a heartbeat.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayReport {
    pub node_id: String,
    pub labels: Vec<String>,
    pub epoch: String,
    pub applied_seq: i64,
}

/// Path of the control plane's endpoint gateways report to, under its internal data API.
pub const GATEWAY_REPORT_PATH: &str = "/internal/data/v1/gateway-status";

/// Path of the control plane's introspection of opaque tokens for gateways (the body is the
/// token, as `token=` in a form, like RFC 7662).
pub const INTROSPECT_PATH: &str = "/internal/data/v1/introspect";

/// An active opaque access token, as a gateway needs it (what RFC 7662's answer says of it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntrospectedToken {
    pub client_id: String,
    pub scope: String,
    /// The token's id: what its revocation names.
    pub jti: String,
    pub exp: i64,
    pub iat: i64,
}
