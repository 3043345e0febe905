//! Micro-benchmarks of the request path's pieces (divan): route lookup among 10,000 APIs, the
//! JWT check cold and cached, and the throttle check with its hit. Run: `cargo bench -p tollgate-gateway`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

mod fixture;

use std::sync::Arc;

use http::{HeaderMap, Method};
use tollgate_gateway::{phases, Gateway, RuntimeState};
use tollgate_model::PolicyLevel;

const APIS: usize = 10_000;

fn main() {
    divan::main();
}

struct Fixture {
    gateway: Arc<Gateway>,
    /// 10,000 APIs and, for the rebuild benchmarks, 100,000 subscriptions.
    data: tollgate_model::RuntimeData,
    state: RuntimeState,
    headers: HeaderMap,
    token: String,
}

fn fixture() -> Fixture {
    let fixture::Fixture {
        data,
        headers,
        token,
        ..
    } = fixture::fixture(APIS, 5000, "http://127.0.0.1:9/b");
    let state = RuntimeState::build(&data);
    let mut data = data;
    for app in 0..10_000 {
        for k in 0..10 {
            data.apply(&subscription(app, k));
        }
    }
    Fixture {
        gateway: Gateway::new(),
        data,
        state,
        headers,
        token,
    }
}

thread_local!(static FIXTURE: Fixture = fixture());

#[divan::bench]
fn route_lookup_among_10k_apis() -> bool {
    FIXTURE.with(|f| {
        let (route, rest) = f
            .state
            .route(divan::black_box("/shop7777/1.0.0/items/42"))
            .expect("route");
        route.operation(&http::Method::GET, rest).is_ok()
    })
}

#[divan::bench]
fn jwt_check_cold() -> bool {
    FIXTURE.with(|f| phases::verify_token(&f.state, divan::black_box(&f.token)).is_ok())
}

/// What a cold check spends to choose the issuer: the `iss` read before verification.
#[divan::bench]
fn jwt_issuer_peek() -> bool {
    FIXTURE.with(|f| tollgate_jwt::unverified_issuer(divan::black_box(&f.token)).is_ok())
}

/// The whole policy chain with a warm token cache: route, token (cached), subscription, throttle
/// check and the hit.
#[divan::bench]
fn full_chain_cached() -> bool {
    FIXTURE.with(|f| {
        phases::admit(
            &f.gateway,
            &f.state,
            &Method::GET,
            divan::black_box("/shop5000/1.0.0/items"),
            &phases::RequestView {
                headers: &f.headers,
                query: None,
                client: None,
                host: Some("localhost:8280"),
            },
        )
        .is_ok()
    })
}

/// A request's ids when the client sent none: a trace id and a parent id drawn, formatted into
/// `traceparent` and, in UUID form, `activityid`.
#[divan::bench]
fn request_ids_generated() -> http::HeaderValue {
    phases::request_id::request_ids(divan::black_box(&HeaderMap::new())).activity_id
}

/// Recording one request hit (the request event) in the striped counter.
#[divan::bench]
fn request_hit_record(bencher: divan::Bencher) {
    let hits = FIXTURE.with(|f| f.gateway.hits());
    let (key, policy): (Arc<str>, Arc<str>) = ("sub:app:api-5000".into(), "Gold".into());
    let hit = tollgate_gateway::hits::Hit {
        key: &key,
        level: PolicyLevel::Subscription,
        policy: &policy,
        window_start: 0,
    };
    bencher.bench_local(|| hits.record(divan::black_box(hit)));
}

/// Taking a batch of hits and serialising it as the hub's wire frame (the reporter's work per flush).
#[divan::bench]
fn request_hits_batch_to_frame(bencher: divan::Bencher) {
    let hits = FIXTURE.with(|f| f.gateway.hits());
    let keys: Vec<Arc<str>> = (0..100)
        .map(|i| format!("sub:app:api-{i}").into())
        .collect();
    let policy: Arc<str> = "Gold".into();
    bencher.bench_local(|| {
        for key in &keys {
            hits.record(tollgate_gateway::hits::Hit {
                key,
                level: PolicyLevel::Subscription,
                policy: &policy,
                window_start: 0,
            });
        }
        let frame = tollgate_model::wire::Frame::new(tollgate_model::wire::FrameBody::Hits {
            gateway: String::new(),
            hits: hits.take(),
        });
        serde_json::to_string(&frame).map(|s| s.len()).unwrap_or(0)
    });
}

fn subscription(app: usize, k: usize) -> tollgate_model::Event {
    tollgate_model::Event::SubscriptionCreate(tollgate_model::Subscription {
        id: format!("sub-{app}-{k}"),
        tenant: "carbon.super".into(),
        application_id: format!("app-{app}"),
        api_id: format!("api-{}", (app * 7 + k * 1000) % APIS),
        throttling_policy: "Gold".into(),
        status: tollgate_model::SubscriptionStatus::Unblocked,
    })
}

/// A gateway holding 10,000 APIs and 100,000 subscriptions builds its runtime state from scratch
/// (start-up, reload).
#[divan::bench(sample_count = 5)]
fn state_build_10k_apis_100k_subscriptions() -> usize {
    FIXTURE.with(|f| RuntimeState::build(&f.data).api_count())
}

/// The same gateway after one new subscription, built again as the synchronizer does: only the
/// touched application's subscriptions (what every control-plane change costs a gateway, off the
/// path; the bound is 5 ms).
#[divan::bench(sample_count = 5)]
fn state_update_after_one_subscription_10k_apis_100k_subscriptions(bencher: divan::Bencher) {
    FIXTURE.with(|f| {
        let previous = RuntimeState::build(&f.data);
        let mut data = f.data.clone();
        let event = subscription(10_000, 0);
        data.apply(&event);
        let mut changes = tollgate_gateway::Changes::default();
        changes.note(&event);
        bencher.bench_local(|| {
            RuntimeState::update(&data, Some(&previous), Default::default(), &changes).api_count()
        });
    });
}

/// The same gateway after one API is deployed again: the routes are built again, reusing every
/// unchanged API's.
#[divan::bench(sample_count = 5)]
fn state_update_after_one_api_10k_apis_100k_subscriptions(bencher: divan::Bencher) {
    FIXTURE.with(|f| {
        let previous = RuntimeState::build(&f.data);
        let mut data = f.data.clone();
        let mut api = data.apis.values().next().cloned().expect("an API");
        api.revision_id = "another".into();
        let event = tollgate_model::Event::ApiDeploy(tollgate_model::DeployedApi {
            environment: "Default".into(),
            api,
        });
        data.apply(&event);
        let mut changes = tollgate_gateway::Changes::default();
        changes.note(&event);
        bencher.bench_local(|| {
            RuntimeState::update(&data, Some(&previous), Default::default(), &changes).api_count()
        });
    });
}
