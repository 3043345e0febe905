//! Tiers through the Admin API: a bad limit is named by its field, absurd ones are refused and
//! sane ones kept (WSO2's unit spellings read), a name is taken once, and a tier in use stays.
//! (That a gateway enforces a new tier is the end-to-end suite's.)

use serde_json::{json, Value};
use tollgate_testbed::TestBed;

use super::{admin, application, pizzashack, publish_api, subscribe, NOWHERE};

fn tier(name: &str, unit: &str, unit_time: Value, count: Value) -> Value {
    json!({"policyName": name, "defaultLimit": {"type": "REQUESTCOUNTLIMIT",
        "requestCount": {"timeUnit": unit, "unitTime": unit_time, "requestCount": count}}})
}

async fn add(bed: &TestBed, level: &str, body: &Value) -> tollgate_testbed::Reply {
    bed.post(&admin(&format!("/throttling/policies/{level}")))
        .as_user("admin")
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn absurd_tiers_are_refused_and_sane_ones_kept() {
    let bed = TestBed::sqlite().await;
    for (body, field) in [
        (tier("Zero", "min", json!(0), json!(10)), "unitTime"),
        (tier("Negative", "min", json!(-5), json!(10)), "unitTime"),
        (tier("Huge", "sec", json!(i64::MAX), json!(10)), "unitTime"),
        (tier("TwoYears", "year", json!(2), json!(10)), "unitTime"),
        (
            tier("ThirteenMonths", "month", json!(13), json!(10)),
            "unitTime",
        ),
        (tier("NoCount", "min", json!(1), json!(0)), "requestCount"),
        (
            tier("TooMany", "min", json!(1), json!(1i64 << 60)),
            "requestCount",
        ),
        (
            tier("Fortnight", "fortnight", json!(1), json!(10)),
            "timeUnit",
        ),
        (
            tier("Bad\u{0}Name", "min", json!(1), json!(10)),
            "policyName",
        ),
    ] {
        let refused = add(&bed, "subscription", &body).await.refused_because(400);
        assert!(refused.contains(field), "{body}: {refused}");
    }
    let yearly = add(
        &bed,
        "subscription",
        &tier("Yearly", "month", json!(12), json!(100000)),
    )
    .await
    .expect(201);
    assert_eq!(yearly["defaultLimit"]["requestCount"]["unitTime"], 12);
    let per_second = add(
        &bed,
        "application",
        &tier("PerSecond", "seconds", json!(1), json!(5)),
    )
    .await
    .expect(201);
    assert_eq!(
        per_second["defaultLimit"]["requestCount"]["timeUnit"],
        "sec"
    );
}

#[tokio::test]
async fn a_tier_is_named_once_and_stays_while_in_use() {
    let bed = TestBed::sqlite().await;
    let bad = add(
        &bed,
        "subscription",
        &json!({"policyName": "Tiny", "defaultLimit": {"type": "BANDWIDTHLIMIT"}}),
    )
    .await
    .refused_because(400);
    assert!(bad.contains("defaultLimit.type"), "{bad}");
    let tiny = json!({"policyName": "Tiny", "displayName": "Tiny", "description": "5 per minute",
        "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 5}}});
    let tiny_id = add(&bed, "subscription", &tiny).await.expect(201)["policyId"]
        .as_str()
        .unwrap()
        .to_string();
    add(&bed, "subscription", &tiny).await.refused(409);

    // A tier in use cannot be deleted; an unused one can.
    let mut api = pizzashack(NOWHERE);
    api["policies"] = json!(["Unlimited", "Tiny"]);
    let api_id = publish_api(&bed, &api).await;
    let app_id = application(&bed, "admin", "TinyApp").await;
    subscribe(&bed, "admin", &app_id, &api_id, "Tiny").await;
    let delete = |id: String| {
        let bed = &bed;
        async move {
            bed.delete(&admin(&format!("/throttling/policies/subscription/{id}")))
                .as_user("admin")
                .send()
                .await
        }
    };
    delete(tiny_id).await.refused(409);
    let spare = add(
        &bed,
        "subscription",
        &json!({"policyName": "Spare", "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "hour", "unitTime": 1, "requestCount": 10}}}),
    )
    .await
    .expect(201);
    let deleted = delete(spare["policyId"].as_str().unwrap().to_string()).await;
    assert_eq!(deleted.status, 200);
}
