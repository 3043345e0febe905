//! What the publisher's UI reads and checks through the Publisher and Admin APIs: gateway
//! environments (configured ones read-only, added ones named and checked), settings, tiers,
//! thumbnails, endpoint probes, resource paths, roles, key managers. (Which gateways serve an
//! environment is the end-to-end suite's.)

use serde_json::{json, Value};
use tollgate_testbed::archives::base64url;
use tollgate_testbed::testkit::MockBackend;
use tollgate_testbed::{Part, TestBed};

use super::{admin, create_api, named_api, publisher, urlencode, NOWHERE};

#[tokio::test]
async fn environments_settings_tiers_and_thumbnails() {
    let bed = TestBed::sqlite().await;
    let get = |path: String| {
        let bed = &bed;
        async move { bed.get(&path).as_user("admin").send().await }
    };

    // The Admin API lists the configured environment (read-only) and adds one.
    let listed = get(admin("/environments")).await.expect(200);
    assert_eq!(listed["list"][0]["name"], "Default");
    assert_eq!(listed["list"][0]["isReadOnly"], true);
    let configured_id = listed["list"][0]["id"].as_str().unwrap().to_string();
    let add = |body: Value| {
        let bed = &bed;
        async move {
            bed.post(&admin("/environments"))
                .as_user("admin")
                .json(&body)
                .send()
                .await
        }
    };
    let us = add(json!({"name": "us-region", "displayName": "US Region", "description": "Gateways in the US",
               "vhosts": [{"host": "us.example.com", "httpContext": "", "httpPort": 8280, "httpsPort": 8243}]}))
        .await
        .expect(201);
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
        assert_eq!(
            add(body.clone()).await.bad_fields(),
            vec![field.to_string()],
            "{body}"
        );
    }
    add(json!({"name": "us-region", "vhosts": [{"host": "x.example.com"}]}))
        .await
        .refused(409);
    bed.delete(&admin(&format!("/environments/{configured_id}")))
        .as_user("admin")
        .send()
        .await
        .refused(400);

    // The publisher's settings list both, with their gateway URLs.
    let settings = get(publisher("/settings")).await.expect(200);
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

    // Deployments name their environment and vhost; one with deployments stays.
    let created = create_api(&bed, &named_api("Regional", "/regional", "1.0.0", NOWHERE)).await;
    let id = created["id"].as_str().unwrap();
    let revision = bed
        .post(&publisher(&format!("/apis/{id}/revisions")))
        .as_user("admin")
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let revision_id = revision["id"].as_str().unwrap();
    let deploy = |targets: Value| {
        let bed = &bed;
        let path = publisher(&format!(
            "/apis/{id}/deploy-revision?revisionId={revision_id}"
        ));
        async move { bed.post(&path).as_user("admin").json(&targets).send().await }
    };
    deploy(json!([{"name": "Default"}])).await.expect(200);
    assert_eq!(
        deploy(json!([{"name": "mars"}])).await.bad_fields(),
        vec!["[0].name"]
    );
    assert_eq!(
        deploy(json!([{"name": "us-region", "vhost": "eu.example.com"}]))
            .await
            .bad_fields(),
        vec!["[0].vhost"]
    );
    let deployed = deploy(json!([{"name": "us-region", "vhost": "us.example.com"}]))
        .await
        .expect(200);
    assert_eq!(deployed[0]["vhost"], "us.example.com");
    let us_id = us["id"].as_str().unwrap();
    bed.delete(&admin(&format!("/environments/{us_id}")))
        .as_user("admin")
        .send()
        .await
        .refused(409);

    // Tiers, as the publisher's UI lists them.
    let tiers = get(publisher("/throttling-policies/subscription"))
        .await
        .expect(200);
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
    let tiers = get(publisher("/throttling-policies/api?limit=2"))
        .await
        .expect(200);
    assert_eq!(tiers["count"], 2);
    assert_eq!(tiers["pagination"]["total"], 4);
    assert_eq!(
        get(publisher("/throttling-policies/galaxy"))
            .await
            .bad_fields(),
        vec!["policyLevel"]
    );

    // Thumbnails: an image in, the same image out; anything else refused.
    let png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
            .to_vec();
    let thumbnail = publisher(&format!("/apis/{id}/thumbnail"));
    get(thumbnail.clone()).await.refused(404);
    let stored = bed
        .put(&thumbnail)
        .as_user("admin")
        .multipart(&[Part::file("file", "icon.png", png.clone())])
        .send()
        .await
        .expect(200);
    assert_eq!(stored["mediaType"], "image/png");
    let image = get(thumbnail.clone()).await;
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert_eq!(image.body.to_vec(), png);
    let api = get(publisher(&format!("/apis/{id}"))).await.expect(200);
    assert_eq!(api["hasThumbnail"], true);
    let not_image = bed
        .put(&thumbnail)
        .as_user("admin")
        .multipart(&[Part::file(
            "file",
            "icon.png",
            b"#!/bin/sh\nrm -rf /".to_vec(),
        )])
        .send()
        .await;
    assert_eq!(not_image.bad_fields(), vec!["file"]);
}

#[tokio::test]
async fn endpoints_roles_resources_and_key_managers() {
    let bed = TestBed::sqlite().await;
    let backend = MockBackend::start().await;
    let probe = |url: String| {
        let bed = &bed;
        async move {
            bed.post(&publisher(&format!(
                "/apis/validate-endpoint?endpointUrl={}",
                urlencode(&url)
            )))
            .as_user("admin")
            .send()
            .await
        }
    };
    let reachable = probe(format!("{}/order/1", backend.url()))
        .await
        .expect(200);
    assert_eq!(reachable["statusCode"], 200);
    assert!(reachable.get("error").is_none());
    let unreachable = probe("http://127.0.0.1:9/".into()).await.expect(200);
    assert_eq!(unreachable["statusCode"], 404);
    assert!(unreachable["error"].is_string());
    assert_eq!(
        probe("ftp://example.com".into()).await.bad_fields(),
        vec!["endpointUrl"]
    );

    let mut body = named_api("Paths", "/paths", "1.0.0", &backend.url());
    body["policies"] = json!(["Gold", "Unlimited"]);
    let created = create_api(&bed, &body).await;
    let id = created["id"].as_str().unwrap();
    let get = |path: String| {
        let bed = &bed;
        async move { bed.get(&publisher(&path)).as_user("admin").send().await }
    };
    let paths = get(format!("/apis/{id}/resource-paths?limit=2&offset=1"))
        .await
        .expect(200);
    assert_eq!(paths["count"], 2);
    assert_eq!(paths["pagination"]["total"], 6);
    assert_eq!(paths["list"][0]["id"], 2);
    let tiers = get(format!("/apis/{id}/subscription-policies"))
        .await
        .expect(200);
    let names: Vec<&str> = tiers
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Gold", "Unlimited"]);
    let managers = get("/key-managers".into()).await.expect(200);
    assert_eq!(managers["list"][0]["name"], "Resident Key Manager");

    let head = |path: String| {
        let bed = &bed;
        async move {
            bed.head(&publisher(&path))
                .as_user("admin")
                .send()
                .await
                .status
        }
    };
    assert_eq!(
        head(format!("/roles/{}", base64url("Internal/subscriber"))).await,
        200
    );
    assert_eq!(
        head(format!("/roles/{}", base64url("Internal/astronaut"))).await,
        404
    );
    assert_eq!(head(format!("/me/roles/{}", base64url("admin"))).await, 200);
    assert_eq!(
        head(format!("/me/roles/{}", base64url("Internal/creator"))).await,
        404
    );
}
