//! Scopes through the Publisher API: shared scopes made, refused and listed with their usage,
//! found by their base64url name, kept while used; an API's own scopes shared by its versions;
//! the scopes an application's token is granted. (That gateways check them is the
//! end-to-end suite's.)

use serde_json::{json, Value};
use tollgate_testbed::archives::base64url;
use tollgate_testbed::TestBed;

use super::{application, devportal, named_api, publish_api, publisher, subscribe, NOWHERE};

async fn generate_token(bed: &TestBed, app_id: &str, key: &Value, scopes: Value) -> Value {
    let mapping = key["keyMappingId"].as_str().unwrap();
    bed.post(&devportal(&format!(
        "/applications/{app_id}/oauth-keys/{mapping}/generate-token"
    )))
    .as_user("admin")
    .json(
        &json!({"consumerSecret": key["consumerSecret"], "validityPeriod": 3600, "scopes": scopes}),
    )
    .send()
    .await
    .expect(200)
}

#[tokio::test]
async fn scopes_bind_roles_and_are_shared_in_wso2s_terms() {
    let bed = TestBed::sqlite().await;
    let post = |path: String, body: Value| {
        let bed = &bed;
        async move { bed.post(&path).as_user("admin").json(&body).send().await }
    };
    // Shared scopes: one the admin role holds, one nobody does.
    let shared = |name: &str, role: &str| {
        post(
            publisher("/scopes"),
            json!({"name": name, "displayName": name, "description": "shared", "bindings": [role]}),
        )
    };
    let menu_read = shared("menu:read", "admin").await.expect(201);
    shared("menu:secret", "Internal/nobody").await.expect(201);
    shared("menu:read", "admin").await.refused(409);
    let fields = post(publisher("/scopes"), json!({"name": "", "bindings": []}))
        .await
        .bad_fields();
    assert_eq!(fields, vec!["name"]);

    let mut body = named_api("Scoped", "/scoped", "1.0.0", NOWHERE);
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
    // What is refused: an undeclared scope, a local scope taking a shared one's name.
    let mut undeclared = body.clone();
    undeclared["operations"][0]["scopes"] = json!(["no:such"]);
    assert_eq!(
        post(publisher("/apis"), undeclared).await.bad_fields(),
        vec!["operations[0].scopes[0]"]
    );
    let mut clash = body.clone();
    clash["scopes"][1]["shared"] = json!(false);
    assert_eq!(
        post(publisher("/apis"), clash).await.bad_fields(),
        vec!["scopes[1].scope.name"]
    );

    let api_id = publish_api(&bed, &body).await;
    let app_id = application(&bed, "admin", "Scoper").await;
    subscribe(&bed, "admin", &app_id, &api_id, "Unlimited").await;
    let key = post(
        devportal(&format!("/applications/{app_id}/generate-keys")),
        json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]}),
    )
    .await
    .expect(200);
    let scoped = generate_token(
        &bed,
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

    // Shared scopes: listed with their usage, found by (base64url) name, kept while used.
    let listed = bed
        .get(&publisher("/scopes"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["list"][0]["name"], "menu:read");
    assert_eq!(listed["list"][0]["usageCount"], 1);
    let scope_id = menu_read["id"].as_str().unwrap();
    let usage = bed
        .get(&publisher(&format!("/scopes/{scope_id}/usage")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(usage["usedApiList"][0]["name"], "Scoped");
    assert_eq!(
        usage["usedApiList"][0]["usedResourceList"],
        json!([{"target": "/menu", "verb": "GET"}])
    );
    let head = |name: &str| {
        let (bed, path) = (&bed, publisher(&format!("/scopes/{}", base64url(name))));
        async move { bed.head(&path).as_user("admin").send().await.status }
    };
    assert_eq!(head("menu:read").await, 200);
    assert_eq!(head("order:write").await, 200, "local scopes count");
    assert_eq!(head("menu:none").await, 404);
    bed.delete(&publisher(&format!("/scopes/{scope_id}")))
        .as_user("admin")
        .send()
        .await
        .refused(409);
    let updated = bed
        .put(&publisher(&format!("/scopes/{scope_id}")))
        .as_user("admin")
        .json(&json!({"name": "menu:read", "displayName": "Read the menu", "bindings": ["admin", "Internal/subscriber"]}))
        .send()
        .await
        .expect(200);
    assert_eq!(updated["displayName"], "Read the menu");

    // Versions share their local scopes (as in WSO2): a new version keeps order:write…
    let v2 = bed
        .post(&publisher(&format!(
            "/apis/copy-api?apiId={api_id}&newVersion=2.0.0"
        )))
        .as_user("admin")
        .send()
        .await
        .expect(201);
    assert!(v2["scopes"].to_string().contains("order:write"), "{v2}");
    // …another API cannot take its name…
    let mut other = named_api("Unscoped", "/unscoped", "1.0.0", NOWHERE);
    other["scopes"] = json!([{"scope": {"name": "order:write", "bindings": []}, "shared": false}]);
    let taken = post(publisher("/apis"), other).await;
    assert!(
        taken.status == 409 || taken.status == 400,
        "{}",
        taken.status
    );
    // …and deleting the new version leaves the scope to the first one.
    let deleted = bed
        .delete(&publisher(&format!("/apis/{}", v2["id"].as_str().unwrap())))
        .as_user("admin")
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(head("order:write").await, 200);
    let again = generate_token(&bed, &app_id, &key, json!(["order:write"])).await;
    assert_eq!(again["tokenScopes"], json!(["order:write"]), "{again}");
}
