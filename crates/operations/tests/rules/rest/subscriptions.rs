//! Subscriptions through the Developer Portal API: one or many at once (all or none, each
//! problem named by its position), a change of tier, lists by application or API, what
//! refuses a subscription, and one consumer's subscriptions hidden from another.

use serde_json::{json, Value};
use tollgate_testbed::TestBed;

use super::{
    application, change_lifecycle, devportal, named_api, pizzashack, publish_api, NOWHERE,
};

#[tokio::test]
async fn subscriptions_follow_wso2s_rules() {
    let bed = TestBed::sqlite().await;
    let mut api = pizzashack(NOWHERE);
    api["policies"] = json!(["Gold", "Bronze"]);
    let api_id = publish_api(&bed, &api).await;
    let (first, second, third) = (
        application(&bed, "admin", "First").await,
        application(&bed, "admin", "Second").await,
        application(&bed, "admin", "Third").await,
    );
    let post = |path: &str, body: Value, user: &'static str| {
        let (bed, path) = (&bed, devportal(path));
        async move { bed.post(&path).as_user(user).json(&body).send().await }
    };

    // Two at once.
    let created = post(
        "/subscriptions/multiple",
        json!([
            {"applicationId": first, "apiId": api_id, "throttlingPolicy": "Gold"},
            {"applicationId": second, "apiId": api_id, "throttlingPolicy": "Bronze"}
        ]),
        "admin",
    )
    .await
    .expect(200);
    assert_eq!(created.as_array().unwrap().len(), 2);
    let first_sub = created[0]["subscriptionId"].as_str().unwrap().to_string();

    // Twice to the same API: 409.
    post(
        "/subscriptions",
        json!({"applicationId": first, "apiId": api_id, "throttlingPolicy": "Bronze"}),
        "admin",
    )
    .await
    .refused(409);

    // All or none: one bad entry stops the good one, and is named by its position.
    let refused = post(
        "/subscriptions/multiple",
        json!([
            {"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"},
            {"applicationId": third, "apiId": api_id, "throttlingPolicy": "Platinum"}
        ]),
        "admin",
    )
    .await
    .refused(400);
    assert!(refused.to_string().contains("[1].apiId"), "{refused}");
    let refused = post(
        "/subscriptions/multiple",
        json!([
            {"applicationId": third, "apiId": "no-such-api", "throttlingPolicy": "Gold"},
            {"applicationId": second, "apiId": api_id, "throttlingPolicy": "Unlimited"}
        ]),
        "admin",
    )
    .await
    .refused(400);
    let text = refused.to_string();
    assert!(
        text.contains("[0].apiId") && text.contains("[1].throttlingPolicy"),
        "{text}"
    );
    let none = bed
        .get(&devportal(&format!("/subscriptions?applicationId={third}")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(none["count"], 0);

    // A change of tier; the application and API stay.
    let put = |body: Value| {
        let (bed, path) = (&bed, devportal(&format!("/subscriptions/{first_sub}")));
        async move { bed.put(&path).as_user("admin").json(&body).send().await }
    };
    let changed =
        put(json!({"applicationId": first, "apiId": api_id, "throttlingPolicy": "Bronze"}))
            .await
            .expect(200);
    assert_eq!(changed["throttlingPolicy"], "Bronze");
    let refused =
        put(json!({"applicationId": first, "apiId": api_id, "throttlingPolicy": "Platinum"}))
            .await
            .refused(400);
    assert!(refused.to_string().contains("throttlingPolicy"));
    put(json!({"applicationId": second, "apiId": api_id, "throttlingPolicy": "Gold"}))
        .await
        .refused(400);

    // By API: the caller's subscriptions to it.
    let by_api = bed
        .get(&devportal(&format!("/subscriptions?apiId={api_id}")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(by_api["count"], 2);
    assert_eq!(by_api["pagination"]["total"], 2);

    // Another consumer sees none of it: 404 for the subscription, their own lists are empty,
    // and subscribing someone else's application names the field.
    bed.get(&devportal(&format!("/subscriptions/{first_sub}")))
        .as_user("alice")
        .send()
        .await
        .refused(404);
    let theirs = bed
        .get(&devportal(&format!("/subscriptions?apiId={api_id}")))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(theirs["count"], 0);
    post(
        "/subscriptions",
        json!({"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"}),
        "alice",
    )
    .await
    .refused(404);
    let refused = post(
        "/subscriptions/multiple",
        json!([{"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"}]),
        "alice",
    )
    .await
    .refused(400);
    assert!(
        refused.to_string().contains("[0].applicationId"),
        "{refused}"
    );
    bed.delete(&devportal(&format!("/subscriptions/{first_sub}")))
        .as_user("alice")
        .send()
        .await
        .refused(404);

    // A deprecated API keeps its subscribers but takes no new ones; nor does a blocked one.
    change_lifecycle(&bed, &api_id, "Deprecate").await;
    let refused = post(
        "/subscriptions",
        json!({"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"}),
        "admin",
    )
    .await
    .refused(400);
    assert!(refused.to_string().contains("Deprecated"), "{refused}");
    let kept = bed
        .get(&devportal(&format!("/subscriptions/{first_sub}")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(kept["status"], "UNBLOCKED");
    let blocked_id = publish_api(&bed, &named_api("Blocked", "/blocked", "1.0.0", NOWHERE)).await;
    change_lifecycle(&bed, &blocked_id, "Block").await;
    // (A blocked API is not shown to consumers at all.)
    post(
        "/subscriptions",
        json!({"applicationId": third, "apiId": blocked_id, "throttlingPolicy": "Unlimited"}),
        "admin",
    )
    .await
    .refused(404);

    // Deleting: gone, and a second delete is 404.
    let delete = || {
        let (bed, path) = (&bed, devportal(&format!("/subscriptions/{first_sub}")));
        async move { bed.delete(&path).as_user("admin").send().await }
    };
    assert_eq!(delete().await.status, 200);
    delete().await.refused(404);
    // Nor is there an invocation of a subscription that does not exist.
    bed.get(&devportal("/subscriptions/no-such/invocation"))
        .as_user("admin")
        .send()
        .await
        .refused(404);
}
