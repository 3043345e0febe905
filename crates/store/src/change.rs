//! Changes gateways must learn about. Each [`Change`] is one write and exactly one event, and
//! [`ApimTx::apply`] makes both in the same transaction: no caller builds an event, and no write
//! that gateways enforce can be made without its event (the writes themselves are private to
//! this crate).

use tollgate_model::{
    ConsumerKeyRevocation, DeployedApi, Event, LifecycleState, RevokedToken, RuntimeApi,
    SigningKey, ThrottlePolicy,
};

use crate::{
    ApiRow, ApimTx, ApplicationRow, DeploymentRow, EndpointCertificateRow, KeyManagerRow,
    KeyMappingRow, OAuthClientRow, Result, SigningKeyRow, SubscriptionRow,
};

/// One change of what gateways enforce, with everything its write and its event need.
#[derive(Debug, Clone)]
pub enum Change {
    CreateApplication(ApplicationRow),
    UpdateApplication(ApplicationRow),
    /// Deletes the application with its subscriptions and keys.
    DeleteApplication(ApplicationRow),
    CreateSubscription(SubscriptionRow),
    /// A subscription's new state (blocked, unblocked, …) or tier.
    UpdateSubscription(SubscriptionRow),
    DeleteSubscription(SubscriptionRow),
    /// Keys generated for an application: the OAuth client and its mapping.
    CreateKeyMapping {
        client: OAuthClientRow,
        mapping: KeyMappingRow,
    },
    /// Keys of a client registered elsewhere (`map-keys`): the mapping only.
    MapKeys(KeyMappingRow),
    RemoveKeyMapping(KeyMappingRow),
    /// A revision deployed to an environment (replacing what was deployed there).
    DeployRevision {
        tenant: String,
        deployment: DeploymentRow,
        api: RuntimeApi,
    },
    /// A revision taken off an environment; applies only if it was deployed there.
    UndeployRevision {
        tenant: String,
        api_id: String,
        environment: String,
        revision_id: String,
    },
    /// The API with its new lifecycle state (and its definition saying so), recorded in its
    /// history as done by `username`.
    ChangeLifecycle {
        api: ApiRow,
        previous: LifecycleState,
        username: String,
    },
    /// The API's `is_default_version` as it now is; when set, the name's other versions lose
    /// the mark.
    SetDefaultVersion(ApiRow),
    /// Deletes the API with its revisions and deployments: gateways forget it everywhere.
    DeleteApi(ApiRow),
    CreatePolicy(ThrottlePolicy),
    UpdatePolicy(ThrottlePolicy),
    DeletePolicy(ThrottlePolicy),
    /// A new token signing key: stored sealed, announced by its public half. When it replaces
    /// keys (rotation), those stay published until `retire_previous_after` (seconds).
    AddSigningKey {
        tenant: String,
        stored: SigningKeyRow,
        public: SigningKey,
        retire_previous_after: Option<i64>,
    },
    /// Applies only if the token was not revoked already.
    RevokeToken {
        tenant: String,
        token: RevokedToken,
    },
    /// Every token of a consumer key issued before a moment (replacing an earlier revocation).
    RevokeConsumerKey {
        tenant: String,
        revocation: ConsumerKeyRevocation,
    },
    CreateKeyManager(KeyManagerRow),
    UpdateKeyManager(KeyManagerRow),
    DeleteKeyManager(KeyManagerRow),
    /// A certificate uploaded for an endpoint.
    AddEndpointCertificate(EndpointCertificateRow),
    /// A certificate replaced under its alias.
    UpdateEndpointCertificate(EndpointCertificateRow),
    DeleteEndpointCertificate(EndpointCertificateRow),
}

impl Change {
    /// The tenant the change (and its event) belongs to.
    pub fn tenant(&self) -> &str {
        match self {
            Change::CreateApplication(app)
            | Change::UpdateApplication(app)
            | Change::DeleteApplication(app) => &app.tenant,
            Change::CreateSubscription(sub)
            | Change::UpdateSubscription(sub)
            | Change::DeleteSubscription(sub) => &sub.tenant,
            Change::CreateKeyMapping { mapping, .. }
            | Change::MapKeys(mapping)
            | Change::RemoveKeyMapping(mapping) => &mapping.tenant,
            Change::DeployRevision { tenant, .. }
            | Change::UndeployRevision { tenant, .. }
            | Change::AddSigningKey { tenant, .. }
            | Change::RevokeToken { tenant, .. }
            | Change::RevokeConsumerKey { tenant, .. } => tenant,
            Change::ChangeLifecycle { api, .. }
            | Change::SetDefaultVersion(api)
            | Change::DeleteApi(api) => &api.tenant,
            Change::CreatePolicy(policy)
            | Change::UpdatePolicy(policy)
            | Change::DeletePolicy(policy) => &policy.tenant,
            Change::CreateKeyManager(km)
            | Change::UpdateKeyManager(km)
            | Change::DeleteKeyManager(km) => &km.tenant,
            Change::AddEndpointCertificate(certificate)
            | Change::UpdateEndpointCertificate(certificate)
            | Change::DeleteEndpointCertificate(certificate) => &certificate.tenant,
        }
    }

    /// The event that tells gateways about the change: one per change, always the same kind.
    pub fn event(&self) -> Event {
        match self {
            Change::CreateApplication(app) => Event::ApplicationCreate(app.to_model()),
            Change::UpdateApplication(app) => Event::ApplicationUpdate(app.to_model()),
            Change::DeleteApplication(app) => Event::ApplicationDelete {
                application_id: app.id.clone(),
            },
            Change::CreateSubscription(sub) => Event::SubscriptionCreate(sub.to_model()),
            Change::UpdateSubscription(sub) => Event::SubscriptionUpdate(sub.to_model()),
            Change::DeleteSubscription(sub) => Event::SubscriptionDelete {
                subscription_id: sub.id.clone(),
                application_id: sub.application_id.clone(),
                api_id: sub.api_id.clone(),
            },
            Change::CreateKeyMapping { mapping, .. } | Change::MapKeys(mapping) => {
                Event::KeyMappingCreate(mapping.to_model())
            }
            Change::RemoveKeyMapping(mapping) => Event::KeyMappingRemove {
                consumer_key: mapping.consumer_key.clone(),
            },
            Change::DeployRevision {
                deployment, api, ..
            } => Event::ApiDeploy(DeployedApi {
                environment: deployment.environment.clone(),
                api: api.clone(),
            }),
            Change::UndeployRevision {
                api_id,
                environment,
                ..
            } => Event::ApiUndeploy {
                api_id: api_id.clone(),
                environment: environment.clone(),
            },
            Change::ChangeLifecycle { api, .. } => Event::ApiLifecycleChange {
                api_id: api.id.clone(),
                status: api.lifecycle_status,
            },
            Change::SetDefaultVersion(api) => Event::ApiDefaultVersion {
                api_id: api.id.clone(),
                tenant: api.tenant.clone(),
                name: api.name.clone(),
                is_default: api.is_default_version,
            },
            Change::DeleteApi(api) => Event::ApiDelete {
                api_id: api.id.clone(),
            },
            Change::CreatePolicy(policy) | Change::UpdatePolicy(policy) => {
                Event::PolicyUpdate(policy.clone())
            }
            Change::DeletePolicy(policy) => Event::PolicyDelete {
                level: policy.level,
                name: policy.name.clone(),
            },
            Change::AddSigningKey { public, .. } => Event::KeyRotation(public.clone()),
            Change::RevokeToken { token, .. } => Event::TokenRevocation(token.clone()),
            Change::RevokeConsumerKey { revocation, .. } => {
                Event::ConsumerKeyRevocation(revocation.clone())
            }
            Change::CreateKeyManager(km) | Change::UpdateKeyManager(km) => {
                Event::KeyManagerUpdate(km.to_model())
            }
            Change::DeleteKeyManager(km) => Event::KeyManagerDelete { id: km.id.clone() },
            Change::AddEndpointCertificate(certificate)
            | Change::UpdateEndpointCertificate(certificate) => {
                Event::EndpointCertificateUpdate(certificate.to_model())
            }
            Change::DeleteEndpointCertificate(certificate) => Event::EndpointCertificateDelete {
                tenant: certificate.tenant.clone(),
                alias: certificate.alias.clone(),
            },
        }
    }
}

impl ApimTx {
    /// Makes `change` and records its event, in this transaction. Returns false (and records
    /// nothing) when the change had nothing to do: a revision not deployed there, a token
    /// already revoked.
    pub async fn apply(&mut self, change: &Change) -> Result<bool> {
        let applied = match change {
            Change::CreateApplication(app) => self.insert_application(app).await.map(|_| true)?,
            Change::UpdateApplication(app) => self.update_application(app).await.map(|_| true)?,
            Change::DeleteApplication(app) => {
                // What waits for its approval (or its subscriptions') goes with it, however
                // it is deleted (by its owner, or with its owner).
                self.withdraw_application_workflows(&app.id).await?;
                self.delete_application(&app.id).await.map(|_| true)?
            }
            Change::CreateSubscription(sub) => self.insert_subscription(sub).await.map(|_| true)?,
            Change::UpdateSubscription(sub) => self.update_subscription(sub).await?,
            Change::DeleteSubscription(sub) => {
                self.withdraw_workflows(&sub.id).await?;
                self.delete_subscription(&sub.id).await.map(|_| true)?
            }
            Change::CreateKeyMapping { client, mapping } => {
                self.insert_oauth_client(client).await?;
                self.insert_key_mapping(mapping).await.map(|_| true)?
            }
            Change::MapKeys(mapping) => self.insert_key_mapping(mapping).await.map(|_| true)?,
            Change::RemoveKeyMapping(mapping) => {
                self.delete_key_mapping(mapping).await.map(|_| true)?
            }
            Change::DeployRevision {
                tenant, deployment, ..
            } => self
                .upsert_deployment(tenant, deployment)
                .await
                .map(|_| true)?,
            Change::UndeployRevision {
                api_id,
                environment,
                revision_id,
                ..
            } => {
                self.delete_deployment(api_id, environment, revision_id)
                    .await?
            }
            Change::ChangeLifecycle {
                api,
                previous,
                username,
            } => {
                self.set_lifecycle_status(api).await?;
                self.record_lifecycle_event(api, Some(*previous), username)
                    .await
                    .map(|_| true)?
            }
            Change::SetDefaultVersion(api) => self.set_default_version(api).await.map(|_| true)?,
            Change::DeleteApi(api) => {
                // Its local scopes stay with the API's other versions, if any.
                if let Some(sibling) = self
                    .api_versions(&api.tenant, &api.name, &api.id)
                    .await?
                    .first()
                {
                    self.hand_over_scopes(&api.id, sibling).await?;
                }
                self.delete_api(&api.id).await.map(|_| true)?
            }
            Change::CreatePolicy(policy) => self.insert_policy(policy).await.map(|_| true)?,
            Change::UpdatePolicy(policy) => self.update_policy(policy).await.map(|_| true)?,
            Change::DeletePolicy(policy) => self.delete_policy(&policy.id).await.map(|_| true)?,
            Change::AddSigningKey {
                tenant,
                stored,
                retire_previous_after,
                ..
            } => {
                self.insert_signing_key(tenant, stored).await?;
                if let Some(after) = retire_previous_after {
                    self.retire_signing_keys_except(&stored.kid, *after).await?;
                }
                true
            }
            Change::RevokeToken { tenant, token } => self.revoke_token(tenant, token).await?,
            Change::RevokeConsumerKey { tenant, revocation } => self
                .revoke_consumer_key(tenant, revocation)
                .await
                .map(|_| true)?,
            Change::CreateKeyManager(km) => self.insert_key_manager(km).await.map(|_| true)?,
            Change::UpdateKeyManager(km) => self.update_key_manager(km).await.map(|_| true)?,
            Change::DeleteKeyManager(km) => self.delete_key_manager(&km.id).await.map(|_| true)?,
            Change::AddEndpointCertificate(certificate) => self
                .insert_endpoint_certificate(certificate)
                .await
                .map(|_| true)?,
            Change::UpdateEndpointCertificate(certificate) => self
                .update_endpoint_certificate(certificate)
                .await
                .map(|_| true)?,
            Change::DeleteEndpointCertificate(certificate) => self
                .delete_endpoint_certificate(certificate)
                .await
                .map(|_| true)?,
        };
        if applied {
            let seq = self.emit(change.tenant(), &change.event()).await?;
            if let Change::DeployRevision { deployment, .. } = change {
                self.set_deployment_seq(&deployment.api_id, &deployment.environment, seq)
                    .await?;
            }
        }
        Ok(applied)
    }
}
