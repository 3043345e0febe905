//! The WSO2 quick-start as test helpers, and the vocabulary scenarios speak: log in; create,
//! revise, deploy, publish and move an API through its lifecycle; create an application,
//! generate its keys and tokens, subscribe, block a subscription, make API keys; the Admin API's
//! tiers, key managers and workflows. Each verb is named for what it does, returns the answer's
//! JSON (or the id a scenario needs next) and panics with the status and body when the control
//! plane answers anything but success. A test that checks a refusal's exact shape uses
//! [`Flow::get`] / [`Flow::post`] (or a raw request) instead.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::gateway::Answer;
use crate::{http_client, Node};

/// A logged-in WSO2 REST client: a registered client and an admin token with the quick-start
/// scopes, against one control plane.
pub struct Flow {
    pub http: Client,
    pub token: String,
    control_plane: String,
}

/// The scopes a provider needs for everything a scenario does with APIs and subscriptions.
pub const PROVIDER_SCOPES: &str = "apim:api_view apim:api_create apim:api_publish apim:api_delete apim:api_manage apim:subscribe apim:subscription_block";

impl Flow {
    /// The scopes of WSO2's quick-start.
    pub const QUICK_START_SCOPES: &'static str =
        "apim:api_view apim:api_create apim:api_publish apim:subscribe";

    /// Registers a client and logs in as admin with the quick-start scopes (token over HTTPS).
    pub async fn login(node: &Node) -> Flow {
        Self::login_with_scopes(node, Self::QUICK_START_SCOPES).await
    }

    /// Registers a client and logs in as admin on `node`'s control plane with `scopes`.
    pub async fn login_with_scopes(node: &Node, scopes: &str) -> Flow {
        Self::login_as(node, "admin", &node.admin_password, scopes).await
    }

    /// Registers a client (as the admin) and logs `username` in with `scopes`, which must all
    /// be granted.
    pub async fn login_as(node: &Node, username: &str, password: &str, scopes: &str) -> Flow {
        let client = crate::oauth::register_client_with(
            node,
            json!({
                "callbackUrl": "www.google.lk",
                "clientName": "rest_api_publisher",
                "owner": "admin",
                "grantType": "client_credentials password refresh_token",
                "saasApp": true
            }),
        )
        .await;
        // Over HTTPS, as WSO2 users call it.
        let token = client
            .token(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("scope", scopes),
            ])
            .await;
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["scope"], scopes);
        Flow {
            http: http_client(),
            token: token["access_token"].as_str().unwrap().to_string(),
            control_plane: node.control_plane_http(""),
        }
    }

    pub fn publisher(&self, path: &str) -> String {
        format!("{}/api/am/publisher/v4{path}", self.control_plane)
    }

    pub fn devportal(&self, path: &str) -> String {
        format!("{}/api/am/devportal/v3{path}", self.control_plane)
    }

    pub fn admin(&self, path: &str) -> String {
        format!("{}/api/am/admin/v4{path}", self.control_plane)
    }

    pub async fn get(&self, url: String) -> reqwest::Response {
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, url: String, body: Value) -> reqwest::Response {
        self.http
            .post(url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, url: String, body: &'static str) -> reqwest::Response {
        self.http
            .post(url)
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `method url` with the token and, when given, a JSON body; whatever comes back.
    pub async fn call(&self, method: Method, url: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        Answer::read(response).await
    }

    /// `method url` that must answer `status`; the body as JSON (`null` when it is none).
    async fn expect(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        status: StatusCode,
    ) -> Value {
        let answer = self.call(method.clone(), url, body).await;
        assert_eq!(
            answer.status, status,
            "{method} {url}: unexpected status; body: {}",
            answer.body
        );
        serde_json::from_str(&answer.body).unwrap_or(Value::Null)
    }

    /// A GET that must answer 200; its JSON.
    pub async fn get_json(&self, url: &str) -> Value {
        self.expect(Method::GET, url, None, StatusCode::OK).await
    }

    // ---- Publisher: APIs, revisions, deployments, lifecycle ----

    /// Creates an API (`POST /apis`, 201); the API object as stored.
    pub async fn create_api(&self, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.publisher("/apis"),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// The API object (`GET /apis/{id}`).
    pub async fn get_api(&self, api_id: &str) -> Value {
        self.get_json(&self.publisher(&format!("/apis/{api_id}")))
            .await
    }

    /// Replaces the API's working copy (`PUT /apis/{id}`, 200); the API as stored.
    pub async fn update_api(&self, api_id: &str, body: &Value) -> Value {
        self.expect(
            Method::PUT,
            &self.publisher(&format!("/apis/{api_id}")),
            Some(body),
            StatusCode::OK,
        )
        .await
    }

    /// Deletes the API (200).
    pub async fn delete_api(&self, api_id: &str) {
        self.expect(
            Method::DELETE,
            &self.publisher(&format!("/apis/{api_id}")),
            None,
            StatusCode::OK,
        )
        .await;
    }

    /// Publisher listing with this query string (`?query=name:Travel`); the page.
    pub async fn list_apis(&self, query: &str) -> Value {
        self.get_json(&self.publisher(&format!("/apis{query}")))
            .await
    }

    /// Cuts a revision of the API's working copy (201); the revision.
    pub async fn create_revision(&self, api_id: &str, description: &str) -> Value {
        self.expect(
            Method::POST,
            &self.publisher(&format!("/apis/{api_id}/revisions")),
            Some(&json!({"description": description})),
            StatusCode::CREATED,
        )
        .await
    }

    /// Deploys a revision to `targets` (WSO2's list of `{name, vhost, displayOnDevportal}`);
    /// the deployments.
    pub async fn deploy_revision(&self, api_id: &str, revision_id: &str, targets: Value) -> Value {
        self.expect(
            Method::POST,
            &self.publisher(&format!(
                "/apis/{api_id}/deploy-revision?revisionId={revision_id}"
            )),
            Some(&targets),
            StatusCode::OK,
        )
        .await
    }

    /// Cuts a revision and deploys it to `targets`; the revision's id.
    pub async fn deploy_to(&self, api_id: &str, targets: Value) -> String {
        let revision = self.create_revision(api_id, "deployed").await;
        let revision_id = revision["id"].as_str().unwrap().to_string();
        self.deploy_revision(api_id, &revision_id, targets).await;
        revision_id
    }

    /// Cuts a revision and deploys it to the Default environment; the revision's id.
    pub async fn deploy(&self, api_id: &str) -> String {
        self.deploy_to(
            api_id,
            json!([{"name": "Default", "vhost": "localhost", "displayOnDevportal": true}]),
        )
        .await
    }

    /// Takes a deployed revision off `targets` (201).
    pub async fn undeploy_revision(&self, api_id: &str, revision_id: &str, targets: Value) {
        self.expect(
            Method::POST,
            &self.publisher(&format!(
                "/apis/{api_id}/undeploy-revision?revisionId={revision_id}"
            )),
            Some(&targets),
            StatusCode::CREATED,
        )
        .await;
    }

    /// Where the API is deployed, with its gateways' progress.
    pub async fn deployments(&self, api_id: &str) -> Value {
        self.get_json(&self.publisher(&format!("/apis/{api_id}/deployments")))
            .await
    }

    /// Moves the API through its lifecycle (`Publish`, `Block`, `Deprecate`, …); the answer.
    pub async fn change_lifecycle(&self, api_id: &str, action: &str) -> Value {
        self.change_lifecycle_with(api_id, action, "").await
    }

    /// As [`Flow::change_lifecycle`], with WSO2's `lifecycleChecklist` (`"Deprecate old
    /// versions after publishing the API:true"`).
    pub async fn change_lifecycle_with(
        &self,
        api_id: &str,
        action: &str,
        checklist: &str,
    ) -> Value {
        let mut url = self.publisher(&format!(
            "/apis/change-lifecycle?apiId={api_id}&action={}",
            urlencode(action)
        ));
        if !checklist.is_empty() {
            url.push_str(&format!("&lifecycleChecklist={}", urlencode(checklist)));
        }
        self.expect(Method::POST, &url, None, StatusCode::OK).await
    }

    /// Creates, revises, deploys and publishes an API; returns its id.
    pub async fn publish_api(&self, body: Value) -> String {
        let api = self.create_api(body).await;
        let api_id = api["id"].as_str().unwrap().to_string();
        self.deploy(&api_id).await;
        let lifecycle = self.change_lifecycle(&api_id, "Publish").await;
        assert_eq!(lifecycle["lifecycleState"]["state"], "Published");
        api_id
    }

    /// A new version of the API (`POST /apis/copy-api`, 201); the copy.
    pub async fn copy_api(&self, api_id: &str, new_version: &str, default_version: bool) -> Value {
        let mut url = self.publisher(&format!(
            "/apis/copy-api?apiId={api_id}&newVersion={new_version}"
        ));
        if default_version {
            url.push_str("&defaultVersion=true");
        }
        self.expect(Method::POST, &url, None, StatusCode::CREATED)
            .await
    }

    /// The API's revisions (`GET /apis/{id}/revisions`).
    pub async fn revisions(&self, api_id: &str) -> Value {
        self.get_json(&self.publisher(&format!("/apis/{api_id}/revisions")))
            .await
    }

    /// Makes a revision the API's working copy again (201); the API.
    pub async fn restore_revision(&self, api_id: &str, revision_id: &str) -> Value {
        self.expect(
            Method::POST,
            &self.publisher(&format!(
                "/apis/{api_id}/restore-revision?revisionId={revision_id}"
            )),
            None,
            StatusCode::CREATED,
        )
        .await
    }

    /// Adds a shared scope (201); the scope.
    pub async fn create_shared_scope(&self, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.publisher("/scopes"),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// The API's project as WSO2 exports it (a zip).
    pub async fn export_api(&self, name: &str, version: &str) -> Vec<u8> {
        let response = self
            .get(self.publisher(&format!(
                "/apis/export?name={}&version={}&format=YAML",
                urlencode(name),
                urlencode(version)
            )))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "export {name} {version}");
        response.bytes().await.expect("the archive").to_vec()
    }

    /// Imports a project (a zip, as exported) with the query string given (`?overwrite=true`);
    /// panics unless 200.
    pub async fn import_api(&self, archive: Vec<u8>, query: &str) {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(archive).file_name("api.zip"),
        );
        let response = self
            .http
            .post(self.publisher(&format!("/apis/import{query}")))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("import");
        Answer::read(response).await.expect(StatusCode::OK);
    }

    /// Blocks a subscription (`BLOCKED` or `PROD_ONLY_BLOCKED`) as its API's publisher.
    pub async fn block_subscription(&self, subscription_id: &str, state: &str) {
        self.expect(
            Method::POST,
            &self.publisher(&format!(
                "/subscriptions/block-subscription?subscriptionId={subscription_id}&blockState={state}"
            )),
            None,
            StatusCode::OK,
        )
        .await;
    }

    /// Unblocks a subscription as its API's publisher.
    pub async fn unblock_subscription(&self, subscription_id: &str) {
        self.expect(
            Method::POST,
            &self.publisher(&format!(
                "/subscriptions/unblock-subscription?subscriptionId={subscription_id}"
            )),
            None,
            StatusCode::OK,
        )
        .await;
    }

    // ---- Developer portal: applications, keys, tokens, subscriptions, API keys ----

    /// Creates an application (Unlimited, JWT tokens); its id.
    pub async fn create_application(&self, name: &str) -> String {
        let app = self
            .create_application_with(
                json!({"name": name, "throttlingPolicy": "Unlimited", "tokenType": "JWT"}),
            )
            .await;
        app["applicationId"].as_str().unwrap().to_string()
    }

    /// Creates an application from WSO2's application object (201); the application.
    pub async fn create_application_with(&self, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.devportal("/applications"),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// The application (`GET /applications/{id}`).
    pub async fn get_application(&self, app_id: &str) -> Value {
        self.get_json(&self.devportal(&format!("/applications/{app_id}")))
            .await
    }

    /// Deletes the application (200).
    pub async fn delete_application(&self, app_id: &str) {
        self.expect(
            Method::DELETE,
            &self.devportal(&format!("/applications/{app_id}")),
            None,
            StatusCode::OK,
        )
        .await;
    }

    /// Generates the application's keys of `key_type` (`PRODUCTION`, `SANDBOX`) at the resident
    /// key manager, for the client-credentials grant; the keys (the only answer that shows the
    /// consumer secret).
    pub async fn generate_keys(&self, app_id: &str, key_type: &str) -> Value {
        self.generate_keys_with(
            app_id,
            json!({"keyType": key_type, "keyManager": "Resident Key Manager", "grantTypesToBeSupported": ["client_credentials"], "callbackUrl": ""}),
        )
        .await
    }

    /// Generates keys from WSO2's whole request body; the keys.
    pub async fn generate_keys_with(&self, app_id: &str, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.devportal(&format!("/applications/{app_id}/generate-keys")),
            Some(&body),
            StatusCode::OK,
        )
        .await
    }

    /// `generate-token` for the application's `key` with WSO2's request body; the answer
    /// (`accessToken`, `tokenScopes`, `validityTime`).
    pub async fn generate_token(&self, app_id: &str, key: &Value, body: Value) -> Value {
        let mapping = key["keyMappingId"].as_str().expect("a keyMappingId");
        self.expect(
            Method::POST,
            &self.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/generate-token"
            )),
            Some(&body),
            StatusCode::OK,
        )
        .await
    }

    /// A new consumer secret for the application's `key`; the answer (`consumerSecret`).
    pub async fn regenerate_secret(&self, app_id: &str, key: &Value) -> Value {
        let mapping = key["keyMappingId"].as_str().expect("a keyMappingId");
        self.expect(
            Method::POST,
            &self.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/regenerate-secret"
            )),
            Some(&json!({})),
            StatusCode::OK,
        )
        .await
    }

    /// Removes the application's `key` (`clean-up`, 200).
    pub async fn clean_up_keys(&self, app_id: &str, key: &Value) {
        let mapping = key["keyMappingId"].as_str().expect("a keyMappingId");
        self.expect(
            Method::POST,
            &self.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/clean-up"
            )),
            None,
            StatusCode::OK,
        )
        .await;
    }

    /// Maps a client made elsewhere as the application's keys (`map-keys`); the keys.
    pub async fn map_keys(&self, app_id: &str, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.devportal(&format!("/applications/{app_id}/map-keys")),
            Some(&body),
            StatusCode::OK,
        )
        .await
    }

    /// Creates an application subscribed to `api_id` (when given), with production keys; returns
    /// (application id, access token).
    pub async fn application_with_token(
        &self,
        name: &str,
        api_id: Option<&str>,
    ) -> (String, String) {
        let (app_id, _, token) = self.application_with_keys(name, api_id).await;
        (app_id, token)
    }

    /// As [`Flow::application_with_token`], also returning the generated keys (the only answer
    /// that shows the consumer secret: it is stored hashed).
    pub async fn application_with_keys(
        &self,
        name: &str,
        api_id: Option<&str>,
    ) -> (String, Value, String) {
        self.application_with_token_type(name, api_id, "JWT").await
    }

    /// As [`Flow::application_with_keys`], for tokens of `token_type` (`JWT`, or `OAUTH` for
    /// opaque ones).
    pub async fn application_with_token_type(
        &self,
        name: &str,
        api_id: Option<&str>,
        token_type: &str,
    ) -> (String, Value, String) {
        let app = self
            .create_application_with(json!({"name": name, "throttlingPolicy": "Unlimited", "description": "quick start", "tokenType": token_type}))
            .await;
        let app_id = app["applicationId"].as_str().unwrap().to_string();
        if let Some(api_id) = api_id {
            let sub = self.subscribe(&app_id, api_id, "Unlimited").await;
            assert_eq!(sub["status"], "UNBLOCKED");
        }
        let keys = self
            .generate_keys_with(
                &app_id,
                json!({"keyType": "PRODUCTION", "keyManager": "Resident Key Manager", "grantTypesToBeSupported": ["password", "client_credentials"], "callbackUrl": "", "scopes": ["am_application_scope", "default"], "validityTime": "3600"}),
            )
            .await;
        let listed = self.production_key(&app_id).await;
        assert_eq!(listed["consumerKey"], keys["consumerKey"]);
        let token = self.token_for(&app_id, &keys, 3600).await;
        (app_id, keys, token)
    }

    /// Subscribes an application to an API at `tier`; returns the subscription.
    pub async fn subscribe(&self, app_id: &str, api_id: &str, tier: &str) -> Value {
        self.expect(
            Method::POST,
            &self.devportal("/subscriptions"),
            Some(&json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": tier})),
            StatusCode::CREATED,
        )
        .await
    }

    /// The application's subscriptions (`GET /subscriptions?applicationId=`).
    pub async fn subscriptions_of(&self, app_id: &str) -> Value {
        self.get_json(&self.devportal(&format!("/subscriptions?applicationId={app_id}")))
            .await
    }

    /// The id of the application's subscription to the API.
    pub async fn subscription_id(&self, app_id: &str, api_id: &str) -> String {
        let listed = self
            .get_json(&self.devportal(&format!(
                "/subscriptions?applicationId={app_id}&apiId={api_id}"
            )))
            .await;
        listed["list"][0]["subscriptionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no subscription of {app_id} to {api_id}: {listed}"))
            .to_string()
    }

    /// The subscription (`GET /subscriptions/{id}`).
    pub async fn get_subscription(&self, subscription_id: &str) -> Value {
        self.get_json(&self.devportal(&format!("/subscriptions/{subscription_id}")))
            .await
    }

    /// Moves the subscription to another tier (`PUT /subscriptions/{id}`, 200); the answer.
    pub async fn change_tier(
        &self,
        subscription_id: &str,
        app_id: &str,
        api_id: &str,
        tier: &str,
    ) -> Value {
        self.expect(
            Method::PUT,
            &self.devportal(&format!("/subscriptions/{subscription_id}")),
            Some(&json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": tier})),
            StatusCode::OK,
        )
        .await
    }

    /// Removes the subscription (200).
    pub async fn unsubscribe(&self, subscription_id: &str) {
        self.expect(
            Method::DELETE,
            &self.devportal(&format!("/subscriptions/{subscription_id}")),
            None,
            StatusCode::OK,
        )
        .await;
    }

    /// How to call the API of a subscription: ready-made commands, keys and gateway URLs.
    pub async fn invocation(&self, subscription_id: &str) -> Value {
        self.get_json(&self.devportal(&format!("/subscriptions/{subscription_id}/invocation")))
            .await
    }

    /// The application's first key set (`GET …/oauth-keys`).
    pub async fn production_key(&self, app_id: &str) -> Value {
        let keys = self
            .get_json(&self.devportal(&format!("/applications/{app_id}/oauth-keys")))
            .await;
        keys["list"][0].clone()
    }

    /// A client-credentials token for the application's `key` (from `generate-token`).
    pub async fn token_for(&self, app_id: &str, key: &Value, validity_secs: i64) -> String {
        let token = self
            .generate_token(
                app_id,
                key,
                json!({"consumerSecret": key["consumerSecret"], "validityPeriod": validity_secs, "scopes": [], "revokeToken": "", "grantType": "CLIENT_CREDENTIALS"}),
            )
            .await;
        token["accessToken"].as_str().unwrap().to_string()
    }

    /// An API key of the application's `key_type`, made with WSO2's request body
    /// (`validityPeriod`, `additionalProperties.permittedIP` / `permittedReferer`).
    pub async fn generate_api_key(&self, app_id: &str, key_type: &str, body: Value) -> String {
        let key = self
            .expect(
                Method::POST,
                &self.devportal(&format!(
                    "/applications/{app_id}/api-keys/{key_type}/generate"
                )),
                Some(&body),
                StatusCode::OK,
            )
            .await;
        key["apikey"].as_str().expect("an apikey").to_string()
    }

    /// Revokes one of the application's API keys of `key_type` (200).
    pub async fn revoke_api_key(&self, app_id: &str, key_type: &str, api_key: &str) {
        self.expect(
            Method::POST,
            &self.devportal(&format!(
                "/applications/{app_id}/api-keys/{key_type}/revoke"
            )),
            Some(&json!({"apikey": api_key})),
            StatusCode::OK,
        )
        .await;
    }

    // ---- Admin API: tiers, key managers, workflows, environments ----

    /// Adds a tier at `level` (`subscription`, `application`, `advanced`); the tier.
    pub async fn create_tier(&self, level: &str, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.admin(&format!("/throttling/policies/{level}")),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// Adds a key manager (201); the key manager.
    pub async fn add_key_manager(&self, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.admin("/key-managers"),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// Replaces a key manager (200); the key manager.
    pub async fn update_key_manager(&self, id: &str, body: Value) -> Value {
        self.expect(
            Method::PUT,
            &self.admin(&format!("/key-managers/{id}")),
            Some(&body),
            StatusCode::OK,
        )
        .await
    }

    /// Deletes a key manager (200).
    pub async fn delete_key_manager(&self, id: &str) {
        self.expect(
            Method::DELETE,
            &self.admin(&format!("/key-managers/{id}")),
            None,
            StatusCode::OK,
        )
        .await;
    }

    /// Adds a gateway environment (201); the environment.
    pub async fn add_environment(&self, body: Value) -> Value {
        self.expect(
            Method::POST,
            &self.admin("/environments"),
            Some(&body),
            StatusCode::CREATED,
        )
        .await
    }

    /// The workflows of `kind` (`AM_APPLICATION_CREATION`, …) waiting for a decision.
    pub async fn pending_workflows(&self, kind: &str) -> Vec<Value> {
        let list = self
            .get_json(&self.admin(&format!("/workflows?workflowType={kind}")))
            .await;
        list["list"].as_array().cloned().unwrap_or_default()
    }

    /// Decides a workflow (`APPROVED` or `REJECTED`); the workflow.
    pub async fn decide_workflow(&self, reference: &str, status: &str) -> Value {
        self.expect(
            Method::POST,
            &self.admin(&format!(
                "/workflows/update-workflow-status?workflowReferenceId={reference}"
            )),
            Some(&json!({"status": status, "description": "checked"})),
            StatusCode::OK,
        )
        .await
    }

    /// The one pending workflow of `kind`, decided; the workflow.
    pub async fn settle_workflow(&self, kind: &str, status: &str) -> Value {
        let pending = self.pending_workflows(kind).await;
        assert_eq!(pending.len(), 1, "{kind}: {pending:?}");
        assert_eq!(pending[0]["workflowStatus"], "CREATED");
        let reference = pending[0]["referenceId"].as_str().unwrap().to_string();
        self.decide_workflow(&reference, status).await
    }
}

/// Percent-encodes a query parameter's value.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A GET without credentials that must answer 200 (discovery documents, key sets); its JSON.
pub async fn get_public_json(url: &str) -> Value {
    let response = http_client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Answer::read(response).await.expect(StatusCode::OK)
}

/// Signs a consumer up at WSO2 Identity Server's self sign-up path (201); the new user.
pub async fn sign_up(node: &Node, username: &str, password: &str) -> Value {
    let response = http_client()
        .post(node.control_plane_http("/api/identity/user/v1.0/me"))
        .json(&json!({"userName": username, "password": password}))
        .send()
        .await
        .expect("sign up");
    Answer::read(response).await.expect(StatusCode::CREATED)
}

pub async fn ok_json(response: reqwest::Response, expected: StatusCode) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, expected, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts WSO2's error body and returns its description.
pub async fn error_body(response: reqwest::Response, status: StatusCode) -> Value {
    let body = ok_json(response, status).await;
    assert!(
        body.get("code").is_some()
            && body.get("message").is_some()
            && body.get("description").is_some(),
        "not a WSO2 error body: {body}"
    );
    body
}

pub fn pizzashack(endpoint: &str) -> Value {
    // The API object as WSO2's publisher UI sends it, optional fields and all.
    json!({
        "name": "PizzaShackAPI",
        "description": "This is a simple API for Pizza Shack online pizza delivery store.",
        "context": "/pizzashack",
        "version": "1.0.0",
        "provider": "admin",
        "lifeCycleStatus": "CREATED",
        "responseCachingEnabled": false,
        "cacheTimeout": 300,
        "hasThumbnail": false,
        "isDefaultVersion": false,
        "isRevision": false,
        "enableSchemaValidation": false,
        "enableSubscriberVerification": false,
        "type": "HTTP",
        "audience": "PUBLIC",
        "transport": ["http", "https"],
        "tags": ["pizza"],
        "policies": ["Unlimited"],
        "apiThrottlingPolicy": "Unlimited",
        "authorizationHeader": "Authorization",
        "securityScheme": ["oauth2", "oauth_basic_auth_api_key_mandatory"],
        "maxTps": null,
        "visibility": "PUBLIC",
        "visibleRoles": [],
        "visibleTenants": [],
        "mediationPolicies": [],
        "subscriptionAvailability": "CURRENT_TENANT",
        "subscriptionAvailableTenants": [],
        "additionalProperties": [],
        "additionalPropertiesMap": {},
        "monetization": null,
        "accessControl": "NONE",
        "accessControlRoles": [],
        "businessInformation": {"businessOwner": "Jane Roe", "businessOwnerEmail": "marketing@pizzashack.com", "technicalOwner": "John Doe", "technicalOwnerEmail": "architecture@pizzashack.com"},
        "corsConfiguration": {"corsConfigurationEnabled": false, "accessControlAllowOrigins": ["*"], "accessControlAllowCredentials": false, "accessControlAllowHeaders": ["authorization", "Access-Control-Allow-Origin", "Content-Type", "SOAPAction", "apikey", "Internal-Key"], "accessControlAllowMethods": ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]},
        "websubSubscriptionConfiguration": {"enable": false, "secret": "", "signingAlgorithm": "SHA1", "signatureHeader": "x-hub-signature"},
        "workflowStatus": null,
        "endpointConfig": {"endpoint_type": "http", "sandbox_endpoints": {"url": endpoint}, "production_endpoints": {"url": endpoint}},
        "endpointImplementationType": "ENDPOINT",
        "scopes": [],
        "operations": [
            {"id": "", "target": "/order/{orderId}", "verb": "GET", "authType": "Application & Application User", "throttlingPolicy": "Unlimited", "scopes": [], "usedProductIds": [], "amznResourceName": null, "amznResourceTimeout": null, "payloadSchema": null, "uriMapping": null, "operationPolicies": {"request": [], "response": [], "fault": []}},
            {"id": "", "target": "/order/{orderId}", "verb": "PUT", "authType": "Application & Application User", "throttlingPolicy": "Unlimited", "scopes": []},
            {"id": "", "target": "/order/{orderId}", "verb": "DELETE", "authType": "Application & Application User", "throttlingPolicy": "Unlimited", "scopes": []},
            {"id": "", "target": "/menu", "verb": "GET", "authType": "Application & Application User", "throttlingPolicy": "Unlimited", "scopes": []},
            {"id": "", "target": "/order", "verb": "POST", "authType": "Application & Application User", "throttlingPolicy": "Unlimited", "scopes": []},
            {"id": "", "target": "/slow", "verb": "GET", "authType": "Application & Application User", "throttlingPolicy": "Unlimited", "scopes": []}
        ],
        "threatProtectionPolicies": null,
        "categories": [],
        "keyManagers": ["all"],
        "serviceInfo": null,
        "advertiseInfo": {"advertised": false, "apiExternalProductionEndpoint": null, "apiExternalSandboxEndpoint": null, "originalDevPortalUrl": null, "apiOwner": "admin", "vendor": "WSO2"},
        "gatewayVendor": "wso2",
        "asyncTransportProtocols": [],
        "x-some-vendor-extension": {"kept": true}
    })
}

/// PizzaShack's API object under another name, context and version.
pub fn named_api(name: &str, context: &str, version: &str, endpoint: &str) -> Value {
    let mut body = pizzashack(endpoint);
    body["name"] = json!(name);
    body["context"] = json!(context);
    body["version"] = json!(version);
    body
}

/// Polls until the gateway answers `url` with `status` (changes apply asynchronously, via events).
pub async fn eventually(
    http: &Client,
    url: &str,
    token: Option<&str>,
    status: StatusCode,
) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut request = http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        if response.status() == status || Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
