//! The Publisher API through a real all-in-one process: listing and searching, bad input,
//! concurrent writes, deletion, copies, revisions, and the lifecycle as gateways enforce it.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, eventually, ok_json, pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

const PROVIDER_SCOPES: &str = "apim:api_view apim:api_create apim:api_publish apim:api_delete apim:api_manage apim:subscribe apim:subscription_block";

fn api(name: &str, context: &str, version: &str, endpoint: &str) -> Value {
    let mut body = pizzashack(endpoint);
    body["name"] = json!(name);
    body["context"] = json!(context);
    body["version"] = json!(version);
    body
}

async fn get(flow: &Flow, path: &str) -> reqwest::Response {
    flow.http
        .get(flow.publisher(path))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap()
}

async fn create(flow: &Flow, body: Value) -> Value {
    ok_json(
        flow.post(flow.publisher("/apis"), body).await,
        StatusCode::CREATED,
    )
    .await
}

/// Cuts a revision of the API and deploys it to `targets`.
async fn deploy_new_revision(flow: &Flow, api_id: &str, targets: Value) {
    let revision = ok_json(
        flow.post(
            flow.publisher(&format!("/apis/{api_id}/revisions")),
            json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let revision_id = revision["id"].as_str().unwrap();
    ok_json(
        flow.post(
            flow.publisher(&format!(
                "/apis/{api_id}/deploy-revision?revisionId={revision_id}"
            )),
            targets,
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// The bad fields a 400 names in WSO2's `error` list.
fn bad_fields(body: &Value) -> Vec<String> {
    body["error"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_searches_and_pages_in_wso2s_terms() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let endpoint = "http://127.0.0.1:9";
    let mut weather = api("WeatherAPI", "/weather", "1.0.0", endpoint);
    weather["tags"] = json!(["climate", "public-data"]);
    weather["description"] = json!("Forecasts by the hour");
    create(&flow, weather).await;
    create(
        &flow,
        api("PizzaShackAPI", "/pizzashack", "1.0.0", endpoint),
    )
    .await;
    let pizza2 = create(
        &flow,
        api("PizzaShackAPI", "/pizzashack", "2.0.0", endpoint),
    )
    .await;
    let _ = pizza2;

    // WSO2's own example, as its clients send it (numbers as text, an empty query).
    let listed = ok_json(
        get(
            &flow,
            "/apis?limit=25&offset=0&sortBy=apiName&sortOrder=asc&query=",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<_> = listed["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a["name"].as_str().unwrap(),
                a["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(listed["pagination"]["total"], 3);
    assert_eq!(names[2], "WeatherAPI:1.0.0", "sorted by name: {names:?}");

    for (query, expected) in [
        ("pizza", 2),
        ("name:weather", 1),
        ("version:2.0.0", 1),
        ("context:/pizzashack", 2),
        ("tag:climate", 1),
        ("tag:pizza", 2),
        ("status:CREATED", 3),
        ("status:PUBLISHED", 0),
        ("provider:\"admin\"", 3),
        ("description:hour", 1),
        ("name:pizzashack version:1.0.0", 1),
    ] {
        let listed = ok_json(
            get(&flow, &format!("/apis?query={}", urlencode(query))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["count"], expected, "query {query}: {listed}");
        assert_eq!(listed["pagination"]["total"], expected, "query {query}");
    }
    // Paging happens after filtering.
    let page = ok_json(
        get(
            &flow,
            "/apis?query=pizza&limit=1&offset=1&sortBy=version&sortOrder=desc",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["pagination"]["total"], 2);
    assert_eq!(page["list"][0]["version"], "1.0.0");

    // Bad parameters: WSO2's JSON error naming the parameter.
    for (path, field) in [
        ("/apis?sortBy=colour", "sortBy"),
        ("/apis?sortOrder=sideways", "sortOrder"),
        ("/apis?limit=many", "limit"),
        ("/apis?limit=-1", "limit"),
        ("/apis?offset=-5", "offset"),
        ("/apis?query=colour:red", "query"),
    ] {
        let response = get(&flow, path).await;
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        let body = error_body(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(bad_fields(&body), vec![field.to_string()], "{path}: {body}");
    }

    // Does a name or a context exist?
    for (query, status) in [
        ("name:WeatherAPI", StatusCode::OK),
        ("name:weatherapi", StatusCode::OK),
        ("name:Weather", StatusCode::NOT_FOUND),
        ("context:/pizzashack", StatusCode::OK),
        ("context:pizzashack", StatusCode::OK),
        ("context:/nothing", StatusCode::NOT_FOUND),
    ] {
        let response = flow
            .http
            .post(flow.publisher(&format!("/apis/validate?query={}", urlencode(query))))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "validate {query}");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_every_field_and_changes_nothing() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let mut body = api("Bad", "/bad", "1.0.0", "http://127.0.0.1:9");
    body["maxTps"] = json!({"production": -5});
    body["description"] = json!("d".repeat(40_000));
    body["gatewayVendor"] = json!("acme");
    body["visibility"] = json!("SECRET");
    body["policies"] = json!(["Gold", "Platinum"]);
    body["operations"][0]["verb"] = json!("FETCH");
    body["endpointConfig"]["production_endpoints"] = json!({"url": "ftp://example.com"});
    // Enum errors are found while reading the body; they come first, one at a time.
    let response = flow.post(flow.publisher("/apis"), body.clone()).await;
    let error = error_body(response, StatusCode::BAD_REQUEST).await;
    let fields = bad_fields(&error);
    assert_eq!(fields.len(), 1, "{error}");
    assert!(
        ["gatewayVendor", "visibility", "operations[0].verb"].contains(&fields[0].as_str()),
        "{error}"
    );
    body["gatewayVendor"] = json!("wso2");
    body["visibility"] = json!("PUBLIC");
    body["operations"][0]["verb"] = json!("GET");
    // The rest are all reported at once.
    let response = flow.post(flow.publisher("/apis"), body.clone()).await;
    let error = error_body(response, StatusCode::BAD_REQUEST).await;
    let fields = bad_fields(&error);
    for expected in [
        "maxTps.production",
        "description",
        "endpointConfig.production_endpoints.url",
    ] {
        assert!(fields.iter().any(|f| f == expected), "{expected}: {error}");
    }
    body["maxTps"] = json!({"production": 5});
    body["description"] = json!("fine");
    body["endpointConfig"]["production_endpoints"] = json!({"url": "http://127.0.0.1:9"});
    let error = error_body(
        flow.post(flow.publisher("/apis"), body.clone()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        bad_fields(&error),
        vec!["policies[1]".to_string()],
        "{error}"
    );
    // Nothing was stored by any of it.
    let listed = ok_json(get(&flow, "/apis").await, StatusCode::OK).await;
    assert_eq!(listed["count"], 0);

    // Twenty concurrent creates of one context and version: exactly one succeeds.
    let tries = (0..20).map(|i| {
        let flow = &flow;
        let mut body = api(&format!("Race{i}"), "/race", "1.0.0", "http://127.0.0.1:9");
        body["tags"] = json!([format!("t{i}")]);
        async move { flow.post(flow.publisher("/apis"), body).await.status() }
    });
    let statuses = futures_util::future::join_all(tries).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    let listed = ok_json(
        get(&flow, "/apis?query=context:/race").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_never_lose_a_write_silently() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let created = create(&flow, api("Etag", "/etag", "1.0.0", "http://127.0.0.1:9")).await;
    let id = created["id"].as_str().unwrap();
    let response = get(&flow, &format!("/apis/{id}")).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let current = ok_json(response, StatusCode::OK).await;

    // Two clients edit the copy they both read; the second is told, not overwritten.
    let put = |description: &'static str| {
        let mut body = current.clone();
        body["description"] = json!(description);
        flow.http
            .put(flow.publisher(&format!("/apis/{id}")))
            .bearer_auth(&flow.token)
            .header("If-Match", etag.clone())
            .json(&body)
            .send()
    };
    let (first, second) = tokio::join!(put("first"), put("second"));
    let mut statuses = [first.unwrap().status(), second.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    let after = ok_json(get(&flow, &format!("/apis/{id}")).await, StatusCode::OK).await;
    assert!(["first", "second"].contains(&after["description"].as_str().unwrap()));

    // Identity fields cannot change; the error names them.
    let mut renamed = after.clone();
    renamed["name"] = json!("Other");
    renamed["version"] = json!("9.9.9");
    let error = error_body(
        flow.http
            .put(flow.publisher(&format!("/apis/{id}")))
            .bearer_auth(&flow.token)
            .json(&renamed)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["name", "version"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_revisions_and_deletion_as_gateways_see_them() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let v1 = flow
        .publish_api(api("Shop", "/shop", "1.0.0", &backend.url()))
        .await;
    let (app_id, token) = flow.application_with_token("ShopApp", Some(&v1)).await;
    let v1_menu = node.gateway_http("/shop/1.0.0/menu");
    eventually(&flow.http, &v1_menu, Some(&token), StatusCode::OK).await;

    // The lifecycle: state, history, and an action not allowed from here.
    let state = ok_json(
        get(&flow, &format!("/apis/{v1}/lifecycle-state")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(state["state"], "Published");
    let events: Vec<_> = state["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["Block", "Deprecate", "Demote to Created"]);
    let change = |api: &str, action: &str| {
        flow.http
            .post(flow.publisher(&format!(
                "/apis/change-lifecycle?apiId={api}&action={}",
                urlencode(action)
            )))
            .bearer_auth(&flow.token)
            .send()
    };
    let error = error_body(
        change(&v1, "Retire").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        error["description"]
            .as_str()
            .unwrap()
            .contains("allowed: Block, Deprecate, Demote to Created"),
        "{error}"
    );
    let error = error_body(
        change(&v1, "Explode").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["action"]);

    // Blocked: every gateway answers 503 with WSO2's code; Re-Publish restores it.
    ok_json(change(&v1, "Block").await.unwrap(), StatusCode::OK).await;
    let blocked = eventually(
        &flow.http,
        &v1_menu,
        Some(&token),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(blocked.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = blocked.json().await.unwrap();
    assert_eq!(body["code"], "700700");
    ok_json(change(&v1, "Re-Publish").await.unwrap(), StatusCode::OK).await;
    eventually(&flow.http, &v1_menu, Some(&token), StatusCode::OK).await;

    // A revision is a snapshot: editing the API changes nothing on gateways until the next
    // revision is deployed.
    let current = ok_json(get(&flow, &format!("/apis/{v1}")).await, StatusCode::OK).await;
    let mut edited = current.clone();
    edited["operations"] = json!([{"target": "/order", "verb": "POST", "authType": "Any"}]);
    ok_json(
        flow.http
            .put(flow.publisher(&format!("/apis/{v1}")))
            .bearer_auth(&flow.token)
            .json(&edited)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let still = flow
        .http
        .get(&v1_menu)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "the deployed revision still has GET /menu"
    );

    // At most five revisions; a deployed one cannot be deleted; restore brings a copy back.
    let revisions = ok_json(
        get(&flow, &format!("/apis/{v1}/revisions")).await,
        StatusCode::OK,
    )
    .await;
    let first = revisions["list"][0]["id"].as_str().unwrap().to_string();
    for n in 2..=5 {
        ok_json(
            flow.post(
                flow.publisher(&format!("/apis/{v1}/revisions")),
                json!({"description": format!("r{n}")}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let error = error_body(
        flow.post(flow.publisher(&format!("/apis/{v1}/revisions")), json!({}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        error["description"]
            .as_str()
            .unwrap()
            .starts_with("Maximum number of revisions per API has reached"),
        "{error}"
    );
    let refused = flow
        .http
        .delete(flow.publisher(&format!("/apis/{v1}/revisions/{first}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    error_body(refused, StatusCode::CONFLICT).await;
    let restored = ok_json(
        flow.http
            .post(flow.publisher(&format!("/apis/{v1}/restore-revision?revisionId={first}")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(restored["operations"].as_array().unwrap().len(), 6);

    // A new version, copied; publishing it with "Deprecate old versions" deprecates v1, which
    // keeps serving its subscribers but takes no new subscriptions.
    let v2 = ok_json(
        flow.http
            .post(flow.publisher(&format!(
                "/apis/copy-api?apiId={v1}&newVersion=2.0.0&defaultVersion=true"
            )))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v2["version"], "2.0.0");
    assert_eq!(v2["isDefaultVersion"], true);
    assert_eq!(v2["lifeCycleStatus"], "CREATED");
    assert_eq!(v2["operations"].as_array().unwrap().len(), 6);
    assert_eq!(v2["endpointConfig"], restored["endpointConfig"]);
    let v2_id = v2["id"].as_str().unwrap();
    let published = ok_json(
        flow.http
            .post(flow.publisher(&format!(
                "/apis/change-lifecycle?apiId={v2_id}&action=Publish&lifecycleChecklist={}",
                urlencode("Deprecate old versions after publishing the API:true")
            )))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(published["lifecycleState"]["state"], "Published");
    let old = ok_json(get(&flow, &format!("/apis/{v1}")).await, StatusCode::OK).await;
    assert_eq!(old["lifeCycleStatus"], "DEPRECATED");
    eventually(&flow.http, &v1_menu, Some(&token), StatusCode::OK).await;
    let (other_app, other_token) = flow.application_with_token("Latecomer", None).await;
    let refused = flow
        .post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": other_app, "apiId": v1, "throttlingPolicy": "Unlimited"}),
        )
        .await;
    let error = error_body(refused, StatusCode::BAD_REQUEST).await;
    assert_eq!(bad_fields(&error), vec!["apiId"]);

    // A prototype answers any application's token, subscribed or not.
    let proto = ok_json(
        flow.post(
            flow.publisher("/apis"),
            api("Proto", "/proto", "0.1.0", &backend.url()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let proto_id = proto["id"].as_str().unwrap();
    deploy_new_revision(&flow, proto_id, json!([{"name": "Default"}])).await;
    ok_json(
        change(proto_id, "Deploy as a Prototype").await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let tried = eventually(
        &flow.http,
        &node.gateway_http("/proto/0.1.0/menu"),
        Some(&other_token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(tried.status(), StatusCode::OK);

    let history = ok_json(
        get(&flow, &format!("/apis/{v1}/lifecycle-history")).await,
        StatusCode::OK,
    )
    .await;
    let steps: Vec<String> = history["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}>{}",
                h["previousState"].as_str().unwrap_or("-"),
                h["postState"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "->Created",
            "Created>Published",
            "Published>Blocked",
            "Blocked>Published",
            "Published>Deprecated"
        ]
    );
    assert_eq!(history["list"][1]["user"], "admin");

    // Retired: gone from gateways.
    ok_json(change(&v1, "Retire").await.unwrap(), StatusCode::OK).await;
    eventually(&flow.http, &v1_menu, Some(&token), StatusCode::NOT_FOUND).await;

    // Deleting: refused while subscriptions exist; once they are gone, gateways forget it.
    let delete = |api: String| {
        flow.http
            .delete(flow.publisher(&format!("/apis/{api}")))
            .bearer_auth(&flow.token)
            .send()
    };
    error_body(delete(v1.clone()).await.unwrap(), StatusCode::CONFLICT).await;
    let subs = ok_json(
        flow.http
            .get(flow.devportal(&format!("/subscriptions?applicationId={app_id}")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for sub in subs["list"].as_array().unwrap() {
        let sub_id = sub["subscriptionId"].as_str().unwrap();
        let removed = flow
            .http
            .delete(flow.devportal(&format!("/subscriptions/{sub_id}")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap();
        assert_eq!(removed.status(), StatusCode::OK);
    }
    assert_eq!(delete(v1.clone()).await.unwrap().status(), StatusCode::OK);
    error_body(
        get(&flow, &format!("/apis/{v1}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // v2 is deployed by no revision yet; deploy it and delete it: the gateway stops serving.
    deploy_new_revision(
        &flow,
        v2_id,
        json!([{"name": "Default", "vhost": "localhost"}]),
    )
    .await;
    // Without a token the gateway answers 401 for an API it serves, 404 for one it does not.
    let v2_menu = node.gateway_http("/shop/2.0.0/menu");
    eventually(&flow.http, &v2_menu, None, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        delete(v2_id.to_string()).await.unwrap().status(),
        StatusCode::OK
    );
    let gone = eventually(&flow.http, &v2_menu, None, StatusCode::NOT_FOUND).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_version_is_served_without_its_version() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    // v1 takes no orders; v2 does.
    let mut v1_body = api("Menu", "/menu", "1.0.0", &backend.url());
    v1_body["isDefaultVersion"] = json!(true);
    v1_body["operations"]
        .as_array_mut()
        .unwrap()
        .retain(|op| op["verb"] != "POST");
    let v1 = flow.publish_api(v1_body).await;
    let v2 = flow
        .publish_api(api("Menu", "/menu", "2.0.0", &backend.url()))
        .await;
    let (app_id, token) = flow.application_with_token("Diner", Some(&v1)).await;
    flow.subscribe(&app_id, &v2, "Unlimited").await;

    // v1 is the default: /menu/menu reaches it, and it takes no orders.
    let unversioned = node.gateway_http("/menu/menu");
    eventually(&flow.http, &unversioned, Some(&token), StatusCode::OK).await;
    let order = |path: &str| {
        flow.http
            .post(node.gateway_http(path))
            .bearer_auth(&token)
            .body("{}")
            .send()
    };
    let refused = order("/menu/order").await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "900906");
    // The versioned paths still work.
    assert!(order("/menu/2.0.0/order")
        .await
        .unwrap()
        .status()
        .is_success());

    // Marking v2 as the default moves the unversioned path to it, with no new revision.
    let mut current = ok_json(get(&flow, &format!("/apis/{v2}")).await, StatusCode::OK).await;
    current["isDefaultVersion"] = json!(true);
    ok_json(
        flow.http
            .put(flow.publisher(&format!("/apis/{v2}")))
            .bearer_auth(&flow.token)
            .json(&current)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !order("/menu/order").await.unwrap().status().is_success() {
        assert!(
            std::time::Instant::now() < deadline,
            "the default never moved to v2"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let old = ok_json(get(&flow, &format!("/apis/{v1}")).await, StatusCode::OK).await;
    assert_eq!(old["isDefaultVersion"], false);

    // The provider sees who subscribes.
    let subscriptions = ok_json(
        get(
            &flow,
            &format!("/subscriptions?apiId={v2}&limit=10&offset=0"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(subscriptions["count"], 1);
    assert_eq!(subscriptions["list"][0]["applicationInfo"]["name"], "Diner");
    assert_eq!(subscriptions["list"][0]["subscriptionStatus"], "UNBLOCKED");
    assert_eq!(subscriptions["pagination"]["total"], 1);
    let all = ok_json(get(&flow, "/subscriptions").await, StatusCode::OK).await;
    assert_eq!(all["count"], 2);
}

/// `generate-token` for an application's key, asking for `scopes`.
async fn generate_token(flow: &Flow, app_id: &str, key: &Value, scopes: Value) -> Value {
    let mapping = key["keyMappingId"].as_str().unwrap();
    ok_json(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/oauth-keys/{mapping}/generate-token")),
            json!({"consumerSecret": key["consumerSecret"], "validityPeriod": 3600, "scopes": scopes}),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

const WSO2_PUBLISHER_API: &str = include_str!("../../../../spec/wso2-apim-4.2/publisher-api.yaml");

/// Serves `body` once per connection at any path, as a web server hosting a definition.
fn serve_file(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/yaml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    format!("http://{addr}/publisher-api.yaml")
}

async fn multipart(
    flow: &Flow,
    method: reqwest::Method,
    path: &str,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    flow.http
        .request(method, flow.publisher(path))
        .bearer_auth(&flow.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_definitions_validate_import_and_stay_in_step() {
    use reqwest::multipart::{Form, Part};
    use reqwest::Method;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;

    // WSO2's own Publisher API definition: valid, with all its operations.
    let file = || Part::bytes(WSO2_PUBLISHER_API.as_bytes()).file_name("publisher-api.yaml");
    let validated = ok_json(
        multipart(
            &flow,
            Method::POST,
            "/apis/validate-openapi",
            Form::new().part("file", file()),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(validated["isValid"], true, "{validated}");
    assert_eq!(validated["info"]["openAPIVersion"], "3.0.1");
    assert_eq!(validated["info"]["context"], "/api/am/publisher/v4");

    // An invalid one: 200, not valid, every problem with its location.
    let broken = r##"{"openapi": "3.0.1", "info": {"title": "Broken", "version": "1"},
        "paths": {"/pets/{id}": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}}"##;
    let validated = ok_json(
        multipart(
            &flow,
            Method::POST,
            "/apis/validate-openapi",
            Form::new().text("inlineAPIDefinition", broken),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(validated["isValid"], false);
    let locations: Vec<&str> = validated["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        [
            "#/paths/~1pets~1{id}/get/responses/200/$ref",
            "#/paths/~1pets~1{id}/get"
        ]
    );
    // Importing it is refused the same way, with WSO2's error body.
    let refused = multipart(
        &flow,
        Method::POST,
        "/apis/import-openapi",
        Form::new().text("inlineAPIDefinition", broken),
    )
    .await;
    let error = error_body(refused, StatusCode::BAD_REQUEST).await;
    assert_eq!(bad_fields(&error).len(), 2, "{error}");

    // Import WSO2's definition from a URL: an API with its 160 operations.
    let url = serve_file(WSO2_PUBLISHER_API);
    let additional = json!({
        "name": "PublisherMirror", "version": "4.2.0", "context": "/mirror",
        "policies": ["Unlimited"],
        "endpointConfig": {"endpoint_type": "http", "production_endpoints": {"url": "http://127.0.0.1:9443/api/am/publisher/v4"}}
    });
    let imported = ok_json(
        multipart(
            &flow,
            Method::POST,
            "/apis/import-openapi",
            Form::new()
                .text("url", url)
                .text("additionalProperties", additional.to_string()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(imported["name"], "PublisherMirror");
    assert_eq!(imported["context"], "/mirror");
    assert_eq!(imported["operations"].as_array().unwrap().len(), 160);
    let id = imported["id"].as_str().unwrap();
    let definition = ok_json(
        get(&flow, &format!("/apis/{id}/swagger")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(definition["info"]["title"], "PublisherMirror");
    assert!(
        definition["components"]["schemas"]["API"].is_object(),
        "the document is kept"
    );

    // Edit the operations through the API: the definition follows.
    let mut api = ok_json(get(&flow, &format!("/apis/{id}")).await, StatusCode::OK).await;
    api["operations"] = json!([
        {"target": "/apis", "verb": "GET", "authType": "Application", "throttlingPolicy": "10KPerMin", "scopes": ["apim:api_view"]},
        {"target": "/health/{probe}", "verb": "GET", "authType": "None"}
    ]);
    ok_json(
        flow.http
            .put(flow.publisher(&format!("/apis/{id}")))
            .bearer_auth(&flow.token)
            .json(&api)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let definition = ok_json(
        get(&flow, &format!("/apis/{id}/swagger")).await,
        StatusCode::OK,
    )
    .await;
    let paths = definition["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 2, "{:?}", paths.keys().collect::<Vec<_>>());
    let list_apis = &definition["paths"]["/apis"]["get"];
    assert_eq!(list_apis["x-auth-type"], "Application");
    assert_eq!(list_apis["x-throttling-tier"], "10KPerMin");
    assert_eq!(
        list_apis["security"],
        json!([{"default": ["apim:api_view"]}])
    );
    assert!(
        list_apis["responses"].is_object(),
        "the original operation is kept"
    );
    let probe = &definition["paths"]["/health/{probe}"]["get"];
    assert_eq!(probe["security"], json!([]));
    assert_eq!(probe["parameters"][0]["name"], "probe");

    // Upload a definition (Swagger 2.0, JSON): the API's operations are rewritten from it.
    let swagger = json!({
        "swagger": "2.0", "info": {"title": "Mirror", "version": "4.2.0"}, "basePath": "/mirror",
        "paths": {
            "/apis": {"get": {"x-auth-type": "Application User", "responses": {"200": {"description": "ok"}}}},
            "/apis/{apiId}": {"delete": {"parameters": [{"name": "apiId", "in": "path", "required": true, "type": "string"}],
                                          "security": [{"default": ["apim:api_delete"]}],
                                          "responses": {"200": {"description": "ok"}}}}
        }
    });
    let updated = ok_json(
        multipart(
            &flow,
            Method::PUT,
            &format!("/apis/{id}/swagger"),
            Form::new().text("apiDefinition", swagger.to_string()),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["swagger"], "2.0");
    let api = ok_json(get(&flow, &format!("/apis/{id}")).await, StatusCode::OK).await;
    let operations: Vec<String> = api["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {} {}",
                o["verb"].as_str().unwrap(),
                o["target"].as_str().unwrap(),
                o["authType"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        operations,
        [
            "GET /apis Application User",
            "DELETE /apis/{apiId} Application & Application User"
        ]
    );
    assert_eq!(
        api["operations"][0]["throttlingPolicy"], "10KPerMin",
        "kept from before"
    );
    assert_eq!(api["operations"][1]["scopes"], json!(["apim:api_delete"]));

    // A stale If-Match is refused; a bad definition changes nothing.
    let stale = flow
        .http
        .put(flow.publisher(&format!("/apis/{id}/swagger")))
        .bearer_auth(&flow.token)
        .header("If-Match", "\"1\"")
        .multipart(Form::new().text("apiDefinition", swagger.to_string()))
        .send()
        .await
        .unwrap();
    error_body(stale, StatusCode::PRECONDITION_FAILED).await;
    let bad = multipart(
        &flow,
        Method::PUT,
        &format!("/apis/{id}/swagger"),
        Form::new().text(
            "apiDefinition",
            "openapi: 3.0.0\ninfo: {title: x}\npaths: {}",
        ),
    )
    .await;
    let error = error_body(bad, StatusCode::BAD_REQUEST).await;
    assert_eq!(bad_fields(&error), vec!["#/info".to_string()], "{error}");
    let after = ok_json(get(&flow, &format!("/apis/{id}")).await, StatusCode::OK).await;
    assert_eq!(after["operations"], api["operations"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_every_kind_and_copies_carry_them() {
    use reqwest::multipart::{Form, Part};
    use reqwest::Method;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let created = create(&flow, api("Docs", "/docs", "1.0.0", "http://127.0.0.1:9")).await;
    let id = created["id"].as_str().unwrap();
    let docs = format!("/apis/{id}/documents");
    let add = |body: Value| flow.post(flow.publisher(&docs), body);

    let inline = ok_json(
        add(json!({"name": "Getting started", "type": "HOWTO", "summary": "How to order", "sourceType": "INLINE",
                   "inlineContent": "Call GET /menu.", "visibility": "API_LEVEL"})).await,
        StatusCode::CREATED,
    )
    .await;
    let markdown = ok_json(
        add(json!({"name": "Samples", "type": "SAMPLES", "sourceType": "MARKDOWN", "inlineContent": "# Samples"})).await,
        StatusCode::CREATED,
    )
    .await;
    let url = ok_json(
        add(json!({"name": "Forum", "type": "PUBLIC_FORUM", "sourceType": "URL", "sourceUrl": "https://forum.example.com/pizza"})).await,
        StatusCode::CREATED,
    )
    .await;
    let file = ok_json(
        add(json!({"name": "Guide", "type": "OTHER", "otherTypeName": "Guide", "sourceType": "FILE"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(inline["createdBy"], "admin");

    // Bad documents: each field named.
    for (body, field) in [
        (
            json!({"name": "X", "type": "NOVEL", "sourceType": "INLINE"}),
            "type",
        ),
        (
            json!({"name": "X", "type": "HOWTO", "sourceType": "FAX"}),
            "sourceType",
        ),
        (
            json!({"name": "X", "type": "HOWTO", "sourceType": "URL"}),
            "sourceUrl",
        ),
        (
            json!({"name": "X", "type": "OTHER", "sourceType": "INLINE"}),
            "otherTypeName",
        ),
        (
            json!({"name": "", "type": "HOWTO", "sourceType": "INLINE"}),
            "name",
        ),
        (
            json!({"name": "X", "type": "HOWTO", "sourceType": "INLINE", "visibility": "EVERYONE"}),
            "visibility",
        ),
    ] {
        let error = error_body(add(body.clone()).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(bad_fields(&error), vec![field.to_string()], "{body}");
    }
    let duplicate =
        add(json!({"name": "Samples", "type": "SAMPLES", "sourceType": "INLINE"})).await;
    error_body(duplicate, StatusCode::CONFLICT).await;

    // Upload a file and download it with its content type.
    let file_id = file["documentId"].as_str().unwrap();
    let pdf = b"%PDF-1.4 not really a pdf\x00\x01\x02".to_vec();
    let uploaded = ok_json(
        multipart(
            &flow,
            Method::POST,
            &format!("{docs}/{file_id}/content"),
            Form::new().part(
                "file",
                Part::bytes(pdf.clone())
                    .file_name("guide.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            ),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(uploaded["fileName"], "guide.pdf");
    let download = get(&flow, &format!("{docs}/{file_id}/content")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("guide.pdf"));
    assert_eq!(download.bytes().await.unwrap().to_vec(), pdf);

    // Inline content is replaced through the same endpoint; Markdown is served as such.
    let inline_id = inline["documentId"].as_str().unwrap();
    multipart(
        &flow,
        Method::POST,
        &format!("{docs}/{inline_id}/content"),
        Form::new().text("inlineContent", "Call GET /menu, then POST /order."),
    )
    .await;
    let text = get(&flow, &format!("{docs}/{inline_id}/content")).await;
    assert_eq!(
        text.text().await.unwrap(),
        "Call GET /menu, then POST /order."
    );
    let md = get(
        &flow,
        &format!(
            "{docs}/{}/content",
            markdown["documentId"].as_str().unwrap()
        ),
    )
    .await;
    assert!(md.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    // A URL document's content is where it points.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = no_redirects
        .get(flow.publisher(&format!(
            "{docs}/{}/content",
            url["documentId"].as_str().unwrap()
        )))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        moved.headers()["location"],
        "https://forum.example.com/pizza"
    );
    // A file where text belongs is refused, naming the field.
    let wrong = multipart(
        &flow,
        Method::POST,
        &format!("{docs}/{file_id}/content"),
        Form::new().text("inlineContent", "text"),
    )
    .await;
    assert_eq!(
        bad_fields(&error_body(wrong, StatusCode::BAD_REQUEST).await),
        vec!["file"]
    );

    // Update, validate by name, list in pages, delete.
    let updated = ok_json(
        flow.http
            .put(flow.publisher(&format!("{docs}/{inline_id}")))
            .bearer_auth(&flow.token)
            .json(&json!({"name": "Quick start", "type": "HOWTO", "sourceType": "INLINE", "summary": "Renamed"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["name"], "Quick start");
    assert_eq!(
        updated["inlineContent"],
        "Call GET /menu, then POST /order."
    );
    let exists = |name: &str| {
        flow.http
            .post(flow.publisher(&format!("{docs}/validate?name={}", urlencode(name))))
            .bearer_auth(&flow.token)
            .send()
    };
    assert_eq!(
        exists("Quick start").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        exists("Getting started").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let page = ok_json(
        get(&flow, &format!("{docs}?limit=2&offset=2")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["count"], 2);
    assert_eq!(page["pagination"]["total"], 4);

    // A new version carries the documents, files included.
    let copy = ok_json(
        flow.http
            .post(flow.publisher(&format!("/apis/copy-api?apiId={id}&newVersion=2.0.0")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let copy_id = copy["id"].as_str().unwrap();
    let copied = ok_json(
        get(&flow, &format!("/apis/{copy_id}/documents")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(copied["count"], 4);
    let copied_file = copied["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Guide")
        .unwrap();
    let download = get(
        &flow,
        &format!(
            "/apis/{copy_id}/documents/{}/content",
            copied_file["documentId"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(download.bytes().await.unwrap().to_vec(), pdf);

    let deleted = flow
        .http
        .delete(flow.publisher(&format!("{docs}/{file_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    error_body(
        get(&flow, &format!("{docs}/{file_id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
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

    // Shared scopes: one the admin role holds, one nobody does.
    let shared = |name: &str, role: &str| {
        flow.post(
            flow.publisher("/scopes"),
            json!({"name": name, "displayName": name, "description": "shared", "bindings": [role]}),
        )
    };
    let menu_read = ok_json(shared("menu:read", "admin").await, StatusCode::CREATED).await;
    ok_json(
        shared("menu:secret", "Internal/nobody").await,
        StatusCode::CREATED,
    )
    .await;
    error_body(shared("menu:read", "admin").await, StatusCode::CONFLICT).await;
    let error = error_body(
        flow.post(
            flow.publisher("/scopes"),
            json!({"name": "", "bindings": []}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["name"]);

    let mut body = api("Scoped", "/scoped", "1.0.0", &backend.url());
    body["scopes"] = json!([
        {"scope": {"name": "order:write", "displayName": "Order", "description": "Place orders", "bindings": ["Internal/admin"]}, "shared": false},
        {"scope": {"name": "menu:read", "bindings": []}, "shared": true}
    ]);
    let ops = body["operations"].as_array_mut().unwrap();
    for op in ops.iter_mut() {
        let scopes = match (op["verb"].as_str().unwrap(), op["target"].as_str().unwrap()) {
            ("GET", "/menu") => json!(["menu:read"]),
            ("POST", "/order") => json!(["order:write"]),
            ("GET", "/order/{orderId}") => json!(["menu:secret"]),
            _ => json!([]),
        };
        op["scopes"] = scopes;
    }
    // What is refused: an undeclared scope, a local scope taking a shared one's name.
    let mut undeclared = body.clone();
    undeclared["operations"][0]["scopes"] = json!(["no:such"]);
    let error = error_body(
        flow.post(flow.publisher("/apis"), undeclared).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["operations[0].scopes[0]"]);
    let mut clash = body.clone();
    clash["scopes"][1]["shared"] = json!(false);
    let error = error_body(
        flow.post(flow.publisher("/apis"), clash).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["scopes[1].scope.name"]);

    let api_id = flow.publish_api(body).await;
    let (app_id, _) = flow.application_with_token("Scoper", Some(&api_id)).await;
    let key = flow.production_key(&app_id).await;
    let scoped = generate_token(
        &flow,
        &app_id,
        &key,
        json!(["menu:read", "order:write", "menu:secret"]),
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
    let bare = generate_token(&flow, &app_id, &key, json!([])).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();

    let menu = node.gateway_http("/scoped/1.0.0/menu");
    eventually(&flow.http, &menu, Some(&token), StatusCode::OK).await;
    let refused = flow
        .http
        .get(&menu)
        .bearer_auth(&bare)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "900910");
    let order = flow
        .http
        .post(node.gateway_http("/scoped/1.0.0/order"))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(order.status().is_success(), "{}", order.status());
    let secret = flow
        .http
        .get(node.gateway_http("/scoped/1.0.0/order/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(secret.status(), StatusCode::FORBIDDEN);

    // Shared scopes: listed with their usage, found by (base64url) name, kept while used.
    let listed = ok_json(get(&flow, "/scopes").await, StatusCode::OK).await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["list"][0]["name"], "menu:read");
    assert_eq!(listed["list"][0]["usageCount"], 1);
    let scope_id = menu_read["id"].as_str().unwrap();
    let usage = ok_json(
        get(&flow, &format!("/scopes/{scope_id}/usage")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(usage["usedApiList"][0]["name"], "Scoped");
    assert_eq!(
        usage["usedApiList"][0]["usedResourceList"],
        json!([{"target": "/menu", "verb": "GET"}])
    );
    let head = |name: &str| {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name);
        flow.http
            .head(flow.publisher(&format!("/scopes/{encoded}")))
            .bearer_auth(&flow.token)
            .send()
    };
    assert_eq!(head("menu:read").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        head("order:write").await.unwrap().status(),
        StatusCode::OK,
        "local scopes count"
    );
    assert_eq!(
        head("menu:none").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let delete = flow
        .http
        .delete(flow.publisher(&format!("/scopes/{scope_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    error_body(delete, StatusCode::CONFLICT).await;
    let updated = ok_json(
        flow.http
            .put(flow.publisher(&format!("/scopes/{scope_id}")))
            .bearer_auth(&flow.token)
            .json(&json!({"name": "menu:read", "displayName": "Read the menu", "bindings": ["admin", "Internal/subscriber"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["displayName"], "Read the menu");

    // Versions share their local scopes (as in WSO2): a new version keeps order:write…
    let v2 = ok_json(
        flow.http
            .post(flow.publisher(&format!("/apis/copy-api?apiId={api_id}&newVersion=2.0.0")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert!(v2["scopes"].to_string().contains("order:write"), "{v2}");
    // …another API cannot take its name…
    let mut other = api("Unscoped", "/unscoped", "1.0.0", &backend.url());
    other["scopes"] = json!([{"scope": {"name": "order:write", "bindings": []}, "shared": false}]);
    let taken = flow.post(flow.publisher("/apis"), other).await;
    assert!(
        taken.status() == StatusCode::CONFLICT || taken.status() == StatusCode::BAD_REQUEST,
        "{}",
        taken.status()
    );
    // …and deleting the new version leaves the scope to the first one.
    let v2_id = v2["id"].as_str().unwrap();
    let deleted = flow
        .http
        .delete(flow.publisher(&format!("/apis/{v2_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(head("order:write").await.unwrap().status(), StatusCode::OK);
    let again = generate_token(&flow, &app_id, &key, json!(["order:write"])).await;
    assert_eq!(again["tokenScopes"], json!(["order:write"]), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_settings_tiers_and_thumbnails() {
    use reqwest::multipart::{Form, Part};
    use reqwest::Method;
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
    let admin = |path: &str| format!("{}/api/am/admin/v4{path}", node.control_plane_http(""));

    // The Admin API lists the configured environment (read-only) and adds one.
    let listed = ok_json(
        flow.http
            .get(admin("/environments"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["list"][0]["name"], "Default");
    assert_eq!(listed["list"][0]["isReadOnly"], true);
    let configured_id = listed["list"][0]["id"].as_str().unwrap().to_string();
    let add = |body: Value| {
        flow.http
            .post(admin("/environments"))
            .bearer_auth(&flow.token)
            .json(&body)
            .send()
    };
    let us = ok_json(
        add(json!({"name": "us-region", "displayName": "US Region", "description": "Gateways in the US",
                   "vhosts": [{"host": "us.example.com", "httpContext": "", "httpPort": 8280, "httpsPort": 8243}]}))
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(us["isReadOnly"], false);
    for (body, field) in [
        (
            json!({"name": "bad name", "vhosts": [{"host": "a.example.com"}]}),
            "name",
        ),
        (json!({"name": "eu", "vhosts": []}), "vhosts"),
        (
            json!({"name": "eu", "vhosts": [{"host": "not a host"}]}),
            "vhosts[0].host",
        ),
    ] {
        let error = error_body(add(body.clone()).await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert_eq!(bad_fields(&error), vec![field.to_string()], "{body}");
    }
    error_body(
        add(json!({"name": "us-region", "vhosts": [{"host": "x.example.com"}]}))
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    let refused = flow
        .http
        .delete(admin(&format!("/environments/{configured_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    error_body(refused, StatusCode::BAD_REQUEST).await;

    // The publisher's settings list both, with their gateway URLs.
    let settings = ok_json(get(&flow, "/settings").await, StatusCode::OK).await;
    let names: Vec<&str> = settings["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Default", "us-region"]);
    assert_eq!(
        settings["environment"][1]["serverUrl"],
        "https://us.example.com:8243/"
    );
    assert!(settings["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "apim:api_create"));
    assert_eq!(settings["monetizationAttributes"], json!([]));

    // An API deployed to Default is not served here; deployed to us-region, it is.
    let created = create(&flow, api("Regional", "/regional", "1.0.0", &backend.url())).await;
    let id = created["id"].as_str().unwrap();
    let revision = ok_json(
        flow.post(flow.publisher(&format!("/apis/{id}/revisions")), json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let revision_id = revision["id"].as_str().unwrap();
    let deploy = |targets: Value| {
        flow.post(
            flow.publisher(&format!(
                "/apis/{id}/deploy-revision?revisionId={revision_id}"
            )),
            targets,
        )
    };
    ok_json(deploy(json!([{"name": "Default"}])).await, StatusCode::OK).await;
    let change = flow
        .http
        .post(flow.publisher(&format!("/apis/change-lifecycle?apiId={id}&action=Publish")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), StatusCode::OK);
    let menu = node.gateway_http("/regional/1.0.0/menu");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let response = flow.http.get(&menu).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "not this gateway's environment"
    );
    let error = error_body(
        deploy(json!([{"name": "mars"}])).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["[0].name"]);
    let error = error_body(
        deploy(json!([{"name": "us-region", "vhost": "eu.example.com"}])).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["[0].vhost"]);
    let deployed = ok_json(
        deploy(json!([{"name": "us-region", "vhost": "us.example.com"}])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deployed[0]["vhost"], "us.example.com");
    let served = eventually(&flow.http, &menu, None, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        served.status(),
        StatusCode::UNAUTHORIZED,
        "served here now (and wants a token)"
    );
    // The gateway (in this process, labelled us-region) reports it applied the deployment; no
    // gateway serves Default here, so that deployment has none.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let deployments = ok_json(
            get(&flow, &format!("/apis/{id}/deployments")).await,
            StatusCode::OK,
        )
        .await;
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
    // An environment with deployments cannot be deleted.
    let us_id = us["id"].as_str().unwrap();
    let refused = flow
        .http
        .delete(admin(&format!("/environments/{us_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    error_body(refused, StatusCode::CONFLICT).await;

    // Tiers, as the publisher's UI lists them.
    let tiers = ok_json(
        get(&flow, "/throttling-policies/subscription").await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = tiers["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Gold") && names.contains(&"Unlimited"),
        "{names:?}"
    );
    let tiers = ok_json(
        get(&flow, "/throttling-policies/api?limit=2").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tiers["count"], 2);
    assert_eq!(tiers["pagination"]["total"], 4);
    let error = error_body(
        get(&flow, "/throttling-policies/galaxy").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["policyLevel"]);

    // Thumbnails: an image in, the same image out; anything else refused.
    let png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
            .to_vec();
    let none = get(&flow, &format!("/apis/{id}/thumbnail")).await;
    error_body(none, StatusCode::NOT_FOUND).await;
    let stored = ok_json(
        multipart(
            &flow,
            Method::PUT,
            &format!("/apis/{id}/thumbnail"),
            Form::new().part("file", Part::bytes(png.clone()).file_name("icon.png")),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["mediaType"], "image/png");
    let image = get(&flow, &format!("/apis/{id}/thumbnail")).await;
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().to_vec(), png);
    let api = ok_json(get(&flow, &format!("/apis/{id}")).await, StatusCode::OK).await;
    assert_eq!(api["hasThumbnail"], true);
    let not_image = multipart(
        &flow,
        Method::PUT,
        &format!("/apis/{id}/thumbnail"),
        Form::new().part(
            "file",
            Part::bytes(b"#!/bin/sh\nrm -rf /".to_vec()).file_name("icon.png"),
        ),
    )
    .await;
    assert_eq!(
        bad_fields(&error_body(not_image, StatusCode::BAD_REQUEST).await),
        vec!["file"]
    );
}

/// A directory as a zip archive, entries named relative to `base`.
fn zip_directory(base: &Path, dir: &Path) -> Vec<u8> {
    use std::io::Write;
    fn walk(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for file in files {
        let name = file
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .to_string();
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&std::fs::read(&file).unwrap()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn zip_entries(bytes: &[u8]) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect()
}

async fn import_zip(flow: &Flow, archive: Vec<u8>, query: &str) -> reqwest::Response {
    use reqwest::multipart::{Form, Part};
    multipart(
        flow,
        reqwest::Method::POST,
        &format!("/apis/import{query}"),
        Form::new().part("file", Part::bytes(archive).file_name("api.zip")),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_import_into_another_installation_and_wso2_exports_import() {
    use reqwest::multipart::{Form, Part};
    use reqwest::Method;
    let backend = MockBackend::start().await;
    let source = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let target = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let scopes = format!("{PROVIDER_SCOPES} apim:api_import_export");
    let from = Flow::login_with_scopes(&source, &scopes).await;
    let to = Flow::login_with_scopes(&target, &scopes).await;

    // An API with everything: documents (text and a file), a thumbnail, a deployed revision.
    let id = from
        .publish_api(api("Travel", "/travel", "2.1.0", &backend.url()))
        .await;
    ok_json(
        from.post(
            from.publisher(&format!("/apis/{id}/documents")),
            json!({"name": "Guide", "type": "HOWTO", "sourceType": "MARKDOWN", "inlineContent": "# Travel"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let file_doc = ok_json(
        from.post(
            from.publisher(&format!("/apis/{id}/documents")),
            json!({"name": "Terms", "type": "OTHER", "otherTypeName": "Legal", "sourceType": "FILE"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let terms = b"%PDF terms and conditions".to_vec();
    multipart(
        &from,
        Method::POST,
        &format!(
            "/apis/{id}/documents/{}/content",
            file_doc["documentId"].as_str().unwrap()
        ),
        Form::new().part(
            "file",
            Part::bytes(terms.clone())
                .file_name("terms.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        ),
    )
    .await;
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    multipart(
        &from,
        Method::PUT,
        &format!("/apis/{id}/thumbnail"),
        Form::new().part("file", Part::bytes(png.clone()).file_name("icon.png")),
    )
    .await;

    let exported = get(&from, "/apis/export?name=Travel&version=2.1.0&format=YAML").await;
    assert_eq!(exported.status(), StatusCode::OK);
    assert_eq!(exported.headers()["content-type"], "application/zip");
    let archive = exported.bytes().await.unwrap().to_vec();
    let mut entries = zip_entries(&archive);
    entries.sort();
    assert_eq!(
        entries,
        [
            "Travel-2.1.0/Definitions/swagger.yaml",
            "Travel-2.1.0/Docs/Guide/Guide",
            "Travel-2.1.0/Docs/Guide/document.yaml",
            "Travel-2.1.0/Docs/Terms/document.yaml",
            "Travel-2.1.0/Docs/Terms/terms.pdf",
            "Travel-2.1.0/Image/icon.png",
            "Travel-2.1.0/api.yaml",
            "Travel-2.1.0/deployment_environments.yaml",
        ]
    );

    // Into the other installation: the same API, published, deployed and served there.
    let imported = import_zip(&to, archive.clone(), "").await;
    assert_eq!(
        imported.status(),
        StatusCode::OK,
        "{}",
        imported.text().await.unwrap()
    );
    let listed = ok_json(get(&to, "/apis?query=name:Travel").await, StatusCode::OK).await;
    assert_eq!(listed["count"], 1);
    let copy_id = listed["list"][0]["id"].as_str().unwrap().to_string();
    let copy = ok_json(get(&to, &format!("/apis/{copy_id}")).await, StatusCode::OK).await;
    assert_eq!(copy["lifeCycleStatus"], "PUBLISHED");
    assert_eq!(copy["hasThumbnail"], true);
    assert_eq!(copy["operations"].as_array().unwrap().len(), 6);
    let docs = ok_json(
        get(&to, &format!("/apis/{copy_id}/documents")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(docs["count"], 2);
    let terms_copy = docs["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Terms")
        .unwrap();
    let download = get(
        &to,
        &format!(
            "/apis/{copy_id}/documents/{}/content",
            terms_copy["documentId"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(download.bytes().await.unwrap().to_vec(), terms);
    let deployments = ok_json(
        get(&to, &format!("/apis/{copy_id}/deployments")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deployments["list"][0]["name"], "Default");
    eventually(
        &to.http,
        &target.gateway_http("/travel/2.1.0/menu"),
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Again: a conflict, unless overwriting; overwriting makes a new revision.
    error_body(
        import_zip(&to, archive.clone(), "").await,
        StatusCode::CONFLICT,
    )
    .await;
    let again = import_zip(&to, archive.clone(), "?overwrite=true").await;
    assert_eq!(again.status(), StatusCode::OK);
    let revisions = ok_json(
        get(&to, &format!("/apis/{copy_id}/revisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revisions["count"], 2);

    // A project exported by WSO2 4.2 (its layout, with apictl's api_meta.yaml).
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wso2-4.2-export");
    let wso2 = zip_directory(&fixtures, &fixtures.join("PizzaShackAPI-1.0.0"));
    let imported = import_zip(&to, wso2, "?preserveProvider=true").await;
    assert_eq!(
        imported.status(),
        StatusCode::OK,
        "{}",
        imported.text().await.unwrap()
    );
    let listed = ok_json(
        get(&to, "/apis?query=name:PizzaShackAPI").await,
        StatusCode::OK,
    )
    .await;
    let pizza_id = listed["list"][0]["id"].as_str().unwrap().to_string();
    let pizza = ok_json(get(&to, &format!("/apis/{pizza_id}")).await, StatusCode::OK).await;
    assert_eq!(pizza["lifeCycleStatus"], "PUBLISHED");
    assert_eq!(pizza["operations"].as_array().unwrap().len(), 5);
    assert_eq!(pizza["businessInformation"]["businessOwner"], "Jane Roe");
    assert_eq!(
        pizza["gatewayType"], "wso2/synapse",
        "unknown fields are kept"
    );
    let swagger = ok_json(
        get(&to, &format!("/apis/{pizza_id}/swagger")).await,
        StatusCode::OK,
    )
    .await;
    assert!(swagger["components"]["schemas"]["Order"].is_object());
    let docs = ok_json(
        get(&to, &format!("/apis/{pizza_id}/documents")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(docs["list"][0]["name"], "PizzaShack Guide");
    let guide = get(
        &to,
        &format!(
            "/apis/{pizza_id}/documents/{}/content",
            docs["list"][0]["documentId"].as_str().unwrap()
        ),
    )
    .await;
    assert!(guide.text().await.unwrap().starts_with("# Ordering"));

    // What is refused: not a zip, a zip with no api.yaml, a path climbing out.
    let error = error_body(
        import_zip(&to, b"not a zip".to_vec(), "").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["file"]);
    let empty = {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer
            .start_file("x/readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"hello").unwrap();
        writer.finish().unwrap().into_inner()
    };
    error_body(import_zip(&to, empty, "").await, StatusCode::BAD_REQUEST).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_roles_resources_and_key_managers() {
    use base64::Engine;
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(&node, PROVIDER_SCOPES).await;
    let probe = |url: String| {
        flow.http
            .post(flow.publisher(&format!(
                "/apis/validate-endpoint?endpointUrl={}",
                urlencode(&url)
            )))
            .bearer_auth(&flow.token)
            .send()
    };
    let reachable = ok_json(
        probe(format!("{}/order/1", backend.url())).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(reachable["statusCode"], 200);
    assert!(reachable.get("error").is_none());
    let unreachable = ok_json(
        probe("http://127.0.0.1:9/".into()).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(unreachable["statusCode"], 404);
    assert!(unreachable["error"].is_string());
    let error = error_body(
        probe("ftp://example.com".into()).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_fields(&error), vec!["endpointUrl"]);

    let mut body = api("Paths", "/paths", "1.0.0", &backend.url());
    body["policies"] = json!(["Gold", "Unlimited"]);
    let created = create(&flow, body).await;
    let id = created["id"].as_str().unwrap();
    let paths = ok_json(
        get(
            &flow,
            &format!("/apis/{id}/resource-paths?limit=2&offset=1"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(paths["count"], 2);
    assert_eq!(paths["pagination"]["total"], 6);
    assert_eq!(paths["list"][0]["id"], 2);
    let tiers = ok_json(
        get(&flow, &format!("/apis/{id}/subscription-policies")).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = tiers
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Gold", "Unlimited"]);
    let managers = ok_json(get(&flow, "/key-managers").await, StatusCode::OK).await;
    assert_eq!(managers["list"][0]["name"], "Resident Key Manager");

    let head = |path: String| {
        flow.http
            .head(flow.publisher(&path))
            .bearer_auth(&flow.token)
            .send()
    };
    let encode = |role: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(role);
    assert_eq!(
        head(format!("/roles/{}", encode("Internal/subscriber")))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        head(format!("/roles/{}", encode("Internal/astronaut")))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        head(format!("/me/roles/{}", encode("admin")))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        head(format!("/me/roles/{}", encode("Internal/creator")))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}
