//! The internal data API in bulk: 10,000 deployed APIs and 100,000 subscriptions, served to a
//! gateway in one snapshot. Prints the times (tests never assert on timing; see the closing notes).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tollgate_bench::scale::{APIS, APPLICATIONS, SUBSCRIPTIONS_PER_APPLICATION};
use tollgate_testkit::flow::get_public_json;
use tollgate_testkit::{
    databases_config, free_offsets, http_client, Node, NodeOptions, PgDatabase,
};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_apis_and_a_hundred_thousand_subscriptions_in_one_snapshot() {
    let dbs = PgDatabase::pair().await;
    let offsets = free_offsets(2);
    let credential = "[apim.event_hub]\nusername = \"node\"\npassword = \"bulk-node-secret\"\n";
    let config = format!("{}{credential}", databases_config(&dbs));
    let control_plane = Node::start(
        Path::new(BIN),
        NodeOptions {
            profile: "control-plane".into(),
            offset: Some(offsets[0]),
            extra_config: config,
            ..NodeOptions::default()
        },
    )
    .await;

    let seeding = Instant::now();
    tollgate_bench::scale::seed(&dbs.0.url(), "http://127.0.0.1:9/backend")
        .await
        .expect("seed");
    eprintln!(
        "seeded {APIS} APIs, {APPLICATIONS} applications, {} subscriptions in {:?}",
        APPLICATIONS * SUBSCRIPTIONS_PER_APPLICATION,
        seeding.elapsed()
    );

    let http = http_client();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        // A raw request: the internal data API, with the node credential.
        let snapshot: Value = http
            .get(
                control_plane
                    .control_plane_http("/internal/data/v1/runtime-snapshot?gatewayLabels=Default"),
            )
            .basic_auth("node", Some("bulk-node-secret"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        best = best.min(started.elapsed());
        assert_eq!(snapshot["apis"].as_array().unwrap().len(), APIS);
        assert_eq!(
            snapshot["subscriptions"].as_array().unwrap().len(),
            APPLICATIONS * SUBSCRIPTIONS_PER_APPLICATION
        );
        assert_eq!(
            snapshot["applications"].as_array().unwrap().len(),
            APPLICATIONS
        );
    }
    eprintln!("internal data API: snapshot of {APIS} APIs and {} subscriptions fetched and parsed in {best:?} (best of 3)", APPLICATIONS * SUBSCRIPTIONS_PER_APPLICATION);

    // A gateway loads it all at start.
    let started = Instant::now();
    let gateway = Node::start(
        Path::new(BIN),
        NodeOptions {
            profile: "gateway".into(),
            offset: Some(offsets[1]),
            extra_config: format!(
                "{credential}service_url = \"{}\"\nevent_listening_endpoints = [\"{}\"]\n",
                control_plane.control_plane_http(""),
                control_plane.hub_url()
            ),
            ..NodeOptions::default()
        },
    )
    .await;
    eprintln!(
        "gateway process start to ready with that state: {:?}",
        started.elapsed()
    );
    let health = get_public_json(&gateway.gateway_http("/_health/ready")).await;
    assert_eq!(health["apis"], APIS);
    // Settled: the state persisted and the snapshot's transient memory released.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", gateway.pid())).unwrap_or_default();
    if let Some(rss) = status.lines().find(|l| l.starts_with("VmRSS")) {
        eprintln!("gateway memory with that state: {rss}");
    }
}
