//! Conformance with WSO2's REST API specifications (`spec/wso2-apim-4.2/`):
//!
//! - every JSON response a real node gives to a scenario that calls each implemented operation
//!   validates against the schema the spec declares for that operation and status;
//! - `docs/rest-api-coverage.md` lists every operation of the three specs as implemented or not,
//!   as a running node's router answers them; the test fails when the file is stale, and
//!   `scripts/rest-coverage` rewrites it.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_controlplane::Operation;
use tollgate_testkit::flow::{pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions, PgDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// The three REST APIs: name, spec file, base path.
const SPECS: &[(&str, &str, &str)] = &[
    ("Publisher v4", "publisher-api.yaml", "/api/am/publisher/v4"),
    (
        "Developer Portal v3",
        "devportal-api.yaml",
        "/api/am/devportal/v3",
    ),
    ("Admin v4", "admin-api.yaml", "/api/am/admin/v4"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head"];

/// Where WSO2's specs disagree with what WSO2 itself answers (and so with what its clients
/// expect); Tollgate answers as WSO2 does. (operation template, instance path, why)
const ERRATA: &[(&str, &str, &str)] = &[
    (
        "/apis/{apiId}/swagger",
        "",
        "the spec types the document as a string; WSO2 answers the document itself",
    ),
    (
        "/apis/{apiId}/subscription-policies",
        "",
        "the spec types the answer as one ThrottlingPolicy; WSO2 answers the list of them",
    ),
    (
        "*",
        "/keyManagers",
        "the spec types keyManagers as an object; WSO2 writes and reads a list ([\"all\"])",
    ),
];

struct Spec {
    name: &'static str,
    base: &'static str,
    file: &'static str,
    root: Value,
}

fn specs() -> Vec<Spec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/wso2-apim-4.2");
    SPECS
        .iter()
        .map(|(name, file, base)| Spec {
            name,
            base,
            file,
            root: serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join(file)).unwrap())
                .unwrap(),
        })
        .collect()
}

impl Spec {
    /// (method, path template) of every operation, in the spec's order.
    fn operations(&self) -> Vec<(String, String)> {
        let mut operations = Vec::new();
        for (path, item) in self.root["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(*method).is_some() {
                    operations.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        operations
    }

    /// The template of `path` (relative to the base), if the spec has one that matches.
    fn template_of(&self, method: &str, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, String)> = None;
        for (m, template) in self.operations() {
            if m != method {
                continue;
            }
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let matches = parts.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') {
                    true
                } else {
                    literal += 1;
                    t == s
                }
            });
            // The most literal template wins (`/apis/validate` over `/apis/{apiId}`).
            if matches && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t)
    }

    /// The JSON schema the spec declares for a response, as a pointer into the spec.
    fn response_schema(&self, method: &str, template: &str, status: u16) -> Option<String> {
        let escaped = template.replace('~', "~0").replace('/', "~1");
        let responses = format!("/paths/{escaped}/{}/responses", method.to_lowercase());
        let responses_value = self.root.pointer(&responses)?;
        let (key, mut response) = [status.to_string(), "default".to_string()]
            .into_iter()
            .find_map(|k| responses_value.get(&k).map(|r| (k, r)))?;
        let mut pointer = format!("{responses}/{key}");
        // A response may itself be a reference (`#/components/responses/BadRequest`).
        if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            pointer = reference.trim_start_matches('#').to_string();
            response = self.root.pointer(&pointer)?;
        }
        response.pointer("/content/application~1json/schema")?;
        Some(format!("{pointer}/content/application~1json/schema"))
    }

    /// Problems of `body` against the schema at `pointer`: (problem, where in the body).
    fn check(&self, pointer: &str, body: &Value) -> Vec<(String, String)> {
        // The spec itself is the schema document; `$ref` at its root points at the response
        // schema, so `#/components/schemas/…` references resolve within it (draft 4: a root
        // `$ref` overrides its siblings).
        let mut schema = self.root.clone();
        // A URI fragment: characters like `{` are percent-encoded.
        let fragment: String = pointer
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'~' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        schema["$ref"] = json!(format!("#{fragment}"));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&schema)
            .unwrap();
        validator
            .iter_errors(body)
            .map(|e| {
                (
                    format!("{} at {}", e, e.instance_path()),
                    e.instance_path().to_string(),
                )
            })
            .collect()
    }
}

/// A REST client that keeps every exchange for checking.
struct Recorder {
    http: reqwest::Client,
    token: String,
    base: String,
    exchanges: Vec<Exchange>,
}

struct Exchange {
    method: String,
    path: String,
    status: u16,
    body: Option<Value>,
}

enum Body {
    None,
    Json(Value),
    Form(Form),
}

impl Recorder {
    async fn call(&mut self, method: Method, path: &str, body: Body) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        request = match body {
            Body::None => request,
            Body::Json(json) => request.json(&json),
            Body::Form(form) => request.multipart(form),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = response.bytes().await.unwrap();
        let body = is_json.then(|| serde_json::from_slice(&bytes).unwrap());
        let without_query = path.split('?').next().unwrap_or(path).to_string();
        self.exchanges.push(Exchange {
            method: method.to_string(),
            path: without_query,
            status: status.as_u16(),
            body: body.clone(),
        });
        (status, body.unwrap_or(Value::Null))
    }

    async fn get(&mut self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Body::None).await;
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    async fn send(&mut self, method: Method, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(method.clone(), path, Body::Json(body)).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    async fn form(&mut self, method: Method, path: &str, form: Form) -> Value {
        let (status, answer) = self.call(method.clone(), path, Body::Form(form)).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }
}

/// Calls every implemented operation (and some that fail) on a real node.
async fn scenario(node: &Node, backend: &MockBackend) -> Vec<Exchange> {
    let flow = Flow::login_with_scopes(
        node,
        "apim:api_view apim:api_create apim:api_publish apim:api_delete apim:api_manage apim:subscribe \
         apim:subscription_block apim:subscription_view apim:shared_scope_manage apim:api_import_export \
         apim:admin apim:tier_view apim:tier_manage apim:environment_manage apim:app_manage",
    )
    .await;
    let mut rest = Recorder {
        http: flow.http.clone(),
        token: flow.token.clone(),
        base: node.control_plane_http(""),
        exchanges: Vec::new(),
    };
    let p = |path: &str| format!("/api/am/publisher/v4{path}");
    let d = |path: &str| format!("/api/am/devportal/v3{path}");
    let a = |path: &str| format!("/api/am/admin/v4{path}");

    // Publisher.
    let shared = rest
        .send(
            Method::POST,
            &p("/scopes"),
            json!({"name": "menu:read", "bindings": ["admin"]}),
        )
        .await;
    let scope_id = shared["id"].as_str().unwrap().to_string();
    rest.get(&p("/scopes")).await;
    rest.get(&p(&format!("/scopes/{scope_id}"))).await;
    rest.send(
        Method::PUT,
        &p(&format!("/scopes/{scope_id}")),
        json!({"name": "menu:read", "displayName": "Menu", "bindings": ["admin"]}),
    )
    .await;
    let mut body = pizzashack(&backend.url());
    body["operations"][3]["scopes"] = json!(["menu:read"]);
    let api = rest.send(Method::POST, &p("/apis"), body).await;
    let id = api["id"].as_str().unwrap().to_string();
    rest.get(&p(&format!("/scopes/{scope_id}/usage"))).await;
    rest.get(&p(
        "/apis?limit=10&offset=0&sortBy=apiName&sortOrder=asc&query=pizza",
    ))
    .await;
    let current = rest.get(&p(&format!("/apis/{id}"))).await;
    rest.send(Method::PUT, &p(&format!("/apis/{id}")), current)
        .await;
    rest.call(
        Method::POST,
        &p("/apis/validate?query=name:PizzaShackAPI"),
        Body::None,
    )
    .await;
    rest.get(&p(&format!("/apis/{id}/swagger"))).await;
    let definition = r#"{"openapi": "3.0.1", "info": {"title": "Pets", "version": "1"}, "paths": {"/menu": {"get": {"responses": {"200": {"description": "ok"}}}}}}"#;
    rest.form(
        Method::POST,
        &p("/apis/validate-openapi"),
        Form::new().text("inlineAPIDefinition", definition),
    )
    .await;
    rest.form(
        Method::POST,
        &p("/apis/validate-openapi"),
        Form::new().text("inlineAPIDefinition", "openapi: 3.0.1\npaths: {}"),
    )
    .await;
    let pets = rest
        .form(
            Method::POST,
            &p("/apis/import-openapi"),
            Form::new().text("inlineAPIDefinition", definition).text(
                "additionalProperties",
                json!({"name": "Pets", "version": "1", "context": "/pets"}).to_string(),
            ),
        )
        .await;
    rest.form(
        Method::PUT,
        &p(&format!("/apis/{}/swagger", pets["id"].as_str().unwrap())),
        Form::new().text("apiDefinition", definition),
    )
    .await;
    let doc = rest
        .send(
            Method::POST,
            &p(&format!("/apis/{id}/documents")),
            json!({"name": "Guide", "type": "HOWTO", "summary": "How to", "sourceType": "INLINE", "inlineContent": "text", "visibility": "API_LEVEL"}),
        )
        .await;
    let doc_id = doc["documentId"].as_str().unwrap().to_string();
    rest.get(&p(&format!("/apis/{id}/documents"))).await;
    rest.get(&p(&format!("/apis/{id}/documents/{doc_id}")))
        .await;
    rest.send(
        Method::PUT,
        &p(&format!("/apis/{id}/documents/{doc_id}")),
        json!({"name": "Guide", "type": "HOWTO", "summary": "How to order", "sourceType": "INLINE", "visibility": "API_LEVEL"}),
    )
    .await;
    rest.form(
        Method::POST,
        &p(&format!("/apis/{id}/documents/{doc_id}/content")),
        Form::new().text("inlineContent", "new text"),
    )
    .await;
    rest.call(
        Method::POST,
        &p(&format!("/apis/{id}/documents/validate?name=Guide")),
        Body::None,
    )
    .await;
    rest.form(
        Method::PUT,
        &p(&format!("/apis/{id}/thumbnail")),
        Form::new().part(
            "file",
            Part::bytes(b"\x89PNG\r\n\x1a\n0000".to_vec()).file_name("i.png"),
        ),
    )
    .await;
    // Endpoint certificates: upload, list, details, replace, usage, download, a duplicate,
    // delete, and the deleted one.
    let pem = || {
        rcgen::generate_simple_self_signed(vec!["backend.example".to_string()])
            .unwrap()
            .cert
            .pem()
            .into_bytes()
    };
    let upload = |alias: &str| {
        Form::new()
            .text("alias", alias.to_string())
            .text("endpoint", "https://backend.example:8443/v1")
            .part("certificate", Part::bytes(pem()).file_name("backend.crt"))
    };
    rest.form(
        Method::POST,
        &p("/endpoint-certificates"),
        upload("backend"),
    )
    .await;
    rest.get(&p("/endpoint-certificates?alias=backend")).await;
    rest.get(&p("/endpoint-certificates/backend")).await;
    rest.form(
        Method::PUT,
        &p("/endpoint-certificates/backend"),
        Form::new().part("certificate", Part::bytes(pem()).file_name("backend.crt")),
    )
    .await;
    rest.get(&p("/endpoint-certificates/backend/usage")).await;
    rest.call(
        Method::GET,
        &p("/endpoint-certificates/backend/content"),
        Body::None,
    )
    .await;
    let (status, _) = rest
        .call(
            Method::POST,
            &p("/endpoint-certificates"),
            Body::Form(upload("backend")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    rest.call(
        Method::DELETE,
        &p("/endpoint-certificates/backend"),
        Body::None,
    )
    .await;
    let (status, _) = rest
        .call(
            Method::GET,
            &p("/endpoint-certificates/backend"),
            Body::None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let revision = rest
        .send(
            Method::POST,
            &p(&format!("/apis/{id}/revisions")),
            json!({"description": "first"}),
        )
        .await;
    let revision_id = revision["id"].as_str().unwrap().to_string();
    rest.get(&p(&format!("/apis/{id}/revisions"))).await;
    rest.get(&p(&format!("/apis/{id}/revisions/{revision_id}")))
        .await;
    rest.send(
        Method::POST,
        &p(&format!(
            "/apis/{id}/deploy-revision?revisionId={revision_id}"
        )),
        json!([{"name": "Default", "vhost": "localhost", "displayOnDevportal": true}]),
    )
    .await;
    rest.get(&p(&format!("/apis/{id}/deployments"))).await;
    rest.call(
        Method::POST,
        &p(&format!(
            "/apis/{id}/restore-revision?revisionId={revision_id}"
        )),
        Body::None,
    )
    .await;
    rest.get(&p(&format!("/apis/{id}/lifecycle-state"))).await;
    rest.call(
        Method::POST,
        &p(&format!("/apis/change-lifecycle?apiId={id}&action=Publish")),
        Body::None,
    )
    .await;
    rest.get(&p(&format!("/apis/{id}/lifecycle-history"))).await;
    let copy = rest
        .call(
            Method::POST,
            &p(&format!("/apis/copy-api?apiId={id}&newVersion=2.0.0")),
            Body::None,
        )
        .await
        .1;
    // The API as a project archive, and back (overwriting it).
    let response = rest
        .http
        .get(format!(
            "{}{}",
            rest.base,
            p(&format!("/apis/export?apiId={id}"))
        ))
        .bearer_auth(&rest.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let archive = response.bytes().await.unwrap().to_vec();
    rest.form(
        Method::POST,
        &p("/apis/import?overwrite=true"),
        Form::new().part("file", Part::bytes(archive).file_name("api.zip")),
    )
    .await;
    rest.get(&p("/settings")).await;
    rest.get(&p("/key-managers")).await;
    rest.get(&p(&format!("/apis/{id}/subscription-policies")))
        .await;
    rest.get(&p(&format!("/apis/{id}/resource-paths?limit=3")))
        .await;
    rest.call(
        Method::POST,
        &p(&format!(
            "/apis/validate-endpoint?endpointUrl={}/menu",
            backend.url()
        )),
        Body::None,
    )
    .await;
    rest.get(&p("/throttling-policies/subscription")).await;
    rest.get(&p("/throttling-policies/api")).await;
    // Errors are WSO2's error body.
    rest.call(Method::GET, &p("/apis/no-such-api"), Body::None)
        .await;
    rest.call(Method::GET, &p("/apis?sortBy=colour"), Body::None)
        .await;
    rest.call(Method::POST, &p("/apis"), Body::Json(json!({"name": "x"})))
        .await;

    // Developer portal.
    rest.get(&d("/apis")).await;
    rest.get(&d("/apis?query=tag:pizza")).await;
    rest.get(&d(&format!("/apis/{id}"))).await;
    rest.get(&d(&format!("/apis/{id}/swagger"))).await;
    let documents = rest.get(&d(&format!("/apis/{id}/documents"))).await;
    let portal_doc_id = documents["list"][0]["documentId"]
        .as_str()
        .unwrap_or(&doc_id)
        .to_string();
    rest.get(&d(&format!("/apis/{id}/documents/{portal_doc_id}")))
        .await;
    rest.get(&d(&format!("/apis/{id}/subscription-policies")))
        .await;
    rest.get(&d("/tags")).await;
    rest.get(&d("/settings")).await;
    rest.get(&d("/settings/application-attributes")).await;
    rest.get(&d("/throttling-policies/application")).await;
    rest.get(&d("/throttling-policies/subscription/Unlimited"))
        .await;
    rest.get(&d("/search?query=pizza")).await;
    rest.get(&d("/sdk-gen/languages")).await;
    rest.send(
        Method::PUT,
        &d(&format!("/apis/{id}/user-rating")),
        json!({"rating": 4}),
    )
    .await;
    rest.get(&d(&format!("/apis/{id}/user-rating"))).await;
    rest.get(&d(&format!("/apis/{id}/ratings"))).await;
    rest.call(
        Method::DELETE,
        &d(&format!("/apis/{id}/user-rating")),
        Body::None,
    )
    .await;
    let comment = rest
        .send(
            Method::POST,
            &d(&format!("/apis/{id}/comments")),
            json!({"content": "Nice API", "category": "general"}),
        )
        .await;
    let comment_id = comment["id"].as_str().unwrap_or_default().to_string();
    rest.send(
        Method::POST,
        &p(&format!("/apis/{id}/comments?replyTo={comment_id}")),
        json!({"content": "Thanks"}),
    )
    .await;
    rest.get(&d(&format!("/apis/{id}/comments"))).await;
    rest.get(&p(&format!("/apis/{id}/comments"))).await;
    rest.get(&d(&format!("/apis/{id}/comments/{comment_id}")))
        .await;
    rest.get(&d(&format!("/apis/{id}/comments/{comment_id}/replies")))
        .await;
    rest.send(
        Method::PATCH,
        &d(&format!("/apis/{id}/comments/{comment_id}")),
        json!({"content": "Very nice API"}),
    )
    .await;
    rest.call(
        Method::DELETE,
        &d(&format!("/apis/{id}/comments/{comment_id}")),
        Body::None,
    )
    .await;
    rest.get(&a("/workflows")).await;
    let app = rest
        .send(
            Method::POST,
            &d("/applications"),
            json!({"name": "App", "throttlingPolicy": "Unlimited", "description": "d", "tokenType": "JWT"}),
        )
        .await;
    let app_id = app["applicationId"].as_str().unwrap().to_string();
    rest.get(&d("/applications")).await;
    rest.get(&d(&format!("/applications/{app_id}"))).await;
    rest.get(&d("/key-managers")).await;
    rest.send(
        Method::PUT,
        &d(&format!("/applications/{app_id}")),
        json!({"name": "App", "throttlingPolicy": "Unlimited", "description": "changed", "tokenType": "JWT"}),
    )
    .await;
    let sub = rest
        .send(
            Method::POST,
            &d("/subscriptions"),
            json!({"applicationId": app_id, "apiId": id, "throttlingPolicy": "Unlimited"}),
        )
        .await;
    let sub_id = sub["subscriptionId"].as_str().unwrap().to_string();
    rest.get(&d(&format!("/subscriptions?applicationId={app_id}")))
        .await;
    rest.get(&d(&format!("/subscriptions/{sub_id}"))).await;
    rest.send(
        Method::PUT,
        &d(&format!("/subscriptions/{sub_id}")),
        json!({"applicationId": app_id, "apiId": id, "throttlingPolicy": "Unlimited"}),
    )
    .await;
    rest.get(&d(&format!("/subscriptions?apiId={id}"))).await;
    let second_app = rest
        .send(
            Method::POST,
            &d("/applications"),
            json!({"name": "App2", "throttlingPolicy": "Unlimited", "tokenType": "JWT"}),
        )
        .await;
    rest.send(
        Method::POST,
        &d("/subscriptions/multiple"),
        json!([{"applicationId": second_app["applicationId"], "apiId": id, "throttlingPolicy": "Unlimited"}]),
    )
    .await;
    let keys = rest
        .send(
            Method::POST,
            &d(&format!("/applications/{app_id}/generate-keys")),
            json!({"keyType": "PRODUCTION", "keyManager": "Resident Key Manager", "grantTypesToBeSupported": ["client_credentials"], "callbackUrl": "", "scopes": ["default"], "validityTime": "3600"}),
        )
        .await;
    rest.get(&d(&format!("/applications/{app_id}/oauth-keys")))
        .await;
    rest.get(&d(&format!("/applications/{app_id}/keys"))).await;
    let mapping = keys["keyMappingId"].as_str().unwrap().to_string();
    rest.send(
        Method::POST,
        &d(&format!(
            "/applications/{app_id}/oauth-keys/{mapping}/generate-token"
        )),
        json!({"consumerSecret": keys["consumerSecret"], "validityPeriod": 3600, "scopes": []}),
    )
    .await;
    rest.get(&d(&format!("/applications/{app_id}/oauth-keys/{mapping}")))
        .await;
    rest.send(
        Method::PUT,
        &d(&format!("/applications/{app_id}/oauth-keys/{mapping}")),
        json!({"supportedGrantTypes": ["client_credentials", "refresh_token"], "callbackUrl": "https://app.example/cb"}),
    )
    .await;
    rest.send(
        Method::POST,
        &d(&format!(
            "/applications/{app_id}/oauth-keys/{mapping}/regenerate-secret"
        )),
        json!({}),
    )
    .await;
    rest.get(&d(&format!("/applications/{app_id}/keys/PRODUCTION")))
        .await;
    rest.send(
        Method::PUT,
        &d(&format!("/applications/{app_id}/keys/PRODUCTION")),
        json!({"supportedGrantTypes": ["client_credentials"], "callbackUrl": ""}),
    )
    .await;
    rest.send(
        Method::POST,
        &d(&format!(
            "/applications/{app_id}/keys/PRODUCTION/generate-token"
        )),
        json!({"validityPeriod": 3600, "scopes": []}),
    )
    .await;
    rest.send(
        Method::POST,
        &d(&format!(
            "/applications/{app_id}/keys/PRODUCTION/regenerate-secret"
        )),
        json!({}),
    )
    .await;
    let api_key = rest
        .send(
            Method::POST,
            &d(&format!(
                "/applications/{app_id}/api-keys/PRODUCTION/generate"
            )),
            json!({"validityPeriod": 3600, "additionalProperties": {"permittedIP": "127.0.0.1"}}),
        )
        .await;
    rest.send(
        Method::POST,
        &d(&format!(
            "/applications/{app_id}/api-keys/PRODUCTION/revoke"
        )),
        json!({"apikey": api_key["apikey"]}),
    )
    .await;

    // Publisher views of subscriptions.
    rest.get(&p(&format!("/subscriptions?apiId={id}"))).await;
    rest.call(
        Method::POST,
        &p(&format!(
            "/subscriptions/block-subscription?subscriptionId={sub_id}&blockState=BLOCKED"
        )),
        Body::None,
    )
    .await;
    rest.call(
        Method::POST,
        &p(&format!(
            "/subscriptions/unblock-subscription?subscriptionId={sub_id}"
        )),
        Body::None,
    )
    .await;

    // Admin.
    rest.get(&a("/throttling/policies/subscription")).await;
    rest.get(&a("/throttling/policies/application")).await;
    rest.get(&a("/throttling/policies/advanced")).await;
    let tier = rest
        .send(
            Method::POST,
            &a("/throttling/policies/subscription"),
            json!({"policyName": "Conformance", "displayName": "Conformance", "description": "d",
                   "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 10}}}),
        )
        .await;
    rest.get(&a(&format!(
        "/throttling/policies/subscription/{}",
        tier["policyId"].as_str().unwrap()
    )))
    .await;
    rest.get(&a("/key-managers")).await;
    rest.form(
        Method::POST,
        &a("/key-managers/discover"),
        Form::new()
            .text("url", "http://127.0.0.1:9/.well-known/openid-configuration")
            .text("type", "WSO2-IS"),
    )
    .await;
    let key_manager_body = json!({"name": "Partner", "type": "custom", "issuer": "https://idp.example.com/oauth2/token",
        "certificates": {"type": "JWKS", "value": "http://127.0.0.1:9/jwks"},
        "tokenEndpoint": "https://idp.example.com/oauth2/token", "consumerKeyClaim": "azp", "scopesClaim": "scope", "enabled": true});
    let key_manager = rest
        .send(Method::POST, &a("/key-managers"), key_manager_body.clone())
        .await;
    let key_manager_id = key_manager["id"].as_str().unwrap_or_default().to_string();
    rest.get(&a(&format!("/key-managers/{key_manager_id}")))
        .await;
    rest.send(
        Method::PUT,
        &a(&format!("/key-managers/{key_manager_id}")),
        key_manager_body,
    )
    .await;
    rest.get(&a("/environments")).await;
    rest.send(
        Method::POST,
        &a("/environments"),
        json!({"name": "eu", "vhosts": [{"host": "eu.example.com", "httpPort": 80, "httpsPort": 443}]}),
    )
    .await;

    // Clean-up operations last.
    rest.call(
        Method::DELETE,
        &a(&format!("/key-managers/{key_manager_id}")),
        Body::None,
    )
    .await;
    rest.call(
        Method::DELETE,
        &d(&format!("/subscriptions/{sub_id}")),
        Body::None,
    )
    .await;
    if let Some(copy_id) = copy["id"].as_str() {
        rest.call(Method::DELETE, &p(&format!("/apis/{copy_id}")), Body::None)
            .await;
    }
    rest.call(
        Method::DELETE,
        &p(&format!("/apis/{id}/documents/{doc_id}")),
        Body::None,
    )
    .await;
    rest.exchanges
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_validate_against_wso2s_schemas() {
    responses_validate(NodeOptions::default()).await;
}

/// The same scenario on PostgreSQL: every operation's SQL runs on both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_validate_against_wso2s_schemas_on_postgres() {
    let (apim, shared) = (PgDatabase::create().await, PgDatabase::create().await);
    responses_validate(NodeOptions {
        extra_config: format!(
            "[database.apim_db]\nurl = \"{}\"\n\n[database.shared_db]\nurl = \"{}\"\n",
            apim.url(),
            shared.url()
        ),
        ..NodeOptions::default()
    })
    .await;
}

async fn responses_validate(options: NodeOptions) {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), options).await;
    let exchanges = scenario(&node, &backend).await;
    let specs = specs();
    let mut failures = Vec::new();
    let mut checked = BTreeSet::new();
    for exchange in &exchanges {
        let Some(spec) = specs.iter().find(|s| exchange.path.starts_with(s.base)) else {
            continue;
        };
        let relative = &exchange.path[spec.base.len()..];
        let Some(template) = spec.template_of(&exchange.method, relative) else {
            failures.push(format!(
                "{} {}: not an operation of {}",
                exchange.method, exchange.path, spec.name
            ));
            continue;
        };
        let Some(body) = &exchange.body else { continue };
        let Some(pointer) = spec.response_schema(&exchange.method, &template, exchange.status)
        else {
            continue;
        };
        checked.insert(format!(
            "{} {} {} {}",
            spec.name, exchange.method, template, exchange.status
        ));
        for (problem, at) in spec.check(&pointer, body) {
            let excused = ERRATA
                .iter()
                .any(|(t, path, _)| (*t == "*" || *t == template) && *path == at);
            if excused {
                continue;
            }
            failures.push(format!(
                "{} {} ({} {}) → {}: {problem}",
                exchange.method, exchange.path, spec.name, template, exchange.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        checked.len() >= 50,
        "only {} responses were checked: {checked:#?}",
        checked.len()
    );
}

/// The coverage document, from the specs and the operations the routers declare.
fn coverage() -> String {
    let declared: BTreeSet<(String, String)> = tollgate_controlplane::rest_operations()
        .into_iter()
        .map(|(base, op)| {
            (
                op.method.to_string(),
                format!("{base}{}", Operation::shape(op.path)),
            )
        })
        .collect();
    let mut out = String::from(
        "# REST API coverage\n\n\
         Every operation of WSO2 API Manager 4.2's Publisher v4, Developer Portal v3 and Admin v4\n\
         REST APIs (`spec/wso2-apim-4.2/`), and whether Tollgate implements it. Generated by\n\
         `scripts/rest-coverage` from the specs and the routes the REST crates declare; a test\n\
         fails when it is stale.\n",
    );
    let mut in_specs = BTreeSet::new();
    for spec in specs() {
        let operations = spec.operations();
        for (method, template) in &operations {
            in_specs.insert((
                method.to_string(),
                format!("{}{}", spec.base, Operation::shape(template)),
            ));
        }
        let implemented = |method: &str, template: &str| {
            declared.contains(&(
                method.to_string(),
                format!("{}{}", spec.base, Operation::shape(template)),
            ))
        };
        let count = operations.iter().filter(|(m, t)| implemented(m, t)).count();
        out.push_str(&format!(
            "\n## {} (`{}`): {count} of {} operations\n\n| | operation | summary |\n|---|---|---|\n",
            spec.name,
            spec.base,
            operations.len()
        ));
        for (method, template) in &operations {
            let summary = spec.root["paths"][template][method.to_lowercase()]["summary"]
                .as_str()
                .unwrap_or("")
                .replace('|', "\\|")
                .trim()
                .to_string();
            let mark = if implemented(method, template) {
                "✅"
            } else {
                "—"
            };
            out.push_str(&format!("| {mark} | `{method} {template}` | {summary} |\n"));
        }
        let _ = spec.file;
    }
    let own: Vec<_> = tollgate_controlplane::rest_operations()
        .into_iter()
        .filter(|(base, op)| {
            !in_specs.contains(&(
                op.method.to_string(),
                format!("{base}{}", Operation::shape(op.path)),
            ))
        })
        .collect();
    out.push_str(&format!(
        "\n## Beyond the three specs: {}\n\nTollgate's own operations, and the WSO2 Identity Server user endpoints (self sign-up, SCIM 2.0) that API Manager users script against.\n\n| operation |\n|---|\n",
        own.len()
    ));
    for (base, op) in own {
        out.push_str(&format!("| `{} {base}{}` |\n", op.method, op.path));
    }
    out
}

/// Every operation a router declares is answered by a running node: a method it serves, on a
/// route it has (anything but the router's own 404 and 405).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_operations_are_served() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = reqwest::Client::new();
    let mut missing = Vec::new();
    for (base, op) in tollgate_controlplane::rest_operations() {
        let path = Operation::shape(op.path).replace("{}", "x");
        let url = format!("{}{base}{path}", node.control_plane_http(""));
        let response = http
            .request(Method::from_bytes(op.method.as_bytes()).unwrap(), url)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND
                && (op.method == "HEAD" || text.contains("No resource at")))
        {
            missing.push(format!("{} {base}{} answered {status}", op.method, op.path));
        }
    }
    assert!(
        missing.is_empty(),
        "declared but not served:\n{}",
        missing.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coverage_document_is_current() {
    let generated = coverage();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rest-api-coverage.md");
    if std::env::var_os("UPDATE_REST_COVERAGE").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/rest-api-coverage.md is stale: run scripts/rest-coverage"
    );
}
