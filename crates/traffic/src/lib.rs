//! The traffic manager: the event hub that broadcasts controller events to every gateway, and
//! (with the throttling work) the counting of request events into throttle decisions.
//!
//! This first hub is in-process: a bounded broadcast channel. A subscriber that falls behind
//! by more than the channel holds is told it lagged and reloads a snapshot, so a slow gateway
//! can never block the publisher. The network transport (WebSocket on 9611/9711) wraps it.

use std::sync::Arc;

use tokio::sync::broadcast;
use tollgate_model::EventEnvelope;

/// How many events a subscriber may fall behind before it must reload.
pub const HUB_CAPACITY: usize = 4096;

pub struct EventHub {
    sender: broadcast::Sender<Arc<EventEnvelope>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(HUB_CAPACITY);
        EventHub { sender }
    }

    /// Broadcasts to every current subscriber; returns how many received it.
    pub fn publish(&self, envelope: Arc<EventEnvelope>) -> usize {
        self.sender.send(envelope).unwrap_or(0)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_model::Event;

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
        assert_eq!(a.recv().await.unwrap(), envelope);
        assert_eq!(b.recv().await.unwrap(), envelope);
    }
}
