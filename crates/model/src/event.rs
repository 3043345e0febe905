use serde::{Deserialize, Serialize};

use crate::{
    Application, ConsumerKeyRevocation, DeployedApi, EndpointCertificate, ExternalKeyManager,
    KeyMapping, LifecycleState, PolicyLevel, RevokedToken, SigningKey, Subscription,
    ThrottlePolicy,
};

/// A controller event: one change in the control plane that gateways must learn about.
///
/// The tags are WSO2's event type names, so operators reading a hub's traffic recognise them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
#[expect(
    clippy::large_enum_variant,
    reason = "events are built once and handled off the request path; most are API deployments"
)]
pub enum Event {
    #[serde(rename = "DEPLOY_API_IN_GATEWAY")]
    ApiDeploy(DeployedApi),
    #[serde(rename = "REMOVE_API_FROM_GATEWAY")]
    ApiUndeploy { api_id: String, environment: String },
    /// An API became (or stopped being) the default version of its name; when it became one,
    /// the other versions of the name stopped.
    #[serde(rename = "API_DEFAULT_VERSION")]
    ApiDefaultVersion {
        api_id: String,
        tenant: String,
        name: String,
        is_default: bool,
    },
    /// The API is gone: every environment forgets it.
    #[serde(rename = "API_DELETE")]
    ApiDelete { api_id: String },
    #[serde(rename = "LIFECYCLE_CHANGE")]
    ApiLifecycleChange {
        api_id: String,
        status: LifecycleState,
    },
    #[serde(rename = "APPLICATION_CREATE")]
    ApplicationCreate(Application),
    #[serde(rename = "APPLICATION_UPDATE")]
    ApplicationUpdate(Application),
    #[serde(rename = "APPLICATION_DELETE")]
    ApplicationDelete { application_id: String },
    #[serde(rename = "APPLICATION_REGISTRATION_CREATE")]
    KeyMappingCreate(KeyMapping),
    #[serde(rename = "REMOVE_APPLICATION_KEYMAPPING")]
    KeyMappingRemove { consumer_key: String },
    #[serde(rename = "SUBSCRIPTIONS_CREATE")]
    SubscriptionCreate(Subscription),
    #[serde(rename = "SUBSCRIPTIONS_UPDATE")]
    SubscriptionUpdate(Subscription),
    #[serde(rename = "SUBSCRIPTIONS_DELETE")]
    SubscriptionDelete {
        subscription_id: String,
        application_id: String,
        api_id: String,
    },
    #[serde(rename = "KEY_ROTATION")]
    KeyRotation(SigningKey),
    #[serde(rename = "TOKEN_REVOCATION")]
    TokenRevocation(RevokedToken),
    #[serde(rename = "INTERNAL_TOKEN_REVOCATION_CONSUMER_KEY")]
    ConsumerKeyRevocation(ConsumerKeyRevocation),
    /// A throttling policy created or changed (WSO2 sends POLICY_CREATE and POLICY_UPDATE).
    #[serde(rename = "POLICY_UPDATE")]
    PolicyUpdate(ThrottlePolicy),
    #[serde(rename = "POLICY_DELETE")]
    PolicyDelete { level: PolicyLevel, name: String },
    /// An external key manager added or changed (WSO2's KEY_MANAGER_CONFIGURATION, action
    /// add or update).
    #[serde(rename = "KEY_MANAGER_CONFIGURATION_UPDATE")]
    KeyManagerUpdate(ExternalKeyManager),
    #[serde(rename = "KEY_MANAGER_CONFIGURATION_DELETE")]
    KeyManagerDelete { id: String },
    /// An endpoint certificate uploaded or replaced (WSO2 deploys it to gateways' trust
    /// stores; gateways here trust it for its endpoint's origin).
    #[serde(rename = "ENDPOINT_CERTIFICATE_UPDATE")]
    EndpointCertificateUpdate(EndpointCertificate),
    #[serde(rename = "ENDPOINT_CERTIFICATE_DELETE")]
    EndpointCertificateDelete { tenant: String, alias: String },
}

impl Event {
    /// WSO2's name for the event type (the serde tag).
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ApiDeploy(_) => "DEPLOY_API_IN_GATEWAY",
            Event::ApiUndeploy { .. } => "REMOVE_API_FROM_GATEWAY",
            Event::ApiDefaultVersion { .. } => "API_DEFAULT_VERSION",
            Event::ApiDelete { .. } => "API_DELETE",
            Event::ApiLifecycleChange { .. } => "LIFECYCLE_CHANGE",
            Event::ApplicationCreate(_) => "APPLICATION_CREATE",
            Event::ApplicationUpdate(_) => "APPLICATION_UPDATE",
            Event::ApplicationDelete { .. } => "APPLICATION_DELETE",
            Event::KeyMappingCreate(_) => "APPLICATION_REGISTRATION_CREATE",
            Event::KeyMappingRemove { .. } => "REMOVE_APPLICATION_KEYMAPPING",
            Event::SubscriptionCreate(_) => "SUBSCRIPTIONS_CREATE",
            Event::SubscriptionUpdate(_) => "SUBSCRIPTIONS_UPDATE",
            Event::SubscriptionDelete { .. } => "SUBSCRIPTIONS_DELETE",
            Event::KeyRotation(_) => "KEY_ROTATION",
            Event::TokenRevocation(_) => "TOKEN_REVOCATION",
            Event::ConsumerKeyRevocation(_) => "INTERNAL_TOKEN_REVOCATION_CONSUMER_KEY",
            Event::PolicyUpdate(_) => "POLICY_UPDATE",
            Event::PolicyDelete { .. } => "POLICY_DELETE",
            Event::KeyManagerUpdate(_) => "KEY_MANAGER_CONFIGURATION_UPDATE",
            Event::KeyManagerDelete { .. } => "KEY_MANAGER_CONFIGURATION_DELETE",
            Event::EndpointCertificateUpdate(_) => "ENDPOINT_CERTIFICATE_UPDATE",
            Event::EndpointCertificateDelete { .. } => "ENDPOINT_CERTIFICATE_DELETE",
        }
    }
}

/// An event as it travels: its place in the outbox's order and the outbox's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Position in the outbox; consecutive events differ by one, so a gap is visible.
    pub seq: i64,
    /// Identity of the outbox (one per API Manager database); a new epoch means start over.
    pub epoch: String,
    pub tenant: String,
    /// When the change was committed, in milliseconds since the Unix epoch.
    pub time: i64,
    pub event: Event,
}

/// A gateway's whole runtime state at one outbox position: "all events so far, folded".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub epoch: String,
    /// The last outbox sequence this snapshot includes; events up to it are already applied.
    pub seq: i64,
    pub apis: Vec<DeployedApi>,
    pub applications: Vec<Application>,
    pub key_mappings: Vec<KeyMapping>,
    pub subscriptions: Vec<Subscription>,
    pub signing_keys: Vec<SigningKey>,
    #[serde(default)]
    pub policies: Vec<ThrottlePolicy>,
    /// Revoked tokens that have not expired yet.
    #[serde(default)]
    pub revoked_tokens: Vec<RevokedToken>,
    /// Consumer keys whose earlier tokens are revoked, until those tokens have expired.
    #[serde(default)]
    pub revoked_consumer_keys: Vec<ConsumerKeyRevocation>,
    /// External key managers (enabled or not).
    #[serde(default)]
    pub key_managers: Vec<ExternalKeyManager>,
    /// Certificates uploaded for backend endpoints.
    #[serde(default)]
    pub endpoint_certificates: Vec<EndpointCertificate>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApplicationStatus, KeyType, RuntimeApi, SubscriptionStatus, TimeUnit};

    /// One event of every kind. The `match` is exhaustive: a new kind does not compile until
    /// it has a sample here.
    fn one_of_each() -> Vec<Event> {
        let api = RuntimeApi {
            id: "a".into(),
            tenant: "t".into(),
            name: "N".into(),
            version: "1".into(),
            context: "/n".into(),
            provider: "p".into(),
            lifecycle_status: LifecycleState::Published,
            revision_id: "r".into(),
            api_throttling_policy: None,
            operations: vec![],
            endpoints: Default::default(),
            is_default_version: false,
            audiences: vec![],
            authentication: Default::default(),
            vhost: None,
            api_type: Default::default(),
        };
        let application = Application {
            id: "app".into(),
            tenant: "t".into(),
            name: "A".into(),
            owner: "o".into(),
            throttling_policy: "Unlimited".into(),
            status: ApplicationStatus::Approved,
        };
        let subscription = Subscription {
            id: "s".into(),
            tenant: "t".into(),
            application_id: "app".into(),
            api_id: "a".into(),
            throttling_policy: "Gold".into(),
            status: SubscriptionStatus::Unblocked,
        };
        let mapping = KeyMapping {
            id: "m".into(),
            application_id: "app".into(),
            consumer_key: "ck".into(),
            key_type: KeyType::Production,
            key_manager: "Resident Key Manager".into(),
        };
        let policy = ThrottlePolicy {
            id: "p".into(),
            tenant: "t".into(),
            level: PolicyLevel::Subscription,
            name: "Gold".into(),
            display_name: "Gold".into(),
            description: String::new(),
            request_count: Some(5000),
            unit_time: 1,
            time_unit: TimeUnit::Min,
        };
        let key_manager = ExternalKeyManager {
            id: "k".into(),
            tenant: "t".into(),
            name: "idp".into(),
            issuer: "https://idp".into(),
            jwks_endpoint: "https://idp/jwks".into(),
            consumer_key_claim: "azp".into(),
            scopes_claim: "scope".into(),
            enabled: true,
        };
        let events = vec![
            Event::ApiDeploy(DeployedApi {
                environment: "Default".into(),
                api,
            }),
            Event::ApiUndeploy {
                api_id: "a".into(),
                environment: "Default".into(),
            },
            Event::ApiDefaultVersion {
                api_id: "a".into(),
                tenant: "t".into(),
                name: "N".into(),
                is_default: true,
            },
            Event::ApiDelete { api_id: "a".into() },
            Event::ApiLifecycleChange {
                api_id: "a".into(),
                status: LifecycleState::Blocked,
            },
            Event::ApplicationCreate(application.clone()),
            Event::ApplicationUpdate(application),
            Event::ApplicationDelete {
                application_id: "app".into(),
            },
            Event::KeyMappingCreate(mapping),
            Event::KeyMappingRemove {
                consumer_key: "ck".into(),
            },
            Event::SubscriptionCreate(subscription.clone()),
            Event::SubscriptionUpdate(subscription),
            Event::SubscriptionDelete {
                subscription_id: "s".into(),
                application_id: "app".into(),
                api_id: "a".into(),
            },
            Event::KeyRotation(SigningKey {
                kid: "kid".into(),
                alg: "RS256".into(),
                n: "n".into(),
                e: "AQAB".into(),
                issuer: "i".into(),
            }),
            Event::TokenRevocation(RevokedToken {
                jti: "j".into(),
                expires_at: 1,
            }),
            Event::ConsumerKeyRevocation(ConsumerKeyRevocation {
                consumer_key: "ck".into(),
                revoked_before: 1,
                expires_at: 2,
            }),
            Event::PolicyUpdate(policy),
            Event::PolicyDelete {
                level: PolicyLevel::Subscription,
                name: "Gold".into(),
            },
            Event::KeyManagerUpdate(key_manager),
            Event::KeyManagerDelete { id: "k".into() },
            Event::EndpointCertificateUpdate(EndpointCertificate {
                tenant: "t".into(),
                alias: "backend".into(),
                endpoint: "https://backend.example/".into(),
                pem: "-----BEGIN CERTIFICATE-----".into(),
            }),
            Event::EndpointCertificateDelete {
                tenant: "t".into(),
                alias: "backend".into(),
            },
        ];
        let mut seen = [false; 22];
        for event in &events {
            let kind = match event {
                Event::ApiDeploy(_) => 0,
                Event::ApiUndeploy { .. } => 1,
                Event::ApiDefaultVersion { .. } => 2,
                Event::ApiDelete { .. } => 3,
                Event::ApiLifecycleChange { .. } => 4,
                Event::ApplicationCreate(_) => 5,
                Event::ApplicationUpdate(_) => 6,
                Event::ApplicationDelete { .. } => 7,
                Event::KeyMappingCreate(_) => 8,
                Event::KeyMappingRemove { .. } => 9,
                Event::SubscriptionCreate(_) => 10,
                Event::SubscriptionUpdate(_) => 11,
                Event::SubscriptionDelete { .. } => 12,
                Event::KeyRotation(_) => 13,
                Event::TokenRevocation(_) => 14,
                Event::ConsumerKeyRevocation(_) => 15,
                Event::PolicyUpdate(_) => 16,
                Event::PolicyDelete { .. } => 17,
                Event::KeyManagerUpdate(_) => 18,
                Event::KeyManagerDelete { .. } => 19,
                Event::EndpointCertificateUpdate(_) => 20,
                Event::EndpointCertificateDelete { .. } => 21,
            };
            seen[kind] = true;
        }
        assert!(seen.iter().all(|s| *s), "a sample per kind of event");
        events
    }

    #[test]
    fn each_type_name_is_its_wire_tag() {
        for event in one_of_each() {
            let wire = serde_json::to_value(&event).unwrap();
            assert_eq!(wire["type"], event.type_name(), "{event:?}");
            let back: Event = serde_json::from_value(wire).unwrap();
            assert_eq!(back, event);
        }
    }
}
