//! APIs through the Publisher API: what bad input is told (every field named, WSO2's body,
//! malformed JSON, duplicates, unknown ids) and that nothing is half written; listing and
//! searching in WSO2's terms; concurrent writes that never lose one silently.

use std::sync::Arc;

use serde_json::{json, Value};
use tollgate_testbed::TestBed;

use super::{
    application, create_api, devportal, named_api, pizzashack, publish_api, publisher, urlencode,
    NOWHERE,
};

fn description(v: &Value) -> String {
    v["description"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn bad_input_is_refused_cleanly_and_nothing_is_half_written() {
    let bed = TestBed::sqlite().await;
    let api_id = publish_api(&bed, &pizzashack(NOWHERE)).await;
    let post = |path: String, body: Value| {
        let bed = &bed;
        async move { bed.post(&path).as_user("admin").json(&body).send().await }
    };
    let post_raw = |path: String, body: &'static str| {
        let bed = &bed;
        async move {
            bed.post(&path)
                .as_user("admin")
                .body("application/json", body)
                .send()
                .await
        }
    };

    // Malformed JSON, missing fields, wrong types, bad values.
    let malformed = post_raw(publisher("/apis"), "{\"name\": ")
        .await
        .refused(400);
    assert!(
        description(&malformed).contains("Malformed JSON"),
        "{malformed}"
    );
    let missing = post(publisher("/apis"), json!({"name": "A", "context": "/a"}))
        .await
        .refused(400);
    assert!(description(&missing).contains("version"), "{missing}");
    let wrong_type = post(
        publisher("/apis"),
        json!({"name": "A", "context": "/a", "version": 1}),
    )
    .await
    .refused(400);
    assert!(description(&wrong_type).contains("version"), "{wrong_type}");
    let bad_verb = post(publisher("/apis"), json!({"name": "A", "context": "/a", "version": "1", "operations": [{"target": "/x", "verb": "FETCH"}]}))
        .await
        .refused(400);
    assert!(
        description(&bad_verb).contains("operations[0].verb"),
        "{bad_verb}"
    );
    let bad_endpoint = post(publisher("/apis"), json!({"name": "A", "context": "/a", "version": "1", "endpointConfig": {"production_endpoints": {"url": "ftp://x"}}}))
        .await
        .refused(400);
    assert!(
        description(&bad_endpoint).contains("endpointConfig.production_endpoints.url"),
        "{bad_endpoint}"
    );
    let bad_tier = post(
        publisher("/apis"),
        json!({"name": "A", "context": "/a", "version": "1", "policies": ["Platinum"]}),
    )
    .await
    .refused(400);
    assert!(description(&bad_tier).contains("Platinum"), "{bad_tier}");
    post_raw(publisher("/apis"), "[1,2]").await.refused(400);
    post_raw(publisher("/apis"), "").await.refused(400);

    // Duplicates: same context and version, or same name and version.
    post(publisher("/apis"), pizzashack(NOWHERE))
        .await
        .refused(409);
    let mut same_context = pizzashack(NOWHERE);
    same_context["name"] = json!("OtherName");
    post(publisher("/apis"), same_context).await.refused(409);

    // Unknown ids and actions.
    bed.get(&publisher("/apis/no-such-id"))
        .as_user("admin")
        .send()
        .await
        .refused(404);
    post(publisher("/apis/no-such-id/revisions"), json!({}))
        .await
        .refused(404);
    post(
        publisher(&format!(
            "/apis/{api_id}/deploy-revision?revisionId=no-such-revision"
        )),
        json!([{"name": "Default"}]),
    )
    .await
    .refused(404);
    let revision = post(publisher(&format!("/apis/{api_id}/revisions")), json!({}))
        .await
        .expect(201);
    let unknown_env = post(
        publisher(&format!(
            "/apis/{api_id}/deploy-revision?revisionId={}",
            revision["id"].as_str().unwrap()
        )),
        json!([{"name": "Mars"}]),
    )
    .await
    .refused(400);
    assert!(description(&unknown_env).contains("Mars"), "{unknown_env}");
    let bad_action = bed
        .post(&publisher(&format!(
            "/apis/change-lifecycle?apiId={api_id}&action=Explode"
        )))
        .as_user("admin")
        .send()
        .await
        .refused(400);
    assert!(description(&bad_action).contains("Explode"), "{bad_action}");
    bed.post(&publisher(
        "/apis/change-lifecycle?apiId=no-such-id&action=Publish",
    ))
    .as_user("admin")
    .send()
    .await
    .refused(404);

    // Developer portal: unknown application, unknown tier, duplicate application and subscription.
    post(
        devportal("/subscriptions"),
        json!({"applicationId": "nope", "apiId": api_id, "throttlingPolicy": "Unlimited"}),
    )
    .await
    .refused(404);
    let app = post(
        devportal("/applications"),
        json!({"name": "App1", "throttlingPolicy": "Unlimited"}),
    )
    .await
    .expect(201);
    let app_id = app["applicationId"].as_str().unwrap();
    post(
        devportal("/applications"),
        json!({"name": "App1", "throttlingPolicy": "Unlimited"}),
    )
    .await
    .refused(409);
    post(
        devportal("/applications"),
        json!({"name": "App2", "throttlingPolicy": "NoSuchTier"}),
    )
    .await
    .refused(400);
    post(devportal("/applications"), json!({"name": "App2"}))
        .await
        .refused(400);
    let gold = post(
        devportal("/subscriptions"),
        json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Gold"}),
    )
    .await
    .refused(400);
    assert!(description(&gold).contains("Gold"), "{gold}");
    post(
        devportal("/subscriptions"),
        json!({"applicationId": app_id, "apiId": "nope", "throttlingPolicy": "Unlimited"}),
    )
    .await
    .refused(404);
    let subscription =
        json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Unlimited"});
    post(devportal("/subscriptions"), subscription.clone())
        .await
        .expect(201);
    post(devportal("/subscriptions"), subscription)
        .await
        .refused(409);
    post(
        devportal(&format!("/applications/{app_id}/generate-keys")),
        json!({"keyType": "STAGING", "grantTypesToBeSupported": ["client_credentials"]}),
    )
    .await
    .refused(400);
    post(
        devportal(&format!(
            "/applications/{app_id}/oauth-keys/nope/generate-token"
        )),
        json!({}),
    )
    .await
    .refused(404);

    // Nothing was written by the refused requests.
    let count = |path: String| {
        let bed = &bed;
        async move { bed.get(&path).as_user("admin").send().await.expect(200)["count"].clone() }
    };
    assert_eq!(count(publisher("/apis")).await, 1);
    assert_eq!(count(devportal("/applications")).await, 1);
    assert_eq!(
        count(devportal(&format!("/subscriptions?applicationId={app_id}"))).await,
        1
    );
}

#[tokio::test]
async fn dot_segments_are_refused_in_contexts_and_resources() {
    let bed = TestBed::sqlite().await;
    for (context, target, field) in [
        ("/a/../b", "/x", "context"),
        ("/a/./b", "/x", "context"),
        ("/shop", "/public/../admin", "operations[0].target"),
        ("/shop", "/./x", "operations[0].target"),
        ("/shop", "/%2e%2e/x", "operations[0].target"),
        ("/shop", "/a\\b", "operations[0].target"),
    ] {
        let refused = bed
            .post(&publisher("/apis"))
            .as_user("admin")
            .json(
                &json!({"name": "Dots", "context": context, "version": "1.0.0",
                   "operations": [{"target": target, "verb": "GET"}]}),
            )
            .send()
            .await
            .refused(400);
        assert!(
            description(&refused).contains(field),
            "{context} {target}: {refused}"
        );
    }
}

#[tokio::test]
async fn listing_searches_and_pages_in_wso2s_terms() {
    let bed = TestBed::sqlite().await;
    let mut weather = named_api("WeatherAPI", "/weather", "1.0.0", NOWHERE);
    weather["tags"] = json!(["climate", "public-data"]);
    weather["description"] = json!("Forecasts by the hour");
    create_api(&bed, &weather).await;
    create_api(
        &bed,
        &named_api("PizzaShackAPI", "/pizzashack", "1.0.0", NOWHERE),
    )
    .await;
    create_api(
        &bed,
        &named_api("PizzaShackAPI", "/pizzashack", "2.0.0", NOWHERE),
    )
    .await;
    let get = |path: String| {
        let bed = &bed;
        async move { bed.get(&publisher(&path)).as_user("admin").send().await }
    };

    // WSO2's own example, as its clients send it (numbers as text, an empty query).
    let listed = get("/apis?limit=25&offset=0&sortBy=apiName&sortOrder=asc&query=".into())
        .await
        .expect(200);
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
        let listed = get(format!("/apis?query={}", urlencode(query)))
            .await
            .expect(200);
        assert_eq!(listed["count"], expected, "query {query}: {listed}");
        assert_eq!(listed["pagination"]["total"], expected, "query {query}");
    }
    // Paging happens after filtering.
    let page = get("/apis?query=pizza&limit=1&offset=1&sortBy=version&sortOrder=desc".into())
        .await
        .expect(200);
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
        let reply = get(path.into()).await;
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert_eq!(reply.bad_fields(), vec![field.to_string()], "{path}");
    }

    // Does a name or a context exist?
    for (query, status) in [
        ("name:WeatherAPI", 200),
        ("name:weatherapi", 200),
        ("name:Weather", 404),
        ("context:/pizzashack", 200),
        ("context:pizzashack", 200),
        ("context:/nothing", 404),
    ] {
        let reply = bed
            .post(&publisher(&format!(
                "/apis/validate?query={}",
                urlencode(query)
            )))
            .as_user("admin")
            .send()
            .await;
        assert_eq!(reply.status, status, "validate {query}");
    }
}

#[tokio::test]
async fn every_rest_error_is_in_wso2s_body_and_paging_works() {
    let bed = TestBed::sqlite().await;
    for i in 0..3 {
        create_api(
            &bed,
            &named_api(
                &format!("Paged{i}"),
                &format!("/paged{i}"),
                "1.0.0",
                NOWHERE,
            ),
        )
        .await;
    }
    let get = |path: String| {
        let bed = &bed;
        async move { bed.get(&path).as_user("admin").send().await }
    };
    // Paging as WSO2's own clients send it.
    let page = get(publisher("/apis?limit=2&offset=0")).await.expect(200);
    assert_eq!(page["count"], 2);
    assert_eq!(page["pagination"]["total"], 3);
    assert_eq!(page["pagination"]["limit"], 2);
    let rest = get(publisher("/apis?limit=2&offset=2")).await.expect(200);
    assert_eq!(rest["count"], 1);
    let bad = get(publisher("/apis?limit=two")).await.refused(400);
    assert!(description(&bad).contains("'limit'"), "{bad}");
    let bad = get(devportal("/apis?offset=-1")).await.refused(400);
    assert!(description(&bad).contains("offset"), "{bad}");

    // What the web framework itself refuses, in WSO2's body too.
    bed.patch(&publisher("/apis"))
        .as_user("admin")
        .send()
        .await
        .refused(405);
    get("/api/am/publisher/v4/nothing".into())
        .await
        .refused(404);
    let form = bed
        .post("/oauth2/token")
        .body("application/json", "{}")
        .send()
        .await;
    assert!(form.status.is_client_error());
    assert!(
        form.json().get("error").is_some(),
        "OAuth2 errors keep OAuth2's body: {}",
        form.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_every_field_and_changes_nothing() {
    let bed = TestBed::sqlite().await;
    let mut body = named_api("Bad", "/bad", "1.0.0", NOWHERE);
    body["maxTps"] = json!({"production": -5});
    body["description"] = json!("d".repeat(40_000));
    body["gatewayVendor"] = json!("acme");
    body["visibility"] = json!("SECRET");
    body["policies"] = json!(["Gold", "Platinum"]);
    body["operations"][0]["verb"] = json!("FETCH");
    body["endpointConfig"]["production_endpoints"] = json!({"url": "ftp://example.com"});
    let post = |body: &Value| {
        let (bed, body) = (&bed, body.clone());
        async move {
            bed.post(&publisher("/apis"))
                .as_user("admin")
                .json(&body)
                .send()
                .await
        }
    };
    // Enum errors are found while reading the body; they come first, one at a time.
    let fields = post(&body).await.bad_fields();
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert!(
        ["gatewayVendor", "visibility", "operations[0].verb"].contains(&fields[0].as_str()),
        "{fields:?}"
    );
    body["gatewayVendor"] = json!("wso2");
    body["visibility"] = json!("PUBLIC");
    body["operations"][0]["verb"] = json!("GET");
    // The rest are all reported at once.
    let fields = post(&body).await.bad_fields();
    for expected in [
        "maxTps.production",
        "description",
        "endpointConfig.production_endpoints.url",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected}: {fields:?}"
        );
    }
    body["maxTps"] = json!({"production": 5});
    body["description"] = json!("fine");
    body["endpointConfig"]["production_endpoints"] = json!({"url": NOWHERE});
    assert_eq!(
        post(&body).await.bad_fields(),
        vec!["policies[1]".to_string()]
    );
    // Nothing was stored by any of it.
    let listed = bed
        .get(&publisher("/apis"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(listed["count"], 0);

    // Twenty concurrent creates of one context and version: exactly one succeeds.
    let bed = Arc::new(bed);
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..20 {
        let bed = bed.clone();
        let mut body = named_api(&format!("Race{i}"), "/race", "1.0.0", NOWHERE);
        body["tags"] = json!([format!("t{i}")]);
        tries.spawn(async move {
            bed.post(&publisher("/apis"))
                .as_user("admin")
                .json(&body)
                .send()
                .await
                .status
                .as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tries.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let listed = bed
        .get(&publisher("/apis?query=context:/race"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(listed["count"], 1);
}

#[tokio::test]
async fn updates_never_lose_a_write_silently() {
    let bed = TestBed::sqlite().await;
    let created = create_api(&bed, &named_api("Etag", "/etag", "1.0.0", NOWHERE)).await;
    let id = created["id"].as_str().unwrap();
    let path = publisher(&format!("/apis/{id}"));
    let reply = bed.get(&path).as_user("admin").send().await;
    let etag = reply.header("etag").unwrap().to_string();
    let current = reply.expect(200);

    // Two clients edit the copy they both read; the second is told, not overwritten.
    let put = |description: &'static str| {
        let mut body = current.clone();
        body["description"] = json!(description);
        let (bed, path, etag) = (&bed, path.clone(), etag.clone());
        async move {
            bed.put(&path)
                .as_user("admin")
                .header("If-Match", &etag)
                .json(&body)
                .send()
                .await
                .status
                .as_u16()
        }
    };
    let (first, second) = tokio::join!(put("first"), put("second"));
    let mut statuses = [first, second];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let after = bed.get(&path).as_user("admin").send().await.expect(200);
    assert!(["first", "second"].contains(&after["description"].as_str().unwrap()));

    // Identity fields cannot change; the error names them.
    let mut renamed = after.clone();
    renamed["name"] = json!("Other");
    renamed["version"] = json!("9.9.9");
    let fields = bed
        .put(&path)
        .as_user("admin")
        .json(&renamed)
        .send()
        .await
        .bad_fields();
    assert_eq!(fields, vec!["name", "version"]);
}

#[tokio::test]
async fn the_rest_apis_want_credentials_with_their_scope() {
    let bed = TestBed::sqlite().await;
    // No credentials, or wrong ones: 401; the admin's Basic credentials: 200.
    bed.get(&publisher("/apis")).send().await.refused(401);
    bed.get(&publisher("/apis"))
        .basic_auth("admin", "wrong")
        .send()
        .await
        .refused(401);
    assert_eq!(
        bed.get(&publisher("/apis"))
            .as_user("admin")
            .send()
            .await
            .status,
        200
    );
    // An application's token is no token for the REST APIs.
    let app_id = application(&bed, "admin", "App").await;
    let keys = bed
        .post(&devportal(&format!("/applications/{app_id}/generate-keys")))
        .as_user("admin")
        .json(&json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]}))
        .send()
        .await
        .expect(200);
    let token = bed
        .post(&devportal(&format!(
            "/applications/{app_id}/oauth-keys/{}/generate-token",
            keys["keyMappingId"].as_str().unwrap()
        )))
        .as_user("admin")
        .json(&json!({"consumerSecret": keys["consumerSecret"], "validityPeriod": 3600, "scopes": []}))
        .send()
        .await
        .expect(200)["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    bed.post(&publisher("/apis"))
        .bearer(&token)
        .json(&pizzashack(NOWHERE))
        .send()
        .await
        .refused(403);
}
