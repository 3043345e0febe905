//! Micro-benchmarks of the request path's pieces (divan): route lookup among 10,000 APIs, the
//! JWT check cold and cached, and the throttle check with its hit. Run: `cargo bench -p tollgate-gateway`.

use std::sync::Arc;

use base64::Engine;
use http::{HeaderMap, HeaderValue, Method};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use tollgate_gateway::{handler, Gateway, RuntimeState};
use tollgate_model::{
    Application, DeployedApi, Endpoints, Event, KeyMapping, KeyType, Operation, PolicyLevel,
    RuntimeApi, RuntimeData, SigningKey, Subscription, ThrottlePolicy,
};

const APIS: usize = 10_000;
const ISSUER: &str = "https://localhost:9443/oauth2/token";

fn main() {
    divan::main();
}

struct Fixture {
    gateway: Arc<Gateway>,
    state: RuntimeState,
    headers: HeaderMap,
    token: String,
}

fn fixture() -> Fixture {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut data = RuntimeData::new(vec!["Default".into()]);
    data.apply(&Event::KeyRotation(SigningKey {
        kid: "k1".into(),
        alg: "RS256".into(),
        n: b64.encode(key.n().to_bytes_be()),
        e: b64.encode(key.e().to_bytes_be()),
        issuer: ISSUER.into(),
    }));
    data.apply(&Event::PolicyUpdate(ThrottlePolicy {
        id: "p".into(),
        tenant: "carbon.super".into(),
        level: PolicyLevel::Subscription,
        name: "Gold".into(),
        display_name: "Gold".into(),
        description: String::new(),
        request_count: Some(1_000_000_000),
        unit_time: 1,
        time_unit: "min".into(),
    }));
    for i in 0..APIS {
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Default".into(),
            api: RuntimeApi {
                id: format!("api-{i}"),
                tenant: "carbon.super".into(),
                name: format!("Api{i}"),
                version: "1.0.0".into(),
                context: format!("/shop{i}"),
                provider: "admin".into(),
                lifecycle_status: "PUBLISHED".into(),
                revision_id: "r".into(),
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
                        verb: "GET".into(),
                        target: "/items/{id}".into(),
                        auth_type: "Any".into(),
                        throttling_policy: None,
                        scopes: vec![],
                    },
                ],
                endpoints: Endpoints {
                    production: Some("http://127.0.0.1:9/b".into()),
                    sandbox: None,
                },
            },
        }));
    }
    data.apply(&Event::ApplicationCreate(Application {
        id: "app".into(),
        tenant: "carbon.super".into(),
        name: "App".into(),
        owner: "u".into(),
        throttling_policy: "Unlimited".into(),
        status: "APPROVED".into(),
    }));
    data.apply(&Event::KeyMappingCreate(KeyMapping {
        id: "km".into(),
        application_id: "app".into(),
        consumer_key: "ck".into(),
        key_type: KeyType::Production,
        key_manager: "Resident Key Manager".into(),
    }));
    data.apply(&Event::SubscriptionCreate(Subscription {
        id: "s".into(),
        tenant: "carbon.super".into(),
        application_id: "app".into(),
        api_id: "api-5000".into(),
        throttling_policy: "Gold".into(),
        status: "UNBLOCKED".into(),
    }));
    let now = tollgate_model::now_millis() / 1000;
    let claims = serde_json::json!({"sub": "u", "azp": "ck", "scope": "default", "iss": ISSUER, "exp": now + 3600, "iat": now, "jti": "j1"});
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let der = key.to_pkcs1_der().expect("der");
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(der.as_bytes()))
        .expect("token");
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    Fixture {
        gateway: Gateway::new(),
        state: RuntimeState::build(&data),
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
        route.operation("GET", rest).is_some()
    })
}

#[divan::bench]
fn jwt_check_cold() -> bool {
    FIXTURE.with(|f| handler::verify_token(&f.state, divan::black_box(&f.token)).is_ok())
}

/// The whole policy chain with a warm token cache: route, token (cached), subscription, throttle
/// check and the hit.
#[divan::bench]
fn full_chain_cached() -> bool {
    FIXTURE.with(|f| {
        handler::admit(
            &f.gateway,
            &f.state,
            &Method::GET,
            divan::black_box("/shop5000/1.0.0/items"),
            &f.headers,
        )
        .is_ok()
    })
}

/// Recording one request hit (the request event) in the striped counter.
#[divan::bench]
fn request_hit_record(bencher: divan::Bencher) {
    let hits = FIXTURE.with(|f| f.gateway.hits());
    let hit = tollgate_gateway::hits::Hit {
        key: "sub:app:api-5000".into(),
        level: PolicyLevel::Subscription,
        policy: "Gold".into(),
        window_start: 0,
    };
    bencher.bench_local(|| hits.record(divan::black_box(&hit)));
}

/// Taking a batch of hits and serialising it as the hub's wire frame (the reporter's work per flush).
#[divan::bench]
fn request_hits_batch_to_frame(bencher: divan::Bencher) {
    let hits = FIXTURE.with(|f| f.gateway.hits());
    bencher.bench_local(|| {
        for i in 0..100 {
            hits.record(&tollgate_gateway::hits::Hit {
                key: format!("sub:app:api-{i}").into(),
                level: PolicyLevel::Subscription,
                policy: "Gold".into(),
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
