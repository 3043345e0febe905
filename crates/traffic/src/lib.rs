//! The traffic manager: the event hub that broadcasts controller events to every gateway, and
//! the throttle counter that turns the gateways' request hits into throttle decisions.
//!
//! [`EventHub`] is the in-process core: a bounded broadcast channel (a subscriber that falls
//! behind is told it lagged and reloads a snapshot, so a slow gateway never blocks anyone) plus
//! the counter. [`server::router`] puts it on the network: WebSocket endpoints on 9611 (plain)
//! and 9711 (TLS) for gateways and for the control plane.

pub mod server;
mod throttle;

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tollgate_model::wire::{ThrottleDecision, ThrottleHit};
use tollgate_model::{Event, EventEnvelope, ThrottlePolicy};

pub use throttle::ThrottleCounter;

/// How many outputs a subscriber may fall behind before it must reload.
pub const HUB_CAPACITY: usize = 4096;

/// What the hub sends its subscribers (it never sends `Resync`; links to remote hubs do).
pub use tollgate_model::wire::FeedItem as HubOutput;

pub struct EventHub {
    /// Identity of this hub instance; a node that sees a new one knows the hub restarted.
    id: String,
    sender: broadcast::Sender<HubOutput>,
    /// Only the hits path and policy updates take this; the request path never does.
    counter: Mutex<ThrottleCounter>,
    /// Woken when hits name a policy the counter does not know, so policies are reloaded now.
    policies_wanted: tokio::sync::Notify,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(HUB_CAPACITY);
        EventHub {
            id: uuid::Uuid::new_v4().to_string(),
            sender,
            counter: Mutex::new(ThrottleCounter::default()),
            policies_wanted: tokio::sync::Notify::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Broadcasts an event to every current subscriber; returns how many received it.
    pub fn publish(&self, envelope: Arc<EventEnvelope>) -> usize {
        match &envelope.event {
            Event::PolicyUpdate(policy) => self.set_policies(std::slice::from_ref(policy)),
            Event::PolicyDelete { level, name } => self.counter().remove_policy(*level, name),
            _ => {}
        }
        self.sender.send(HubOutput::Event(envelope)).unwrap_or(0)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubOutput> {
        self.sender.subscribe()
    }

    /// Adds or replaces the throttling policies limits are taken from.
    pub fn set_policies(&self, policies: &[ThrottlePolicy]) {
        self.counter().set_policies(policies);
    }

    /// Counts a gateway's hits and broadcasts the decisions they lead to.
    pub fn record_hits(&self, gateway: &str, hits: &[ThrottleHit]) {
        let decisions = {
            let mut counter = self.counter();
            let decisions = counter.record(
                gateway,
                self.sender.receiver_count(),
                hits,
                tollgate_model::now_millis(),
            );
            if std::mem::take(&mut counter.unknown_policy_seen) {
                self.policies_wanted.notify_one();
            }
            decisions
        };
        if !decisions.is_empty() {
            tracing::debug!(count = decisions.len(), "throttle decisions");
            let _ = self.sender.send(HubOutput::Decisions(Arc::new(decisions)));
        }
    }

    /// Resolves when hits have named a policy the hub does not know.
    pub async fn policies_wanted(&self) {
        self.policies_wanted.notified().await
    }

    /// Decisions still in force, for a gateway that has just connected.
    pub fn active_decisions(&self) -> Vec<ThrottleDecision> {
        self.counter().active(tollgate_model::now_millis())
    }

    /// The counter (a panic while it was held leaves it as it was: counting goes on, see
    /// [`tollgate_guard::lock`]).
    fn counter(&self) -> std::sync::MutexGuard<'_, ThrottleCounter> {
        tollgate_guard::lock(&self.counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_receives_each_event() {
        let hub = EventHub::new();
        let mut a = hub.subscribe();
        let mut b = hub.subscribe();
        let envelope = Arc::new(EventEnvelope {
            seq: 1,
            epoch: "e".into(),
            tenant: "carbon.super".into(),
            time: 0,
            event: Event::ApplicationDelete {
                application_id: "x".into(),
            },
        });
        assert_eq!(hub.publish(envelope.clone()), 2);
        assert_eq!(a.recv().await.unwrap(), HubOutput::Event(envelope.clone()));
        assert_eq!(b.recv().await.unwrap(), HubOutput::Event(envelope));
    }
}
