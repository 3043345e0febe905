//! The publisher's changes as gateways see them, through a real all-in-one process: the
//! lifecycle (blocked, re-published, deprecated, a prototype, retired), revisions as snapshots,
//! deletion, the default version served without its version, scopes the gateway checks,
//! gateways serving only their environments and reporting deployments, and an export imported
//! into another installation served there. (The Publisher API's own rules are tested in process:
//! `operations/tests/rules/rest`.)

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_testkit::flow::{named_api, Flow, PROVIDER_SCOPES};
use tollgate_testkit::gateway::{Anonymous, Bearer, Gateway};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_revisions_and_deletion_as_gateways_see_them() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let gateway = Gateway::of(&node);
    let v1 = flow
        .publish_api(named_api("Shop", "/shop", "1.0.0", &backend.url()))
        .await;
    let (_, token) = flow.application_with_token("ShopApp", Some(&v1)).await;
    let v1_menu = "/shop/1.0.0/menu";
    gateway.until(v1_menu, Bearer(&token), StatusCode::OK).await;

    // Blocked: every gateway answers 503 with WSO2's code; Re-Publish restores it.
    flow.change_lifecycle(&v1, "Block").await;
    let blocked = gateway
        .until(v1_menu, Bearer(&token), StatusCode::SERVICE_UNAVAILABLE)
        .await;
    assert_eq!(blocked.json()["code"], "700700");
    flow.change_lifecycle(&v1, "Re-Publish").await;
    gateway.until(v1_menu, Bearer(&token), StatusCode::OK).await;

    // A revision is a snapshot: editing the API changes nothing on gateways until the next
    // revision is deployed.
    let mut edited = flow.get_api(&v1).await;
    edited["operations"] = json!([{"target": "/order", "verb": "POST", "authType": "Any"}]);
    flow.update_api(&v1, &edited).await;
    assert_eq!(
        gateway.get(v1_menu, Bearer(&token)).await.status,
        StatusCode::OK,
        "the deployed revision still has GET /menu"
    );
    let first = flow.revisions(&v1).await["list"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    flow.restore_revision(&v1, &first).await;

    // A new version, copied; publishing it with "Deprecate old versions" deprecates v1, which
    // keeps serving its subscribers.
    let v2 = flow.copy_api(&v1, "2.0.0", true).await;
    let v2_id = v2["id"].as_str().unwrap().to_string();
    flow.change_lifecycle_with(
        &v2_id,
        "Publish",
        "Deprecate old versions after publishing the API:true",
    )
    .await;
    assert_eq!(flow.get_api(&v1).await["lifeCycleStatus"], "DEPRECATED");
    gateway.until(v1_menu, Bearer(&token), StatusCode::OK).await;

    // A prototype answers any application's token, subscribed or not.
    let (_, other_token) = flow.application_with_token("Latecomer", None).await;
    let proto = flow
        .create_api(named_api("Proto", "/proto", "0.1.0", &backend.url()))
        .await;
    let proto_id = proto["id"].as_str().unwrap();
    flow.deploy_to(proto_id, json!([{"name": "Default"}])).await;
    flow.change_lifecycle(proto_id, "Deploy as a Prototype")
        .await;
    gateway
        .until("/proto/0.1.0/menu", Bearer(&other_token), StatusCode::OK)
        .await;

    // Retired: gone from gateways.
    flow.change_lifecycle(&v1, "Retire").await;
    gateway
        .until(v1_menu, Bearer(&token), StatusCode::NOT_FOUND)
        .await;

    // v2 is deployed by no revision yet; deploy it and delete it: the gateway stops serving.
    // Without a token the gateway answers 401 for an API it serves, 404 for one it does not.
    flow.deploy_to(&v2_id, json!([{"name": "Default", "vhost": "localhost"}]))
        .await;
    let v2_menu = "/shop/2.0.0/menu";
    gateway
        .until(v2_menu, Anonymous, StatusCode::UNAUTHORIZED)
        .await;
    flow.delete_api(&v2_id).await;
    gateway
        .until(v2_menu, Anonymous, StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_version_is_served_without_its_version() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let gateway = Gateway::of(&node);
    // v1 takes no orders; v2 does.
    let mut v1_body = named_api("Menu", "/menu", "1.0.0", &backend.url());
    v1_body["isDefaultVersion"] = json!(true);
    v1_body["operations"]
        .as_array_mut()
        .unwrap()
        .retain(|op| op["verb"] != "POST");
    let v1 = flow.publish_api(v1_body).await;
    let v2 = flow
        .publish_api(named_api("Menu", "/menu", "2.0.0", &backend.url()))
        .await;
    let (app_id, token) = flow.application_with_token("Diner", Some(&v1)).await;
    flow.subscribe(&app_id, &v2, "Unlimited").await;

    // v1 is the default: /menu/menu reaches it, and it takes no orders.
    gateway
        .until("/menu/menu", Bearer(&token), StatusCode::OK)
        .await;
    let order = |path: &'static str| {
        let (gateway, token) = (&gateway, token.clone());
        async move {
            gateway
                .call(Method::POST, path, Bearer(&token), Some(&json!({})))
                .await
        }
    };
    let refused = order("/menu/order").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.json()["code"], "900906");
    // The versioned paths still work.
    assert!(order("/menu/2.0.0/order").await.status.is_success());

    // Marking v2 as the default moves the unversioned path to it, with no new revision.
    let mut current = flow.get_api(&v2).await;
    current["isDefaultVersion"] = json!(true);
    flow.update_api(&v2, &current).await;
    gateway
        .eventually_call(
            Method::POST,
            "/menu/order",
            Bearer(&token),
            StatusCode::CREATED,
        )
        .await;
    assert!(
        order("/menu/order").await.status.is_success(),
        "the default never moved to v2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_bind_roles_and_gateways_check_them() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(
        &node,
        &format!("{PROVIDER_SCOPES} apim:shared_scope_manage"),
    )
    .await;
    let gateway = Gateway::of(&node);

    // Shared scopes: one the admin role holds, one nobody does.
    for (name, role) in [("menu:read", "admin"), ("menu:secret", "Internal/nobody")] {
        flow.create_shared_scope(
            json!({"name": name, "displayName": name, "description": "shared", "bindings": [role]}),
        )
        .await;
    }
    let mut body = named_api("Scoped", "/scoped", "1.0.0", &backend.url());
    body["scopes"] = json!([
        {"scope": {"name": "order:write", "displayName": "Order", "description": "Place orders", "bindings": ["Internal/admin"]}, "shared": false},
        {"scope": {"name": "menu:read", "bindings": []}, "shared": true}
    ]);
    for op in body["operations"].as_array_mut().unwrap() {
        op["scopes"] = match (op["verb"].as_str().unwrap(), op["target"].as_str().unwrap()) {
            ("GET", "/menu") => json!(["menu:read"]),
            ("POST", "/order") => json!(["order:write"]),
            ("GET", "/order/{orderId}") => json!(["menu:secret"]),
            _ => json!([]),
        };
    }
    let api_id = flow.publish_api(body).await;
    let (app_id, _) = flow.application_with_token("Scoper", Some(&api_id)).await;
    let key = flow.production_key(&app_id).await;
    let scoped = flow
        .generate_token(
            &app_id,
            &key,
            json!({"consumerSecret": key["consumerSecret"], "validityPeriod": 3600, "scopes": ["menu:read", "order:write", "menu:secret"]}),
        )
        .await;
    let mut granted: Vec<&str> = scoped["tokenScopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    granted.sort();
    assert_eq!(
        granted,
        ["menu:read", "order:write"],
        "menu:secret is bound to a role admin lacks"
    );
    let token = scoped["accessToken"].as_str().unwrap().to_string();
    let bare = flow.token_for(&app_id, &key, 3600).await;

    gateway
        .until("/scoped/1.0.0/menu", Bearer(&token), StatusCode::OK)
        .await;
    let refused = gateway.get("/scoped/1.0.0/menu", Bearer(&bare)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["code"], "900910");
    let order = gateway
        .call(
            Method::POST,
            "/scoped/1.0.0/order",
            Bearer(&token),
            Some(&json!({})),
        )
        .await;
    assert!(order.status.is_success(), "{}", order.status);
    assert_eq!(
        gateway
            .get("/scoped/1.0.0/order/1", Bearer(&token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_serve_their_environments_and_report_deployments() {
    let backend = MockBackend::start().await;
    // This node's gateway serves only the environment the Admin API is about to add.
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config:
                "[apim.sync_runtime_artifacts.gateway]\ngateway_labels = [\"us-region\"]\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login_with_scopes(
        &node,
        &format!("{PROVIDER_SCOPES} apim:admin apim:environment_manage"),
    )
    .await;
    let gateway = Gateway::of(&node);
    flow.add_environment(json!({"name": "us-region", "displayName": "US Region", "description": "Gateways in the US",
        "vhosts": [{"host": "us.example.com", "httpContext": "", "httpPort": 8280, "httpsPort": 8243}]}))
        .await;

    // An API deployed to Default is not served here; deployed to us-region, it is.
    let created = flow
        .create_api(named_api("Regional", "/regional", "1.0.0", &backend.url()))
        .await;
    let id = created["id"].as_str().unwrap();
    let revision = flow.create_revision(id, "regional").await;
    let revision_id = revision["id"].as_str().unwrap();
    flow.deploy_revision(id, revision_id, json!([{"name": "Default"}]))
        .await;
    flow.change_lifecycle(id, "Publish").await;
    let menu = "/regional/1.0.0/menu";
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        gateway.get(menu, Anonymous).await.status,
        StatusCode::NOT_FOUND,
        "not this gateway's environment"
    );
    flow.deploy_revision(
        id,
        revision_id,
        json!([{"name": "us-region", "vhost": "us.example.com"}]),
    )
    .await;
    // Served here now (and wants a token).
    gateway
        .until(menu, Anonymous, StatusCode::UNAUTHORIZED)
        .await;
    // The gateway (in this process, labelled us-region) reports it applied the deployment; no
    // gateway serves Default here, so that deployment has none.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let deployments = flow.deployments(id).await;
        let by_name = |name: &str| {
            deployments["list"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == name)
                .cloned()
                .unwrap()
        };
        let (us, default) = (by_name("us-region"), by_name("Default"));
        if us["appliedGateways"] == 1 {
            assert_eq!(us["liveGateways"], 1);
            assert!(us["successDeployedTime"].is_string());
            assert_eq!(default["liveGateways"], 0);
            assert!(default.get("successDeployedTime").is_none());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no report: {deployments}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imported_into_another_installation_is_served_there() {
    let backend = MockBackend::start().await;
    let source = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let target = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let scopes = format!("{PROVIDER_SCOPES} apim:api_import_export");
    let from = Flow::login_with_scopes(&source, &scopes).await;
    let to = Flow::login_with_scopes(&target, &scopes).await;

    from.publish_api(named_api("Travel", "/travel", "2.1.0", &backend.url()))
        .await;
    let archive = from.export_api("Travel", "2.1.0").await;
    to.import_api(archive, "").await;
    let listed = to.list_apis("?query=name:Travel").await;
    assert_eq!(listed["count"], 1);
    Gateway::of(&target)
        .until("/travel/2.1.0/menu", Anonymous, StatusCode::UNAUTHORIZED)
        .await;
}
