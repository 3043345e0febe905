//! Both distributed deployment patterns as separate processes on PostgreSQL: a control plane
//! (with the traffic manager inside, or a separate traffic manager) and two gateways. Each test
//! creates its own databases and drops them after.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_testkit::flow::{get_public_json, pizzashack, Flow};
use tollgate_testkit::gateway::{Anonymous, Bearer, Gateway};
use tollgate_testkit::oauth::OAuthClient;
use tollgate_testkit::{
    databases_config, free_offsets, MockBackend, Node, NodeOptions, PgDatabase,
};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// One topology at a time: several at once on a 2-core machine would measure the machine's
/// contention, not Tollgate (the throttling test counts what slips through a decision's delay).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const NODE_USER: &str = "tollgate-node";
const NODE_SECRET: &str = "node-secret-for-tests";
/// The quick-start scopes and the publisher's right to block subscriptions.
const SCOPES: &str =
    "apim:api_view apim:api_create apim:api_publish apim:subscribe apim:subscription_block";

struct Topology {
    control_plane: Node,
    traffic_manager: Option<Node>,
    gateways: Vec<Node>,
    backend: MockBackend,
    _databases: (PgDatabase, PgDatabase),
}

fn event_hub_config(service_url: Option<&str>, hubs: &[String], secret: &str) -> String {
    let mut text =
        format!("[apim.event_hub]\nusername = \"{NODE_USER}\"\npassword = \"{secret}\"\n");
    if let Some(url) = service_url {
        text.push_str(&format!("service_url = \"{url}\"\n"));
    }
    if !hubs.is_empty() {
        let list: Vec<String> = hubs.iter().map(|h| format!("\"{h}\"")).collect();
        text.push_str(&format!(
            "event_listening_endpoints = [{}]\n",
            list.join(", ")
        ));
    }
    text
}

fn options(profile: &str, offset: u16, config: String) -> NodeOptions {
    NodeOptions {
        profile: profile.into(),
        offset: Some(offset),
        extra_config: config,
        ..NodeOptions::default()
    }
}

fn gateway_options(
    offset: u16,
    control_plane_offset: u16,
    hubs: &[String],
    secret: &str,
) -> NodeOptions {
    let service_url = format!("http://127.0.0.1:{}", 9763 + control_plane_offset);
    options(
        "gateway",
        offset,
        event_hub_config(Some(&service_url), hubs, secret),
    )
}

impl Topology {
    async fn start(separate_traffic_manager: bool) -> Topology {
        let dbs = PgDatabase::pair().await;
        let offsets = free_offsets(4);
        let (cp_offset, tm_offset) = (offsets[0], offsets[3]);
        let bin = Path::new(BIN);
        let hub = format!(
            "ws://127.0.0.1:{}",
            9611 + if separate_traffic_manager {
                tm_offset
            } else {
                cp_offset
            }
        );
        let traffic_manager = if separate_traffic_manager {
            let config = format!(
                "{}{}",
                databases_config(&dbs),
                event_hub_config(None, &[], NODE_SECRET)
            );
            Some(Node::start(bin, options("traffic-manager", tm_offset, config)).await)
        } else {
            None
        };
        let remote_hubs = if separate_traffic_manager {
            vec![hub.clone()]
        } else {
            vec![]
        };
        let config = format!(
            "{}{}",
            databases_config(&dbs),
            event_hub_config(None, &remote_hubs, NODE_SECRET)
        );
        let control_plane = Node::start(bin, options("control-plane", cp_offset, config)).await;
        let mut gateways = Vec::new();
        for offset in &offsets[1..3] {
            gateways.push(
                Node::start(
                    bin,
                    gateway_options(*offset, cp_offset, std::slice::from_ref(&hub), NODE_SECRET),
                )
                .await,
            );
        }
        Topology {
            control_plane,
            traffic_manager,
            gateways,
            backend: MockBackend::start().await,
            _databases: dbs,
        }
    }

    fn hub_url(&self) -> String {
        self.traffic_manager
            .as_ref()
            .unwrap_or(&self.control_plane)
            .hub_url()
    }
}

/// Polls `path` on every gateway until each answers `status`; returns how long it took.
async fn on_all_gateways(
    gateways: &[Node],
    path: &str,
    token: &str,
    method: Method,
    status: StatusCode,
) -> Duration {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(15);
    for gateway in gateways {
        loop {
            let answer = Gateway::of(gateway)
                .call(method.clone(), path, Bearer(token), None)
                .await;
            if answer.status == status {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gateway {} never answered {status} on {path}; last: {} {}\n{}",
                gateway.offset,
                answer.status,
                answer.body,
                gateway.log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    started.elapsed()
}

/// The gateway's applied event sequence, from its readiness probe.
async fn gateway_seq(gateway: &Node) -> i64 {
    get_public_json(&gateway.gateway_http("/_health/ready")).await["seq"]
        .as_i64()
        .unwrap()
}

struct Subscribed {
    api_id: String,
    app_id: String,
    subscription_id: String,
    consumer_key: String,
    consumer_secret: String,
    token: String,
}

/// Publishes PizzaShack and subscribes a fresh application at `tier`.
async fn subscribed(
    flow: &Flow,
    backend: &MockBackend,
    app_name: &str,
    tier: &str,
    api_id: Option<String>,
) -> Subscribed {
    let api_id = match api_id {
        Some(id) => id,
        None => {
            let mut api = pizzashack(&backend.url());
            api["policies"] = json!(["Unlimited", "Bronze", "Gold"]);
            flow.publish_api(api).await
        }
    };
    let (app_id, key, _) = flow.application_with_keys(app_name, None).await;
    let sub = flow.subscribe(&app_id, &api_id, tier).await;
    let token = flow.token_for(&app_id, &key, 3600).await;
    Subscribed {
        api_id,
        app_id,
        subscription_id: sub["subscriptionId"].as_str().unwrap().to_string(),
        consumer_key: key["consumerKey"].as_str().unwrap().to_string(),
        consumer_secret: key["consumerSecret"].as_str().unwrap().to_string(),
        token,
    }
}

async fn set_blocked(flow: &Flow, subscription_id: &str, blocked: bool) {
    if blocked {
        flow.block_subscription(subscription_id, "BLOCKED").await;
    } else {
        flow.unblock_subscription(subscription_id).await;
    }
}

/// Quick start through each gateway, then (i) a new revision, (ii) a blocked subscription and
/// (iii) a revoked token reach both gateways.
async fn changes_reach_both_gateways(topology: &Topology) -> (Flow, Subscribed) {
    let flow = Flow::login_with_scopes(&topology.control_plane, SCOPES).await;
    let s = subscribed(&flow, &topology.backend, "PizzaApp", "Unlimited", None).await;
    let took = on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    eprintln!("quick start served by both gateways {took:?} after the last change");

    // Both gateways have told the control plane they applied the deployment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let deployments = flow.deployments(&s.api_id).await;
        let default = &deployments["list"][0];
        if default["liveGateways"] == 2 && default["appliedGateways"] == 2 {
            assert!(default["successDeployedTime"].is_string(), "{default}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gateways never reported the deployment applied: {default}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // (i) A new revision with a new method on a resource: refused with 405 until then.
    Gateway::of(&topology.gateways[0])
        .call(
            Method::PATCH,
            "/pizzashack/1.0.0/order/7",
            Bearer(&s.token),
            None,
        )
        .await
        .refused(StatusCode::METHOD_NOT_ALLOWED);
    let mut api = flow.get_api(&s.api_id).await;
    api["operations"].as_array_mut().unwrap().push(json!({"target": "/order/{orderId}", "verb": "PATCH", "authType": "Application & Application User", "throttlingPolicy": "Unlimited"}));
    flow.update_api(&s.api_id, &api).await;
    flow.deploy(&s.api_id).await;
    let took = on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/order/7",
        &s.token,
        Method::PATCH,
        StatusCode::OK,
    )
    .await;
    eprintln!("(i) new revision served by both gateways after {took:?}");

    // (ii) A blocked subscription is refused by both, and served again once unblocked.
    set_blocked(&flow, &s.subscription_id, true).await;
    let took = on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::FORBIDDEN,
    )
    .await;
    eprintln!("(ii) blocked subscription refused by both gateways after {took:?}");
    let blocked = Gateway::of(&topology.gateways[1])
        .get("/pizzashack/1.0.0/menu", Bearer(&s.token))
        .await;
    assert_eq!(blocked.refused_with(StatusCode::FORBIDDEN), "900907");
    set_blocked(&flow, &s.subscription_id, false).await;
    on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;

    // (iii) A revoked token is refused by both.
    let client = OAuthClient::new(&topology.control_plane, &s.consumer_key, &s.consumer_secret);
    client.revoke(&s.token).await;
    let took = on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    eprintln!("(iii) revoked token refused by both gateways after {took:?}");

    // A fresh token for what follows.
    let s = Subscribed {
        token: client.client_credentials().await,
        ..s
    };
    on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    (flow, s)
}

/// Removals travel too: a deleted subscription, cleaned-up keys, a deleted application and an
/// undeployed revision are refused by both gateways.
async fn removals_reach_both_gateways(topology: &Topology, flow: &Flow, api_id: &str) {
    let gateways = &topology.gateways;
    let menu = "/pizzashack/1.0.0/menu";
    let get = Method::GET;

    let a = subscribed(
        flow,
        &topology.backend,
        "RemovalsA",
        "Unlimited",
        Some(api_id.to_string()),
    )
    .await;
    on_all_gateways(gateways, menu, &a.token, get.clone(), StatusCode::OK).await;
    flow.unsubscribe(&a.subscription_id).await;
    on_all_gateways(gateways, menu, &a.token, get.clone(), StatusCode::FORBIDDEN).await;

    let b = subscribed(
        flow,
        &topology.backend,
        "RemovalsB",
        "Unlimited",
        Some(api_id.to_string()),
    )
    .await;
    on_all_gateways(gateways, menu, &b.token, get.clone(), StatusCode::OK).await;
    let key = flow.production_key(&b.app_id).await;
    flow.clean_up_keys(&b.app_id, &key).await;
    on_all_gateways(
        gateways,
        menu,
        &b.token,
        get.clone(),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let c = subscribed(
        flow,
        &topology.backend,
        "RemovalsC",
        "Unlimited",
        Some(api_id.to_string()),
    )
    .await;
    on_all_gateways(gateways, menu, &c.token, get.clone(), StatusCode::OK).await;
    flow.delete_application(&c.app_id).await;
    on_all_gateways(
        gateways,
        menu,
        &c.token,
        get.clone(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    flow.call(
        Method::GET,
        &flow.devportal(&format!("/applications/{}", c.app_id)),
        None,
    )
    .await
    .refused(StatusCode::NOT_FOUND);

    // Undeploying the deployed revision takes the API off both gateways.
    let d = subscribed(
        flow,
        &topology.backend,
        "RemovalsD",
        "Unlimited",
        Some(api_id.to_string()),
    )
    .await;
    let deployments = flow.deployments(api_id).await;
    let revision = deployments["list"][0]["revisionUuid"].as_str().unwrap();
    flow.undeploy_revision(
        api_id,
        revision,
        json!([{"name": "Default", "vhost": "localhost"}]),
    )
    .await;
    on_all_gateways(gateways, menu, &d.token, get, StatusCode::NOT_FOUND).await;
}

/// (vi) With Bronze (1,000 per minute), two gateways together admit about 1,000, not 2,000.
async fn two_gateways_share_one_limit(topology: &Topology, flow: &Flow, api_id: &str) {
    let s = subscribed(
        flow,
        &topology.backend,
        "BronzeApp",
        "Bronze",
        Some(api_id.to_string()),
    )
    .await;
    on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    // Stay inside one clock-aligned minute: the count starts afresh at each minute.
    let second = (tollgate_now_millis() / 1000) % 60;
    if second > 40 {
        tokio::time::sleep(Duration::from_secs(61 - second as u64)).await;
    }
    let total = 1_600;
    // Four clients in a tight loop: the rate is what the machine gives (thousands per second),
    // not a polite trickle, but leaves CPU for the traffic manager on a 2-core machine.
    const WORKERS: usize = 4;
    let mut admitted = 0;
    let mut throttled = 0;
    let mut tasks = tokio::task::JoinSet::new();
    let gateways: Vec<Gateway> = topology.gateways.iter().map(Gateway::of).collect();
    for worker in 0..WORKERS {
        let (gateways, token) = (gateways.clone(), s.token.clone());
        tasks.spawn(async move {
            let mut results = Vec::new();
            for i in 0..total / WORKERS {
                let gateway = &gateways[(worker + i) % gateways.len()];
                let answer = gateway.get("/pizzashack/1.0.0/menu", Bearer(&token)).await;
                let retry_after = answer.header("retry-after").is_some();
                let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
                results.push((answer.status, retry_after, body));
            }
            results
        });
    }
    while let Some(results) = tasks.join_next().await {
        for (status, retry_after, body) in results.unwrap() {
            match status {
                StatusCode::OK => admitted += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    throttled += 1;
                    assert_eq!(body["code"], "900804");
                    assert!(retry_after, "429 without Retry-After");
                }
                other => panic!("unexpected status {other}: {body}"),
            }
        }
    }
    eprintln!(
        "(vi) Bronze 1000/min across two gateways ({}): {admitted} admitted, {throttled} throttled of {total}",
        if topology.traffic_manager.is_some() { "separate traffic manager" } else { "traffic manager in the control plane" }
    );
    assert_eq!(admitted + throttled, total);
    // Shares in flight may leave a few requests of the quota unused, or let a few through.
    assert!(
        admitted >= 950,
        "far fewer than the limit admitted: {admitted}"
    );
    assert!(
        admitted <= 1200,
        "the two gateways together admitted {admitted} against a limit of 1000; traffic manager log:\n{}",
        topology.traffic_manager.as_ref().unwrap_or(&topology.control_plane).log()
            + &topology.gateways[0].log()
    );
}

fn tollgate_now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Control-plane write → applied on both gateways, over `changes` subscription state changes.
async fn propagation_delays(
    topology: &Topology,
    flow: &Flow,
    subscription_id: &str,
    changes: usize,
) -> Vec<Duration> {
    let mut delays = Vec::with_capacity(changes);
    for i in 0..changes {
        let before = [
            gateway_seq(&topology.gateways[0]).await,
            gateway_seq(&topology.gateways[1]).await,
        ];
        let started = Instant::now();
        set_blocked(flow, subscription_id, i % 2 == 0).await;
        for (gateway, seq) in topology.gateways.iter().zip(before) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while gateway_seq(gateway).await <= seq {
                assert!(
                    Instant::now() < deadline,
                    "change {i} never reached gateway {}",
                    gateway.offset
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        delays.push(started.elapsed());
    }
    delays.sort();
    delays
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_plane_with_traffic_manager_inside_and_two_gateways() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut topology = Topology::start(false).await;
    let (flow, s) = changes_reach_both_gateways(&topology).await;
    two_gateways_share_one_limit(&topology, &flow, &s.api_id).await;

    let delays = propagation_delays(&topology, &flow, &s.subscription_id, 100).await;
    eprintln!(
        "propagation control-plane write -> both gateways over {} changes: p50 {:?}, p99 {:?}, max {:?}",
        delays.len(),
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        delays.last().unwrap()
    );
    set_blocked(&flow, &s.subscription_id, false).await;
    on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;

    // (iv)/(v) The control plane (and the traffic manager inside it) goes away: gateways keep
    // serving, and a gateway restarted meanwhile serves from its persisted state.
    topology.control_plane.kill();
    for gateway in &topology.gateways {
        let answer = Gateway::of(gateway)
            .get("/pizzashack/1.0.0/menu", Bearer(&s.token))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "gateway stopped serving without its control plane"
        );
    }
    tokio::time::sleep(Duration::from_millis(1200)).await; // let the state file settle
    topology.gateways[0].restart().await;
    assert!(
        topology.gateways[0]
            .log()
            .contains("serving from the persisted state"),
        "{}",
        topology.gateways[0].log()
    );
    let answer = Gateway::of(&topology.gateways[0])
        .get("/pizzashack/1.0.0/menu", Bearer(&s.token))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "restarted gateway does not serve from its persisted state"
    );

    // The control plane returns; both gateways reconcile and see changes made after it.
    topology.control_plane.restart().await;
    let flow = Flow::login_with_scopes(&topology.control_plane, SCOPES).await;
    set_blocked(&flow, &s.subscription_id, true).await;
    on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::FORBIDDEN,
    )
    .await;
}

/// Opaque tokens (an application of token type OAUTH): each gateway asks the control plane
/// about one over the network, remembers the answer, and refuses the token once it is revoked.
async fn opaque_tokens_on_both_gateways(topology: &Topology, flow: &Flow, api_id: &str) {
    let (_, keys, token) = flow
        .application_with_token_type("OpaqueApp", Some(api_id), "OAUTH")
        .await;
    assert!(!token.contains('.'), "not an opaque token: {token}");
    let path = "/pizzashack/1.0.0/menu";
    on_all_gateways(
        &topology.gateways,
        path,
        &token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    for gateway in &topology.gateways {
        let gateway = Gateway::of(gateway);
        for _ in 0..20 {
            assert_eq!(
                gateway.get(path, Bearer(&token)).await.status,
                StatusCode::OK
            );
        }
        // An opaque token the key manager never issued.
        let unknown = gateway
            .get(path, Bearer("0123456789abcdef0123456789abcdef"))
            .await;
        assert_eq!(unknown.refused_with(StatusCode::UNAUTHORIZED), "900901");
    }
    OAuthClient::of_keys(&topology.control_plane, &keys)
        .revoke(&token)
        .await;
    let took = on_all_gateways(
        &topology.gateways,
        path,
        &token,
        Method::GET,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    eprintln!("a revoked opaque token was refused by both gateways {took:?} after its revocation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_traffic_manager_and_two_gateways() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut topology = Topology::start(true).await;
    let (flow, s) = changes_reach_both_gateways(&topology).await;
    two_gateways_share_one_limit(&topology, &flow, &s.api_id).await;
    opaque_tokens_on_both_gateways(&topology, &flow, &s.api_id).await;

    // (iv) The traffic manager goes away: gateways keep serving what they know; a change made
    // meanwhile waits in the outbox and reaches them once it is back.
    topology.traffic_manager.as_mut().unwrap().kill();
    for gateway in &topology.gateways {
        let answer = Gateway::of(gateway)
            .get("/pizzashack/1.0.0/menu", Bearer(&s.token))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    set_blocked(&flow, &s.subscription_id, true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let still = Gateway::of(&topology.gateways[0])
        .get("/pizzashack/1.0.0/menu", Bearer(&s.token))
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "the change cannot have arrived without the hub"
    );
    topology.traffic_manager.as_mut().unwrap().restart().await;
    let took = on_all_gateways(
        &topology.gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::FORBIDDEN,
    )
    .await;
    eprintln!("(iv) change made while the traffic manager was down reached both gateways {took:?} after it returned");
    assert_eq!(
        topology.hub_url(),
        topology.traffic_manager.as_ref().unwrap().hub_url()
    );
    removals_reach_both_gateways(&topology, &flow, &s.api_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_with_a_wrong_credential_are_refused_and_garbage_from_a_hub_is_survived() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let topology = Topology::start(false).await;
    let flow = Flow::login_with_scopes(&topology.control_plane, SCOPES).await;

    // A gateway with the wrong credential never gets state, and both sides say why.
    let offset = free_offsets(1)[0];
    let mut intruder = Node::launch(
        Path::new(BIN),
        gateway_options(
            offset,
            topology.control_plane.offset,
            &[topology.hub_url()],
            "not-the-node-secret",
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !(intruder.log().contains("Node authentication failed")
        && topology.control_plane.log().contains("refused a node"))
    {
        assert!(
            Instant::now() < deadline,
            "no refusal logged:\n{}\n{}",
            intruder.log(),
            topology.control_plane.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = Gateway::of(&intruder)
        .get("/_health/ready", Anonymous)
        .await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    intruder.kill();

    // A hub that sends garbage: the gateway logs it, stays up, and keeps its real hub.
    let fake = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_url = format!("ws://{}", fake.local_addr().unwrap());
    tokio::spawn(async move {
        use futures_util::SinkExt;
        while let Ok((stream, _)) = fake.accept().await {
            if let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await {
                use tokio_tungstenite::tungstenite::Message;
                for junk in [
                    "not json",
                    "{\"v\":1,\"kind\":\"event\",\"envelope\":42}",
                    "{\"v\":99,\"kind\":\"hello\"}",
                    "{\"v\":1,\"kind\":\"decisions\",\"decisions\":\"x\"}",
                ] {
                    let _ = ws.send(Message::text(junk)).await;
                }
                let _ = ws
                    .send(Message::Binary(vec![0, 159, 146, 150].into()))
                    .await;
            }
        }
    });
    let offset = free_offsets(1)[0];
    let gateway = Node::start(
        Path::new(BIN),
        gateway_options(
            offset,
            topology.control_plane.offset,
            &[fake_url, topology.hub_url()],
            NODE_SECRET,
        ),
    )
    .await;
    let s = subscribed(&flow, &topology.backend, "GarbageApp", "Unlimited", None).await;
    on_all_gateways(
        std::slice::from_ref(&gateway),
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    assert!(
        gateway.log().contains("malformed hub frame ignored"),
        "{}",
        gateway.log()
    );
    assert!(!gateway.log().contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_over_tls_to_the_control_plane_and_the_hub() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let topology = Topology::start(false).await;
    let flow = Flow::login_with_scopes(&topology.control_plane, SCOPES).await;
    // The control plane's self-signed certificate is what the gateway trusts.
    let certificate = topology
        .control_plane
        .data_dir
        .path()
        .join("data/tls/cert.pem");
    let offset = free_offsets(1)[0];
    let cp = topology.control_plane.offset;
    let config = format!(
        "{}\n[truststore]\nfile_name = \"{}\"\ntype = \"PEM\"\n",
        event_hub_config(
            Some(&format!("https://localhost:{}", 9443 + cp)),
            &[format!("wss://localhost:{}", 9711 + cp)],
            NODE_SECRET
        ),
        certificate.display()
    );
    let gateway = Node::start(Path::new(BIN), options("gateway", offset, config)).await;
    let s = subscribed(&flow, &topology.backend, "TlsApp", "Unlimited", None).await;
    on_all_gateways(
        std::slice::from_ref(&gateway),
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    assert!(
        gateway.log().contains("connected to event hub"),
        "{}",
        gateway.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_traffic_managers_either_one_suffices() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dbs = PgDatabase::pair().await;
    let offsets = free_offsets(4);
    let bin = Path::new(BIN);
    let tm_config = format!(
        "{}{}",
        databases_config(&dbs),
        event_hub_config(None, &[], NODE_SECRET)
    );
    let mut first = Node::start(
        bin,
        options("traffic-manager", offsets[2], tm_config.clone()),
    )
    .await;
    let second = Node::start(bin, options("traffic-manager", offsets[3], tm_config)).await;
    let hubs = vec![first.hub_url(), second.hub_url()];
    let cp_config = format!(
        "{}{}",
        databases_config(&dbs),
        event_hub_config(None, &hubs, NODE_SECRET)
    );
    let control_plane = Node::start(bin, options("control-plane", offsets[0], cp_config)).await;
    let gateway = Node::start(
        bin,
        gateway_options(offsets[1], offsets[0], &hubs, NODE_SECRET),
    )
    .await;
    let gateways = std::slice::from_ref(&gateway);
    let backend = MockBackend::start().await;
    let flow = Flow::login_with_scopes(&control_plane, SCOPES).await;

    // Events arrive twice (once per hub) and are applied once.
    let s = subscribed(&flow, &backend, "TwoHubsApp", "Unlimited", None).await;
    on_all_gateways(
        gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    let seq = gateway_seq(&gateway).await;
    set_blocked(&flow, &s.subscription_id, true).await;
    on_all_gateways(
        gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::FORBIDDEN,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        gateway_seq(&gateway).await,
        seq + 1,
        "one change, applied once"
    );

    // With one traffic manager gone, the other carries the changes.
    first.kill();
    set_blocked(&flow, &s.subscription_id, false).await;
    let took = on_all_gateways(
        gateways,
        "/pizzashack/1.0.0/menu",
        &s.token,
        Method::GET,
        StatusCode::OK,
    )
    .await;
    eprintln!("change delivered by the remaining traffic manager after {took:?}");
}
