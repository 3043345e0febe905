//! The internal data API in bulk: 10,000 deployed APIs and 100,000 subscriptions, served to a
//! gateway in one snapshot. Prints the times (tests never assert on timing; see the closing notes).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};
use tollgate_model::{Endpoints, Operation, RuntimeApi};
use tollgate_testkit::{free_offsets, http_client, Node, NodeOptions, PgDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const APIS: usize = 10_000;
const APPLICATIONS: usize = 10_000;
const SUBSCRIPTIONS_PER_APPLICATION: usize = 10;

fn runtime(i: usize) -> String {
    serde_json::to_string(&RuntimeApi {
        id: format!("api-{i}"),
        tenant: "carbon.super".into(),
        name: format!("Api{i}"),
        version: "1.0.0".into(),
        context: format!("/bulk{i}"),
        provider: "admin".into(),
        lifecycle_status: "PUBLISHED".into(),
        revision_id: format!("rev-{i}"),
        api_throttling_policy: None,
        operations: vec![
            Operation {
                verb: "GET".into(),
                target: "/items".into(),
                auth_type: "Any".into(),
                throttling_policy: None,
                scopes: vec![],
            },
            Operation {
                verb: "POST".into(),
                target: "/items/{id}".into(),
                auth_type: "Any".into(),
                throttling_policy: None,
                scopes: vec![],
            },
        ],
        endpoints: Endpoints {
            production: Some("http://127.0.0.1:9/backend".into()),
            sandbox: None,
        },
    })
    .unwrap()
}

async fn insert_rows(
    conn: &mut PgConnection,
    table_and_columns: &str,
    rows: impl Iterator<Item = String>,
) {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(1000) {
        conn.execute(
            format!("INSERT INTO {table_and_columns} VALUES {}", chunk.join(",")).as_str(),
        )
        .await
        .unwrap();
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_apis_and_a_hundred_thousand_subscriptions_in_one_snapshot() {
    let dbs = (PgDatabase::create().await, PgDatabase::create().await);
    let offsets = free_offsets(2);
    let credential = "[apim.event_hub]\nusername = \"node\"\npassword = \"bulk-node-secret\"\n";
    let config = format!(
        "[database.apim_db]\nurl = \"{}\"\n[database.shared_db]\nurl = \"{}\"\n{credential}",
        dbs.0.url(),
        dbs.1.url()
    );
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
    let mut conn = PgConnection::connect(&dbs.0.url()).await.unwrap();
    insert_rows(
        &mut conn,
        "am_api (api_id, name, context, version, provider, lifecycle_status, api_type, definition, created_time, updated_time)",
        (0..APIS).map(|i| format!("('api-{i}', 'Api{i}', '/bulk{i}', '1.0.0', 'admin', 'PUBLISHED', 'HTTP', '{{}}', 0, 0)")),
    )
    .await;
    insert_rows(
        &mut conn,
        "am_api_revision (revision_id, api_id, revision_number, description, definition, runtime, created_time)",
        (0..APIS).map(|i| format!("('rev-{i}', 'api-{i}', 1, '', '{{}}', {}, 0)", quote(&runtime(i)))),
    )
    .await;
    insert_rows(
        &mut conn,
        "am_api_deployment (api_id, environment, revision_id, vhost, display_on_devportal, deployed_time)",
        (0..APIS).map(|i| format!("('api-{i}', 'Default', 'rev-{i}', 'localhost', 1, 0)")),
    )
    .await;
    insert_rows(
        &mut conn,
        "am_application (application_id, name, owner, throttling_policy, description, token_type, status, attributes, created_time, updated_time)",
        (0..APPLICATIONS).map(|i| format!("('app-{i}', 'App{i}', 'user{}', 'Unlimited', '', 'JWT', 'APPROVED', '{{}}', 0, 0)", i % 100)),
    )
    .await;
    insert_rows(
        &mut conn,
        "am_subscription (subscription_id, application_id, api_id, throttling_policy, status, created_time)",
        (0..APPLICATIONS).flat_map(|a| {
            (0..SUBSCRIPTIONS_PER_APPLICATION).map(move |k| format!("('sub-{a}-{k}', 'app-{a}', 'api-{}', 'Gold', 'UNBLOCKED', 0)", (a * 7 + k * 1000) % APIS))
        }),
    )
    .await;
    conn.close().await.unwrap();
    eprintln!(
        "seeded {APIS} APIs, {APPLICATIONS} applications, {} subscriptions in {:?}",
        APPLICATIONS * SUBSCRIPTIONS_PER_APPLICATION,
        seeding.elapsed()
    );

    let http = http_client();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
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
    let health: Value = http
        .get(gateway.gateway_http("/_health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["apis"], APIS);
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", gateway.pid())).unwrap_or_default();
    if let Some(rss) = status.lines().find(|l| l.starts_with("VmRSS")) {
        eprintln!("gateway memory with that state: {rss}");
    }
}
