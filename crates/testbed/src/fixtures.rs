//! The steps most rules need before the one under test, as one call each: an API created,
//! deployed and published; an application; a subscription. Each goes through the same
//! operations the REST APIs and portals call, so a fixture is never a shortcut past a rule.

use serde_json::{json, Value};
use tollgate_model::LifecycleAction;
use tollgate_operations::devportal::applications::{self, ApplicationInput};
use tollgate_operations::devportal::subscriptions::{self, SubscriptionRequest, SubscriptionView};
use tollgate_operations::publisher::apis;
use tollgate_operations::publisher::definition::ApiDefinition;
use tollgate_operations::publisher::lifecycle::{self, Checklist};
use tollgate_operations::publisher::revisions::{self, DeploymentTarget};
use tollgate_operations::Actor;
use tollgate_store::{ApiRow, ApplicationRow};

use crate::TestBed;

/// WSO2's API object for a small API at `/{context}/1.0.0` with two resources, offering the
/// Gold and Unlimited tiers; `extra` fields are merged in (replacing those given here).
pub fn api_body(name: &str, context: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": name,
        "context": context,
        "version": "1.0.0",
        "policies": ["Gold", "Unlimited"],
        "endpointConfig": {
            "endpoint_type": "http",
            "production_endpoints": {"url": "http://127.0.0.1:9080/backend"},
            "sandbox_endpoints": {"url": "http://127.0.0.1:9080/sandbox"},
        },
        "operations": [
            {"target": "/menu", "verb": "GET"},
            {"target": "/order", "verb": "POST"},
        ],
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

impl TestBed {
    /// An API created by `actor` from [`api_body`] (the operation's refusal panics: a fixture
    /// must not fail).
    pub async fn api_as(&self, actor: &Actor, name: &str, context: &str, extra: Value) -> ApiRow {
        let definition =
            ApiDefinition::from_json(api_body(name, context, extra)).expect("a valid API object");
        apis::create_api(self.services(), actor, definition)
            .await
            .expect("create the API")
    }

    /// An API created by the admin, in state Created.
    pub async fn api(&self, name: &str, context: &str) -> ApiRow {
        self.api_as(&self.admin(), name, context, json!({})).await
    }

    /// Cuts a revision of the API and deploys it to the default environment.
    pub async fn deploy(&self, api: &ApiRow) {
        let admin = self.admin();
        let revision = revisions::create_revision(self.services(), &admin, &api.id, None)
            .await
            .expect("create a revision");
        revisions::deploy_revision(
            self.services(),
            &admin,
            &api.id,
            &revision.id,
            &[DeploymentTarget {
                environment: tollgate_model::DEFAULT_ENVIRONMENT.into(),
                vhost: None,
                display_on_devportal: true,
            }],
        )
        .await
        .expect("deploy the revision");
    }

    /// Moves the API through its lifecycle as the admin.
    pub async fn lifecycle(&self, api: &ApiRow, action: LifecycleAction) {
        lifecycle::change_lifecycle(
            self.services(),
            &self.admin(),
            &api.id,
            action,
            Checklist::default(),
        )
        .await
        .expect("change the lifecycle state");
    }

    /// An API created, deployed and published by the admin (its row as it is now).
    pub async fn published_api(&self, name: &str, context: &str) -> ApiRow {
        let api = self.api(name, context).await;
        self.deploy(&api).await;
        self.lifecycle(&api, LifecycleAction::Publish).await;
        apis::get_api(self.services(), &self.admin(), &api.id)
            .await
            .expect("read the API back")
    }

    /// An application of `actor`'s under the Unlimited tier.
    pub async fn application(&self, actor: &Actor, name: &str) -> ApplicationRow {
        applications::create(
            self.services(),
            actor,
            ApplicationInput {
                name: name.into(),
                throttling_policy: "Unlimited".into(),
                ..ApplicationInput::default()
            },
        )
        .await
        .expect("create the application")
    }

    /// `actor`'s application subscribed to the API under `tier`.
    pub async fn subscribe(
        &self,
        actor: &Actor,
        application: &ApplicationRow,
        api: &ApiRow,
        tier: &str,
    ) -> SubscriptionView {
        subscriptions::subscribe(
            self.services(),
            actor,
            SubscriptionRequest {
                application_id: application.id.clone(),
                api_id: api.id.clone(),
                throttling_policy: tier.into(),
            },
        )
        .await
        .expect("subscribe")
    }
}
