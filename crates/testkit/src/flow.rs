//! The WSO2 quick-start as test helpers: log in, publish an API, create a subscribed application
//! with keys and a token, and check WSO2-shaped responses.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::{http_client, Node};

/// A logged-in WSO2 REST client: a registered client and an admin token with the quick-start
/// scopes, against one control plane.
pub struct Flow {
    pub http: Client,
    pub token: String,
    control_plane: String,
}

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
        let http = http_client();
        let registration: Value = ok_json(
            http.post(node.control_plane_http("/client-registration/v0.17/register"))
                .basic_auth("admin", Some(&node.admin_password))
                .json(&json!({
                    "callbackUrl": "www.google.lk",
                    "clientName": "rest_api_publisher",
                    "owner": "admin",
                    "grantType": "client_credentials password refresh_token",
                    "saasApp": true
                }))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let client_id = registration["clientId"].as_str().unwrap().to_string();
        let client_secret = registration["clientSecret"].as_str().unwrap().to_string();
        // Over HTTPS, as WSO2 users call it.
        let token: Value = ok_json(
            http.post(node.control_plane_https("/oauth2/token"))
                .basic_auth(&client_id, Some(&client_secret))
                .form(&[
                    ("grant_type", "password"),
                    ("username", "admin"),
                    ("password", node.admin_password.as_str()),
                    ("scope", scopes),
                ])
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["scope"], scopes);
        Flow {
            http,
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

    /// Creates, revises, deploys and publishes an API; returns its id.
    pub async fn publish_api(&self, body: Value) -> String {
        let api = ok_json(
            self.post(self.publisher("/apis"), body).await,
            StatusCode::CREATED,
        )
        .await;
        let api_id = api["id"].as_str().unwrap().to_string();
        let revision = ok_json(
            self.post(
                self.publisher(&format!("/apis/{api_id}/revisions")),
                json!({"description": "first"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let revision_id = revision["id"].as_str().unwrap();
        ok_json(
            self.post(
                self.publisher(&format!(
                    "/apis/{api_id}/deploy-revision?revisionId={revision_id}"
                )),
                json!([{"name": "Default", "vhost": "localhost", "displayOnDevportal": true}]),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let lifecycle = ok_json(
            self.http
                .post(self.publisher(&format!(
                    "/apis/change-lifecycle?apiId={api_id}&action=Publish"
                )))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(lifecycle["lifecycleState"]["state"], "Published");
        api_id
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
        let app = ok_json(
            self.post(
                self.devportal("/applications"),
                json!({"name": name, "throttlingPolicy": "Unlimited", "description": "quick start", "tokenType": token_type}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let app_id = app["applicationId"].as_str().unwrap().to_string();
        if let Some(api_id) = api_id {
            let sub = self.subscribe(&app_id, api_id, "Unlimited").await;
            assert_eq!(sub["status"], "UNBLOCKED");
        }
        let keys = ok_json(
            self.post(
                self.devportal(&format!("/applications/{app_id}/generate-keys")),
                json!({"keyType": "PRODUCTION", "keyManager": "Resident Key Manager", "grantTypesToBeSupported": ["password", "client_credentials"], "callbackUrl": "", "scopes": ["am_application_scope", "default"], "validityTime": "3600"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let listed = self.production_key(&app_id).await;
        assert_eq!(listed["consumerKey"], keys["consumerKey"]);
        let token = self.token_for(&app_id, &keys, 3600).await;
        (app_id, keys, token)
    }

    /// Subscribes an application to an API at `tier`; returns the subscription.
    pub async fn subscribe(&self, app_id: &str, api_id: &str, tier: &str) -> Value {
        ok_json(
            self.post(
                self.devportal("/subscriptions"),
                json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": tier}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await
    }

    /// The application's first key set (`GET …/oauth-keys`).
    pub async fn production_key(&self, app_id: &str) -> Value {
        let keys = ok_json(
            self.http
                .get(self.devportal(&format!("/applications/{app_id}/oauth-keys")))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        keys["list"][0].clone()
    }

    /// A client-credentials token for the application's `key` (from `generate-token`).
    pub async fn token_for(&self, app_id: &str, key: &Value, validity_secs: i64) -> String {
        let mapping = key["keyMappingId"].as_str().unwrap();
        let token = ok_json(
            self.post(
                self.devportal(&format!("/applications/{app_id}/oauth-keys/{mapping}/generate-token")),
                json!({"consumerSecret": key["consumerSecret"], "validityPeriod": validity_secs, "scopes": [], "revokeToken": "", "grantType": "CLIENT_CREDENTIALS"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        token["accessToken"].as_str().unwrap().to_string()
    }
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
