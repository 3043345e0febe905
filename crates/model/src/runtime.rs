use std::collections::HashMap;

use crate::{
    Application, ConsumerKeyRevocation, DeployedApi, EndpointCertificate, Event, EventEnvelope,
    ExternalKeyManager, KeyMapping, PolicyLevel, RevokedToken, RuntimeApi, SigningKey, Snapshot,
    Subscription, ThrottlePolicy,
};

/// The facts a gateway runs on, folded from a snapshot and the events after it.
///
/// This is the plain, easily changed form; the gateway builds its lookup indexes from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeData {
    pub epoch: String,
    /// The last applied outbox sequence.
    pub seq: i64,
    /// The gateway environments (labels) this node serves; deployments elsewhere are ignored.
    pub environments: Vec<String>,
    /// Keyed by (environment, API id).
    pub apis: HashMap<(String, String), RuntimeApi>,
    pub applications: HashMap<String, Application>,
    /// Keyed by consumer key.
    pub key_mappings: HashMap<String, KeyMapping>,
    /// Keyed by subscription id.
    pub subscriptions: HashMap<String, Subscription>,
    /// Keyed by `kid`.
    pub signing_keys: HashMap<String, SigningKey>,
    /// Keyed by (level, name).
    pub policies: HashMap<(PolicyLevel, String), ThrottlePolicy>,
    /// Revoked token id → its expiry (seconds since the Unix epoch).
    pub revoked_tokens: HashMap<String, i64>,
    /// Consumer key → the revocation of its tokens issued before a moment.
    pub revoked_consumer_keys: HashMap<String, ConsumerKeyRevocation>,
    /// External key managers by id.
    pub key_managers: HashMap<String, ExternalKeyManager>,
    /// Endpoint certificates by (tenant, alias).
    pub endpoint_certificates: HashMap<(String, String), EndpointCertificate>,
}

/// What became of an event handed to [`RuntimeData::apply_envelope`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    /// Already included (a duplicate from a second hub, or older than the snapshot).
    Stale,
    /// Events were missed: the state must be reloaded from a snapshot.
    Gap {
        expected: i64,
        got: i64,
    },
    /// The outbox was replaced (a new database): the state must be reloaded from a snapshot.
    NewEpoch,
}

impl RuntimeData {
    pub fn new(environments: Vec<String>) -> Self {
        RuntimeData {
            environments,
            ..Default::default()
        }
    }

    /// Folds a snapshot with the very function that applies live events.
    pub fn from_snapshot(snapshot: Snapshot, environments: Vec<String>) -> Self {
        let mut data = RuntimeData::new(environments);
        data.epoch = snapshot.epoch;
        data.seq = snapshot.seq;
        // By value: a gateway's snapshot can hold hundreds of thousands of entries, and it is
        // not kept beside the state folded from it.
        let events = snapshot
            .signing_keys
            .into_iter()
            .map(Event::KeyRotation)
            .chain(snapshot.apis.into_iter().map(Event::ApiDeploy))
            .chain(
                snapshot
                    .applications
                    .into_iter()
                    .map(Event::ApplicationCreate),
            )
            .chain(
                snapshot
                    .key_mappings
                    .into_iter()
                    .map(Event::KeyMappingCreate),
            )
            .chain(
                snapshot
                    .subscriptions
                    .into_iter()
                    .map(Event::SubscriptionCreate),
            )
            .chain(snapshot.policies.into_iter().map(Event::PolicyUpdate))
            .chain(
                snapshot
                    .revoked_tokens
                    .into_iter()
                    .map(Event::TokenRevocation),
            )
            .chain(
                snapshot
                    .revoked_consumer_keys
                    .into_iter()
                    .map(Event::ConsumerKeyRevocation),
            )
            .chain(
                snapshot
                    .key_managers
                    .into_iter()
                    .map(Event::KeyManagerUpdate),
            )
            .chain(
                snapshot
                    .endpoint_certificates
                    .into_iter()
                    .map(Event::EndpointCertificateUpdate),
            );
        for event in events {
            data.apply(&event);
        }
        data
    }

    /// Applies an event in sequence order, or says why it cannot be.
    pub fn apply_envelope(&mut self, envelope: &EventEnvelope) -> ApplyOutcome {
        if envelope.epoch != self.epoch {
            return ApplyOutcome::NewEpoch;
        }
        if envelope.seq <= self.seq {
            return ApplyOutcome::Stale;
        }
        if envelope.seq != self.seq + 1 {
            return ApplyOutcome::Gap {
                expected: self.seq + 1,
                got: envelope.seq,
            };
        }
        self.apply(&envelope.event);
        self.seq = envelope.seq;
        ApplyOutcome::Applied
    }

    /// Applies one change. Idempotent: applying the same event twice leaves the same state.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::ApiDeploy(DeployedApi { environment, api }) => {
                if self.serves(environment) {
                    self.apis
                        .insert((environment.clone(), api.id.clone()), api.clone());
                }
            }
            Event::ApiUndeploy {
                api_id,
                environment,
            } => {
                self.apis.remove(&(environment.clone(), api_id.clone()));
            }
            Event::ApiDefaultVersion {
                api_id,
                tenant,
                name,
                is_default,
            } => {
                for ((_, id), api) in self.apis.iter_mut() {
                    if id == api_id {
                        api.is_default_version = *is_default;
                    } else if *is_default && api.tenant == *tenant && api.name == *name {
                        api.is_default_version = false;
                    }
                }
            }
            Event::ApiDelete { api_id } => {
                self.apis.retain(|(_, id), _| id != api_id);
            }
            Event::ApiLifecycleChange { api_id, status } => {
                for ((_, id), api) in self.apis.iter_mut() {
                    if id == api_id {
                        api.lifecycle_status = *status;
                    }
                }
            }
            Event::ApplicationCreate(app) | Event::ApplicationUpdate(app) => {
                self.applications.insert(app.id.clone(), app.clone());
            }
            Event::ApplicationDelete { application_id } => {
                self.applications.remove(application_id);
                self.key_mappings
                    .retain(|_, k| &k.application_id != application_id);
                self.subscriptions
                    .retain(|_, s| &s.application_id != application_id);
            }
            Event::KeyMappingCreate(mapping) => {
                self.key_mappings
                    .insert(mapping.consumer_key.clone(), mapping.clone());
            }
            Event::KeyMappingRemove { consumer_key } => {
                self.key_mappings.remove(consumer_key);
            }
            Event::SubscriptionCreate(sub) | Event::SubscriptionUpdate(sub) => {
                self.subscriptions.insert(sub.id.clone(), sub.clone());
            }
            Event::SubscriptionDelete {
                subscription_id, ..
            } => {
                self.subscriptions.remove(subscription_id);
            }
            Event::KeyRotation(key) => {
                self.signing_keys.insert(key.kid.clone(), key.clone());
            }
            Event::TokenRevocation(token) => {
                self.revoked_tokens
                    .insert(token.jti.clone(), token.expires_at);
            }
            Event::ConsumerKeyRevocation(revocation) => {
                self.revoked_consumer_keys
                    .insert(revocation.consumer_key.clone(), revocation.clone());
            }
            Event::KeyManagerUpdate(key_manager) => {
                self.key_managers
                    .insert(key_manager.id.clone(), key_manager.clone());
            }
            Event::KeyManagerDelete { id } => {
                self.key_managers.remove(id);
            }
            Event::EndpointCertificateUpdate(certificate) => {
                self.endpoint_certificates.insert(
                    (certificate.tenant.clone(), certificate.alias.clone()),
                    certificate.clone(),
                );
            }
            Event::EndpointCertificateDelete { tenant, alias } => {
                self.endpoint_certificates
                    .remove(&(tenant.clone(), alias.clone()));
            }
            Event::PolicyUpdate(policy) => {
                self.policies
                    .insert((policy.level, policy.name.clone()), policy.clone());
            }
            Event::PolicyDelete { level, name } => {
                self.policies.remove(&(*level, name.clone()));
            }
        }
    }

    /// Forgets revoked tokens that no verifier would take anyway: expired longer than the
    /// largest clock leeway ago (`now` in seconds). Whether it forgot any.
    pub fn prune_revocations(&mut self, now: i64) -> bool {
        let horizon = now.saturating_sub(crate::REVOCATION_GRACE_SECS);
        let before = self.revoked_tokens.len() + self.revoked_consumer_keys.len();
        self.revoked_tokens
            .retain(|_, expires_at| *expires_at >= horizon);
        self.revoked_consumer_keys
            .retain(|_, revocation| revocation.expires_at >= horizon);
        before != self.revoked_tokens.len() + self.revoked_consumer_keys.len()
    }

    /// The state as a snapshot again (what a gateway persists to start from when it is alone).
    pub fn to_snapshot(&self) -> Snapshot {
        Snapshot {
            epoch: self.epoch.clone(),
            seq: self.seq,
            apis: self
                .apis
                .iter()
                .map(|((environment, _), api)| DeployedApi {
                    environment: environment.clone(),
                    api: api.clone(),
                })
                .collect(),
            applications: self.applications.values().cloned().collect(),
            key_mappings: self.key_mappings.values().cloned().collect(),
            subscriptions: self.subscriptions.values().cloned().collect(),
            signing_keys: self.signing_keys.values().cloned().collect(),
            policies: self.policies.values().cloned().collect(),
            revoked_tokens: self
                .revoked_tokens
                .iter()
                .map(|(jti, expires_at)| RevokedToken {
                    jti: jti.clone(),
                    expires_at: *expires_at,
                })
                .collect(),
            revoked_consumer_keys: self.revoked_consumer_keys.values().cloned().collect(),
            key_managers: self.key_managers.values().cloned().collect(),
            endpoint_certificates: self.endpoint_certificates.values().cloned().collect(),
        }
    }

    fn serves(&self, environment: &str) -> bool {
        self.environments.iter().any(|e| e == environment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Endpoints, KeyType};

    fn api(id: &str) -> RuntimeApi {
        RuntimeApi {
            id: id.into(),
            tenant: "carbon.super".into(),
            name: "N".into(),
            version: "1.0.0".into(),
            context: "/n".into(),
            provider: "admin".into(),
            lifecycle_status: crate::LifecycleState::Created,
            revision_id: "r1".into(),
            api_throttling_policy: None,
            operations: vec![],
            endpoints: Endpoints::default(),
            is_default_version: false,
            audiences: vec![],
            authentication: Default::default(),
            vhost: None,
            api_type: Default::default(),
        }
    }

    fn envelope(seq: i64, event: Event) -> EventEnvelope {
        EventEnvelope {
            seq,
            epoch: "e".into(),
            tenant: "carbon.super".into(),
            time: 0,
            event,
        }
    }

    #[test]
    fn snapshot_and_events_fold_to_the_same_state() {
        let deployed = DeployedApi {
            environment: "Default".into(),
            api: api("a1"),
        };
        let mapping = KeyMapping {
            id: "k".into(),
            application_id: "app".into(),
            consumer_key: "ck".into(),
            key_type: KeyType::Production,
            key_manager: "Resident Key Manager".into(),
        };
        let snapshot = Snapshot {
            epoch: "e".into(),
            seq: 2,
            apis: vec![deployed.clone()],
            key_mappings: vec![mapping.clone()],
            ..Default::default()
        };
        let from_snapshot = RuntimeData::from_snapshot(snapshot, vec!["Default".into()]);

        let mut from_events = RuntimeData::new(vec!["Default".into()]);
        from_events.epoch = "e".into();
        assert_eq!(
            from_events.apply_envelope(&envelope(1, Event::ApiDeploy(deployed))),
            ApplyOutcome::Applied
        );
        assert_eq!(
            from_events.apply_envelope(&envelope(2, Event::KeyMappingCreate(mapping))),
            ApplyOutcome::Applied
        );
        assert_eq!(from_snapshot, from_events);
        let again = RuntimeData::from_snapshot(from_events.to_snapshot(), vec!["Default".into()]);
        assert_eq!(again, from_events);
    }

    #[test]
    fn duplicates_gaps_and_epochs_are_recognised() {
        let mut data = RuntimeData::new(vec!["Default".into()]);
        data.epoch = "e".into();
        data.seq = 5;
        let event = Event::ApiLifecycleChange {
            api_id: "a".into(),
            status: crate::LifecycleState::Published,
        };
        assert_eq!(
            data.apply_envelope(&envelope(5, event.clone())),
            ApplyOutcome::Stale
        );
        assert_eq!(
            data.apply_envelope(&envelope(7, event.clone())),
            ApplyOutcome::Gap {
                expected: 6,
                got: 7
            }
        );
        let mut other = envelope(6, event);
        other.epoch = "f".into();
        assert_eq!(data.apply_envelope(&other), ApplyOutcome::NewEpoch);
    }

    #[test]
    fn deployments_to_other_environments_are_ignored() {
        let mut data = RuntimeData::new(vec!["Default".into()]);
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Edge".into(),
            api: api("a1"),
        }));
        assert!(data.apis.is_empty());
    }
}
