//! `devportal::invocation`: ready-made `curl` commands for a subscription — a token request per
//! key set (at the key manager that holds it), then each operation of the API with the
//! credentials its gateway takes.

use serde_json::{json, Value};
use tollgate_model::{GrantType, KeyType, LifecycleAction};
use tollgate_operations::devportal::invocation::{invocation, Command, Invocation};
use tollgate_operations::devportal::keys::{self, KeyRequest, MapRequest};
use tollgate_operations::key_managers::{self, KeyManagerInput};
use tollgate_operations::{OpError, OpResult};
use tollgate_store::{ApiRow, ApplicationRow};
use tollgate_testbed::TestBed;

use super::{external_key_manager, token_endpoint};

fn refusal<T>(result: OpResult<T>) -> OpError {
    match result {
        Err(err) => err,
        Ok(_) => panic!("expected a refusal, got a result"),
    }
}

/// Alice's application Shop subscribed to `api`; the subscription's id.
async fn subscribed(bed: &TestBed, api: &ApiRow) -> (ApplicationRow, String) {
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let id = bed
        .subscribe(&alice, &app, api, "Gold")
        .await
        .subscription
        .id;
    (app, id)
}

async fn with_keys(bed: &TestBed, app: &ApplicationRow, key_type: KeyType) -> String {
    let request = KeyRequest::new(key_type, &[GrantType::ClientCredentials]);
    let key = keys::generate(bed.services(), &bed.user("alice"), &app.id, request)
        .await
        .unwrap();
    key.client.consumer_key
}

async fn commands(bed: &TestBed, subscription_id: &str) -> Vec<Command> {
    invocation(bed.services(), &bed.user("alice"), subscription_id)
        .await
        .unwrap()
        .commands
}

/// Each command as (name, curl).
fn curls(commands: &[Command]) -> Vec<(&str, &str)> {
    commands
        .iter()
        .map(|c| (c.name.as_str(), c.curl.as_str()))
        .collect()
}

fn token_command(token_url: &str, consumer_key: &str) -> String {
    format!(
        "curl -k -X POST '{token_url}' -u \"{consumer_key}:${{CONSUMER_SECRET}}\" -d 'grant_type=client_credentials'"
    )
}

/// An API created from `extra`, deployed and published by the admin.
async fn published_with(bed: &TestBed, name: &str, context: &str, extra: Value) -> ApiRow {
    let api = bed.api_as(&bed.admin(), name, context, extra).await;
    bed.deploy(&api).await;
    bed.lifecycle(&api, LifecycleAction::Publish).await;
    api
}

#[tokio::test]
async fn only_the_subscriber_gets_the_commands_of_a_subscription() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (_, id) = subscribed(&bed, &api).await;
    let services = bed.services();
    let refused = refusal(invocation(services, &bed.user("bob"), &id).await);
    assert!(matches!(refused, OpError::NotFound(_)), "{refused:?}");
    let refused = refusal(invocation(services, &bed.user("creator"), &id).await);
    assert!(matches!(refused, OpError::Forbidden(_)), "{refused:?}");
    let refused = refusal(invocation(services, &bed.user("alice"), "no-such-subscription").await);
    assert!(matches!(refused, OpError::NotFound(_)), "{refused:?}");
}

#[tokio::test]
async fn a_token_per_key_set_then_each_operation_with_the_token() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (app, id) = subscribed(&bed, &api).await;
    let production = with_keys(&bed, &app, KeyType::Production).await;
    let sandbox = with_keys(&bed, &app, KeyType::Sandbox).await;
    let Invocation {
        subscription,
        urls,
        keys,
        commands,
    } = invocation(bed.services(), &bed.user("alice"), &id)
        .await
        .unwrap();
    assert_eq!(subscription.subscription.id, id);
    assert_eq!((urls.len(), keys.len()), (1, 2));
    let token_url = "https://localhost:9443/oauth2/token";
    let (get, post) = (
        r#"curl -k -X GET "https://localhost:8243/pizza/1.0.0/menu" -H "Authorization: Bearer ${ACCESS_TOKEN}""#,
        r#"curl -k -X POST "https://localhost:8243/pizza/1.0.0/order" -H "Authorization: Bearer ${ACCESS_TOKEN}" -H 'Content-Type: application/json' -d @body.json"#,
    );
    let (for_production, for_sandbox) = (
        token_command(token_url, &production),
        token_command(token_url, &sandbox),
    );
    assert_eq!(
        curls(&commands),
        [
            ("token", for_production.as_str()),
            ("token", for_sandbox.as_str()),
            ("GET /menu", get),
            ("POST /order", post),
        ]
    );
    let key_types: Vec<_> = commands.iter().map(|c| c.key_type).collect();
    assert_eq!(
        key_types,
        [
            Some(KeyType::Production),
            Some(KeyType::Sandbox),
            None,
            None
        ]
    );
}

#[tokio::test]
async fn an_api_taking_api_keys_gets_a_command_per_credential_and_an_open_operation_one() {
    let bed = TestBed::sqlite().await;
    let extra = json!({
        "securityScheme": ["oauth2", "api_key"],
        "authorizationHeader": "X-Token",
        "operations": [
            {"target": "/health", "verb": "GET", "authType": "None"},
            {"target": "/order/{orderId}", "verb": "PUT"},
        ],
    });
    let api = published_with(&bed, "Pizza", "/pizza", extra).await;
    let (_, id) = subscribed(&bed, &api).await;
    let url = "https://localhost:8243/pizza/1.0.0";
    let put = format!("curl -k -X PUT \"{url}/order/${{orderId}}\"");
    let body = "-H 'Content-Type: application/json' -d @body.json";
    let with_token = format!("{put} -H \"x-token: Bearer ${{ACCESS_TOKEN}}\" {body}");
    let with_key = format!("{put} -H \"apikey: ${{API_KEY}}\" {body}");
    let open = format!("curl -k -X GET \"{url}/health\"");
    // No keys yet: no token request.
    assert_eq!(
        curls(&commands(&bed, &id).await),
        [
            ("GET /health", open.as_str()),
            ("PUT /order/{orderId}", with_token.as_str()),
            ("PUT /order/{orderId}", with_key.as_str()),
        ]
    );
}

#[tokio::test]
async fn an_api_taking_only_api_keys_needs_no_token() {
    let bed = TestBed::sqlite().await;
    let extra = json!({"securityScheme": ["api_key"], "apiKeyHeader": "X-Api-Key"});
    let api = published_with(&bed, "Pizza", "/pizza", extra).await;
    let (app, id) = subscribed(&bed, &api).await;
    with_keys(&bed, &app, KeyType::Production).await;
    let get =
        r#"curl -k -X GET "https://localhost:8243/pizza/1.0.0/menu" -H "x-api-key: ${API_KEY}""#;
    let listed = commands(&bed, &id).await;
    assert_eq!(curls(&listed)[0], ("GET /menu", get));
    assert!(listed.iter().all(|c| c.name != "token"), "{listed:?}");
    assert_eq!(listed.len(), 2);
}

#[tokio::test]
async fn an_api_deployed_nowhere_gets_token_requests_only() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    bed.lifecycle(&api, LifecycleAction::Publish).await;
    let (app, id) = subscribed(&bed, &api).await;
    let production = with_keys(&bed, &app, KeyType::Production).await;
    let found = invocation(bed.services(), &bed.user("alice"), &id)
        .await
        .unwrap();
    assert!(found.urls.is_empty());
    let token = token_command("https://localhost:9443/oauth2/token", &production);
    assert_eq!(curls(&found.commands), [("token", token.as_str())]);
}

#[tokio::test]
async fn external_keys_get_a_token_at_their_key_manager_when_it_names_a_token_endpoint() {
    let bed = TestBed::sqlite().await;
    let endpoint = token_endpoint(200).await;
    let okta = external_key_manager(&bed, "Okta", Some(&endpoint)).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (app, id) = subscribed(&bed, &api).await;
    let request = MapRequest {
        consumer_key: "okta-client".into(),
        consumer_secret: "okta-secret".into(),
        key_type: KeyType::Production,
        key_manager: Some("Okta".into()),
    };
    keys::map(bed.services(), &bed.user("alice"), &app.id, request, None)
        .await
        .unwrap();
    let listed = commands(&bed, &id).await;
    assert_eq!(
        curls(&listed)[0],
        ("token", token_command(&endpoint, "okta-client").as_str())
    );
    // Without a token endpoint there is nothing to show for these keys.
    let issuer = "https://okta.example.com".to_string();
    let without_endpoint = KeyManagerInput {
        name: "Okta".into(),
        kind: "custom".into(),
        certificate_value: Some(format!("{issuer}/jwks")),
        issuer: Some(issuer),
        ..KeyManagerInput::default()
    };
    key_managers::update(bed.services(), &bed.admin(), &okta.id, without_endpoint)
        .await
        .unwrap();
    let listed = commands(&bed, &id).await;
    assert!(listed.iter().all(|c| c.name != "token"), "{listed:?}");
    assert_eq!(listed.len(), 2);
}
