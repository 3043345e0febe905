//! `operations::gateways`: what gateway nodes ask over the internal data API.

use tollgate_model::wire::GatewayReport;
use tollgate_operations::gateways::{record_report, runtime_snapshot};
use tollgate_testbed::{Refused, TestBed};

#[tokio::test]
async fn a_snapshot_holds_the_apis_deployed_to_the_labels_asked_for() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let all = runtime_snapshot(bed.services(), None).await.unwrap();
    assert_eq!(all.apis.len(), 1);
    assert_eq!(all.apis[0].api.id, api.id);
    let default = runtime_snapshot(bed.services(), Some(" Default , Staging"))
        .await
        .unwrap();
    assert_eq!(default.apis.len(), 1);
    let elsewhere = runtime_snapshot(bed.services(), Some("Staging"))
        .await
        .unwrap();
    assert!(elsewhere.apis.is_empty());
    // What the rest of the snapshot holds does not depend on the labels.
    assert_eq!(elsewhere.policies.len(), all.policies.len());
    let many = vec!["e"; 101].join(",");
    runtime_snapshot(bed.services(), Some(&many))
        .await
        .invalid("gatewayLabels");
}

#[tokio::test]
async fn a_gateway_report_names_its_node_and_at_most_a_hundred_labels() {
    let bed = TestBed::sqlite().await;
    let report = |node_id: &str, labels: usize| GatewayReport {
        node_id: node_id.into(),
        labels: vec!["Default".into(); labels],
        epoch: bed.store().epoch().to_string(),
        applied_seq: 0,
    };
    record_report(bed.services(), &report("", 1))
        .await
        .invalid("nodeId");
    record_report(bed.services(), &report(&"n".repeat(201), 1))
        .await
        .invalid("nodeId");
    record_report(bed.services(), &report("gw-1", 101))
        .await
        .invalid("labels");
    record_report(bed.services(), &report("gw-1", 1))
        .await
        .unwrap();
}
