//! The lifecycle, revisions, copies and deletion through the Publisher API, in WSO2's terms:
//! the state and the transitions it allows, the revision limit, restoring, a new version
//! deprecating the old one, the history, and what a provider sees of subscriptions. (What
//! gateways do at each step is the end-to-end suite's.)

use serde_json::{json, Value};
use tollgate_testbed::TestBed;

use super::{
    application, create_api, deploy, devportal, named_api, publish_api, publisher, subscribe,
    urlencode, NOWHERE,
};

async fn get(bed: &TestBed, path: &str) -> tollgate_testbed::Reply {
    bed.get(&publisher(path)).as_user("admin").send().await
}

async fn change(bed: &TestBed, api: &str, action: &str) -> tollgate_testbed::Reply {
    bed.post(&publisher(&format!(
        "/apis/change-lifecycle?apiId={api}&action={}",
        urlencode(action)
    )))
    .as_user("admin")
    .send()
    .await
}

fn description(v: &Value) -> &str {
    v["description"].as_str().unwrap_or("")
}

#[tokio::test]
async fn lifecycle_revisions_copies_and_deletion_in_wso2s_terms() {
    let bed = TestBed::sqlite().await;
    let v1 = publish_api(&bed, &named_api("Shop", "/shop", "1.0.0", NOWHERE)).await;
    let app_id = application(&bed, "admin", "ShopApp").await;
    subscribe(&bed, "admin", &app_id, &v1, "Unlimited").await;

    // The lifecycle: state, history, and an action not allowed from here.
    let state = get(&bed, &format!("/apis/{v1}/lifecycle-state"))
        .await
        .expect(200);
    assert_eq!(state["state"], "Published");
    let events: Vec<_> = state["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["Block", "Deprecate", "Demote to Created"]);
    let error = change(&bed, &v1, "Retire").await.refused(400);
    assert!(
        description(&error).contains("allowed: Block, Deprecate, Demote to Created"),
        "{error}"
    );
    assert_eq!(
        change(&bed, &v1, "Explode").await.bad_fields(),
        vec!["action"]
    );
    change(&bed, &v1, "Block").await.expect(200);
    change(&bed, &v1, "Re-Publish").await.expect(200);

    // Editing the working copy; at most five revisions; a deployed one cannot be deleted;
    // restore brings a copy back.
    let mut edited = get(&bed, &format!("/apis/{v1}")).await.expect(200);
    edited["operations"] = json!([{"target": "/order", "verb": "POST", "authType": "Any"}]);
    bed.put(&publisher(&format!("/apis/{v1}")))
        .as_user("admin")
        .json(&edited)
        .send()
        .await
        .expect(200);
    let revisions = get(&bed, &format!("/apis/{v1}/revisions"))
        .await
        .expect(200);
    let first = revisions["list"][0]["id"].as_str().unwrap().to_string();
    let new_revision = |n: usize| {
        let bed = &bed;
        let path = publisher(&format!("/apis/{v1}/revisions"));
        async move {
            bed.post(&path)
                .as_user("admin")
                .json(&json!({"description": format!("r{n}")}))
                .send()
                .await
        }
    };
    for n in 2..=5 {
        new_revision(n).await.expect(201);
    }
    let error = new_revision(6).await.refused(400);
    assert!(
        description(&error).starts_with("Maximum number of revisions per API has reached"),
        "{error}"
    );
    bed.delete(&publisher(&format!("/apis/{v1}/revisions/{first}")))
        .as_user("admin")
        .send()
        .await
        .refused(409);
    let restored = bed
        .post(&publisher(&format!(
            "/apis/{v1}/restore-revision?revisionId={first}"
        )))
        .as_user("admin")
        .send()
        .await
        .expect(201);
    assert_eq!(restored["operations"].as_array().unwrap().len(), 6);

    // A new version, copied; publishing it with "Deprecate old versions" deprecates v1, which
    // takes no new subscriptions.
    let v2 = bed
        .post(&publisher(&format!(
            "/apis/copy-api?apiId={v1}&newVersion=2.0.0&defaultVersion=true"
        )))
        .as_user("admin")
        .send()
        .await
        .expect(201);
    assert_eq!(v2["version"], "2.0.0");
    assert_eq!(v2["isDefaultVersion"], true);
    assert_eq!(v2["lifeCycleStatus"], "CREATED");
    assert_eq!(v2["operations"].as_array().unwrap().len(), 6);
    assert_eq!(v2["endpointConfig"], restored["endpointConfig"]);
    let v2_id = v2["id"].as_str().unwrap().to_string();
    let published = bed
        .post(&publisher(&format!(
            "/apis/change-lifecycle?apiId={v2_id}&action=Publish&lifecycleChecklist={}",
            urlencode("Deprecate old versions after publishing the API:true")
        )))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(published["lifecycleState"]["state"], "Published");
    let old = get(&bed, &format!("/apis/{v1}")).await.expect(200);
    assert_eq!(old["lifeCycleStatus"], "DEPRECATED");
    let latecomer = application(&bed, "admin", "Latecomer").await;
    let refused = bed
        .post(&devportal("/subscriptions"))
        .as_user("admin")
        .json(&json!({"applicationId": latecomer, "apiId": v1, "throttlingPolicy": "Unlimited"}))
        .send()
        .await;
    assert_eq!(refused.bad_fields(), vec!["apiId"]);

    // A prototype is deployed as one.
    let proto = create_api(&bed, &named_api("Proto", "/proto", "0.1.0", NOWHERE)).await;
    let proto_id = proto["id"].as_str().unwrap();
    deploy(&bed, proto_id, json!([{"name": "Default"}])).await;
    change(&bed, proto_id, "Deploy as a Prototype")
        .await
        .expect(200);

    let history = get(&bed, &format!("/apis/{v1}/lifecycle-history"))
        .await
        .expect(200);
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

    // Retired, then deleted: refused while subscriptions exist.
    change(&bed, &v1, "Retire").await.expect(200);
    let delete = |api: String| {
        let bed = &bed;
        async move {
            bed.delete(&publisher(&format!("/apis/{api}")))
                .as_user("admin")
                .send()
                .await
        }
    };
    delete(v1.clone()).await.refused(409);
    let subs = bed
        .get(&devportal(&format!(
            "/subscriptions?applicationId={app_id}"
        )))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    for sub in subs["list"].as_array().unwrap() {
        let sub_id = sub["subscriptionId"].as_str().unwrap();
        let removed = bed
            .delete(&devportal(&format!("/subscriptions/{sub_id}")))
            .as_user("admin")
            .send()
            .await;
        assert_eq!(removed.status, 200);
    }
    assert_eq!(delete(v1.clone()).await.status, 200);
    get(&bed, &format!("/apis/{v1}")).await.refused(404);
    deploy(
        &bed,
        &v2_id,
        json!([{"name": "Default", "vhost": "localhost"}]),
    )
    .await;
    assert_eq!(delete(v2_id).await.status, 200);
}

#[tokio::test]
async fn the_default_version_moves_and_providers_see_who_subscribes() {
    let bed = TestBed::sqlite().await;
    let mut v1_body = named_api("Menu", "/menu", "1.0.0", NOWHERE);
    v1_body["isDefaultVersion"] = json!(true);
    let v1 = publish_api(&bed, &v1_body).await;
    let v2 = publish_api(&bed, &named_api("Menu", "/menu", "2.0.0", NOWHERE)).await;
    let app_id = application(&bed, "admin", "Diner").await;
    subscribe(&bed, "admin", &app_id, &v1, "Unlimited").await;
    subscribe(&bed, "admin", &app_id, &v2, "Unlimited").await;

    // Marking v2 as the default unmarks v1.
    let mut current = get(&bed, &format!("/apis/{v2}")).await.expect(200);
    current["isDefaultVersion"] = json!(true);
    bed.put(&publisher(&format!("/apis/{v2}")))
        .as_user("admin")
        .json(&current)
        .send()
        .await
        .expect(200);
    let old = get(&bed, &format!("/apis/{v1}")).await.expect(200);
    assert_eq!(old["isDefaultVersion"], false);

    // The provider sees who subscribes.
    let subscriptions = get(
        &bed,
        &format!("/subscriptions?apiId={v2}&limit=10&offset=0"),
    )
    .await
    .expect(200);
    assert_eq!(subscriptions["count"], 1);
    assert_eq!(subscriptions["list"][0]["applicationInfo"]["name"], "Diner");
    assert_eq!(subscriptions["list"][0]["subscriptionStatus"], "UNBLOCKED");
    assert_eq!(subscriptions["pagination"]["total"], 1);
    let all = get(&bed, "/subscriptions").await.expect(200);
    assert_eq!(all["count"], 2);
}
