//! `devportal::keys`: the OAuth keys of a consumer's applications — generated at the resident
//! key manager, or mapped from a client the caller proves they hold; read, changed, given a new
//! secret, a token, and removed. Gateways learn of each key set made or removed.

use serde_json::{json, Value};
use tollgate_keymanager::{AuthenticatedUser, ClientRegistration, KeyManagerError};
use tollgate_model::{
    Event, GrantType, KeyMappingMode, KeyType, TokenType, RESIDENT_KEY_MANAGER, SUPER_TENANT,
};
use tollgate_operations::devportal::applications::{self, ApplicationInput};
use tollgate_operations::devportal::keys::{
    clean_up, generate, generate_token, get, list, map, mapping_of_type, regenerate_secret, update,
    AppKey, KeyRequest, KeyUpdate, MapRequest, TokenOrder,
};
use tollgate_operations::key_managers::{self, KeyManagerInput};
use tollgate_operations::OpResult;
use tollgate_store::{ApplicationRow, ClientValidity};
use tollgate_testbed::{Refused, TestBed};

use super::{external_key_manager, token_endpoint};

fn production() -> KeyRequest {
    KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials])
}

/// Alice's application Shop with production keys.
async fn with_keys(bed: &TestBed) -> (ApplicationRow, AppKey) {
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let key = generate(bed.services(), &alice, &app.id, production())
        .await
        .unwrap();
    bed.events().await;
    (app, key)
}

fn map_request(consumer_key: &str, secret: &str, key_manager: Option<&str>) -> MapRequest {
    MapRequest {
        consumer_key: consumer_key.into(),
        consumer_secret: secret.into(),
        key_type: KeyType::Production,
        key_manager: key_manager.map(str::to_string),
    }
}

/// Alice's application mapped to the client `okta-client` of the external key manager Okta.
async fn with_external_keys(bed: &TestBed) -> (ApplicationRow, AppKey) {
    let endpoint = token_endpoint(200).await;
    external_key_manager(bed, "Okta", Some(&endpoint)).await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let request = map_request("okta-client", "okta-secret", Some("Okta"));
    let key = map(bed.services(), &alice, &app.id, request, None)
        .await
        .unwrap();
    bed.events().await;
    (app, key)
}

fn token(secret: Option<&str>) -> TokenOrder {
    TokenOrder {
        consumer_secret: secret.map(str::to_string),
        ..TokenOrder::default()
    }
}

async fn token_for(
    bed: &TestBed,
    app: &ApplicationRow,
    key: &AppKey,
    order: TokenOrder,
) -> OpResult<String> {
    generate_token(
        bed.services(),
        &bed.user("alice"),
        &app.id,
        &key.mapping.id,
        order,
        None,
    )
    .await
    .map(|t| t.access_token)
}

#[tokio::test]
async fn generated_keys_are_a_resident_client_gateways_learn_of() {
    let bed = TestBed::sqlite().await;
    let alice = bed.user("alice");
    let opaque = ApplicationInput {
        name: "Shop".into(),
        throttling_policy: "Unlimited".into(),
        token_type: Some("OAUTH".into()),
        ..ApplicationInput::default()
    };
    let app = applications::create(bed.services(), &alice, opaque)
        .await
        .unwrap();
    bed.events().await;
    let mut request = production();
    request.callback_url = Some("https://shop.example.com/cb".into());
    let key = generate(bed.services(), &alice, &app.id, request)
        .await
        .unwrap();
    assert!(key.secret.is_some());
    assert_eq!(key.mapping.mode, KeyMappingMode::Created);
    let client = &key.client;
    assert_eq!(
        (
            client.client_name.as_str(),
            client.owner.as_str(),
            client.token_type
        ),
        ("alice_Shop_PRODUCTION", "alice", TokenType::Oauth)
    );
    assert_eq!(
        (client.callback_url.as_str(), client.key_manager.as_str()),
        ("https://shop.example.com/cb", RESIDENT_KEY_MANAGER)
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::KeyMappingCreate(m)] if m.consumer_key == client.consumer_key),
        "{events:?}"
    );
    let listed = list(bed.services(), &alice, &app.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].mapping.id.as_str(), listed[0].secret.as_deref()),
        (key.mapping.id.as_str(), None)
    );
    let read = get(bed.services(), &alice, &app.id, &key.mapping.id)
        .await
        .unwrap();
    assert_eq!(read.client.consumer_key, client.consumer_key);
    let secret = key.secret.unwrap();
    bed.key_manager()
        .authenticate_client(&client.consumer_key, &secret, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn each_key_operation_needs_a_subscribe_scope_and_ones_own_application() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let services = bed.services();
    let creator = bed.user("creator");
    let bob = bed.user("bob");
    let id = key.mapping.id.as_str();
    let mapping = map_request(&key.client.consumer_key, "secret", None);
    generate(services, &creator, &app.id, production())
        .await
        .forbidden();
    map(services, &creator, &app.id, mapping.clone(), None)
        .await
        .forbidden();
    list(services, &creator, &app.id).await.forbidden();
    get(services, &creator, &app.id, id).await.forbidden();
    mapping_of_type(services, &creator, &app.id, KeyType::Production)
        .await
        .forbidden();
    update(services, &creator, &app.id, id, KeyUpdate::default())
        .await
        .forbidden();
    regenerate_secret(services, &creator, &app.id, id)
        .await
        .forbidden();
    generate_token(services, &creator, &app.id, id, token(None), None)
        .await
        .forbidden();
    clean_up(services, &creator, &app.id, id).await.forbidden();
    generate(services, &bob, &app.id, production())
        .await
        .not_found();
    map(services, &bob, &app.id, mapping, None)
        .await
        .not_found();
    list(services, &bob, &app.id).await.not_found();
    get(services, &bob, &app.id, id).await.not_found();
    mapping_of_type(services, &bob, &app.id, KeyType::Production)
        .await
        .not_found();
    update(services, &bob, &app.id, id, KeyUpdate::default())
        .await
        .not_found();
    regenerate_secret(services, &bob, &app.id, id)
        .await
        .not_found();
    generate_token(services, &bob, &app.id, id, token(None), None)
        .await
        .not_found();
    clean_up(services, &bob, &app.id, id).await.not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(
        list(services, &bed.user("alice"), &app.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_key_set_is_found_by_its_id_in_its_own_application_or_by_type_at_the_resident_key_manager(
) {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let other = bed.application(&alice, "Other").await;
    bed.events().await;
    let found = mapping_of_type(services, &alice, &app.id, KeyType::Production).await;
    assert_eq!(found.unwrap(), key.mapping.id);
    let message = mapping_of_type(services, &alice, &app.id, KeyType::Sandbox)
        .await
        .not_found();
    assert!(message.contains("SANDBOX"), "{message}");
    // The key set's id names it in its own application only.
    let message = get(services, &alice, &other.id, &key.mapping.id)
        .await
        .not_found();
    assert!(message.contains(&key.mapping.id), "{message}");
    get(services, &alice, &app.id, "no-such-key")
        .await
        .not_found();
    clean_up(services, &alice, &other.id, &key.mapping.id)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn keys_of_one_type_are_generated_once_per_key_manager() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let message = generate(services, &alice, &app.id, production())
        .await
        .conflict();
    assert!(
        message.contains("PRODUCTION keys are already generated"),
        "{message}"
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let listed = list(services, &alice, &app.id).await.unwrap();
    let keys: Vec<_> = listed
        .iter()
        .map(|k| k.client.consumer_key.as_str())
        .collect();
    assert_eq!(keys, [key.client.consumer_key.as_str()]);
    let sandbox = KeyRequest::new(KeyType::Sandbox, &[GrantType::ClientCredentials]);
    generate(services, &alice, &app.id, sandbox).await.unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_REGISTRATION_CREATE"]);
}

#[tokio::test]
async fn a_key_request_names_its_bad_field_and_writes_nothing() {
    let bed = TestBed::sqlite().await;
    external_key_manager(&bed, "Okta", None).await;
    let mut disabled = KeyManagerInput {
        name: "Legacy".into(),
        kind: "custom".into(),
        issuer: Some("https://legacy.example.com".into()),
        certificate_value: Some("https://legacy.example.com/jwks".into()),
        ..KeyManagerInput::default()
    };
    disabled.enabled = Some(false);
    key_managers::create(bed.services(), &bed.admin(), disabled)
        .await
        .unwrap();
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let refused = |request: KeyRequest| generate(bed.services(), &alice, &app.id, request);
    let none = KeyRequest::new(KeyType::Production, &[]);
    refused(none).await.invalid("grantTypesToBeSupported");
    let at = |km: &str| KeyRequest {
        key_manager: Some(km.into()),
        ..production()
    };
    let message = refused(at("Nope")).await.invalid("keyManager");
    assert!(message.contains("no key manager named 'Nope'"), "{message}");
    let message = refused(at("Legacy")).await.invalid("keyManager");
    assert!(message.contains("disabled"), "{message}");
    let message = refused(at("Okta")).await.invalid("keyManager");
    assert!(message.contains("map-keys"), "{message}");
    let with = |properties: Value| KeyRequest {
        additional_properties: Some(properties),
        ..production()
    };
    refused(with(json!(["3600"])))
        .await
        .invalid("additionalProperties");
    for bad in [
        json!(0),
        json!(-2),
        json!(365 * 86_400 + 1),
        json!("soon"),
        json!(true),
    ] {
        let properties = json!({"application_access_token_expiry_time": bad});
        refused(with(properties))
            .await
            .invalid("additionalProperties.application_access_token_expiry_time");
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(list(bed.services(), &alice, &app.id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn token_lifetimes_are_seconds_up_to_a_year_or_the_default() {
    let bed = TestBed::sqlite().await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let request = KeyRequest {
        additional_properties: Some(json!({
            "application_access_token_expiry_time": "600",
            "user_access_token_expiry_time": -1,
            "refresh_token_expiry_time": "N/A",
            "id_token_expiry_time": 365 * 86_400,
            "unrelated": "kept out",
        })),
        ..production()
    };
    let key = generate(bed.services(), &alice, &app.id, request)
        .await
        .unwrap();
    assert_eq!(
        key.client.validity,
        ClientValidity {
            application_access_token: Some(600),
            user_access_token: None,
            refresh_token: None,
            id_token: Some(365 * 86_400),
        }
    );
    let issued = token_for(&bed, &app, &key, token(None)).await.unwrap();
    let claims = bed.key_manager().verify(&issued).unwrap();
    assert_eq!(claims.exp - claims.iat, 600);
}

#[tokio::test]
async fn each_grant_type_is_kept_once() {
    let bed = TestBed::sqlite().await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let grants = [
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::ClientCredentials,
    ];
    let request = KeyRequest::new(KeyType::Production, &grants);
    let key = generate(bed.services(), &alice, &app.id, request)
        .await
        .unwrap();
    assert_eq!(
        key.client.grant_types,
        [GrantType::ClientCredentials, GrantType::Password]
    );
}

#[tokio::test]
async fn a_resident_client_is_mapped_by_whoever_proves_its_secret() {
    let bed = TestBed::sqlite().await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let user = AuthenticatedUser {
        tenant: SUPER_TENANT.into(),
        username: "alice".into(),
        roles: vec!["subscriber".into()],
    };
    let registration = ClientRegistration {
        client_name: "cli".into(),
        grant_types: Some("client_credentials".into()),
        ..ClientRegistration::default()
    };
    let registered = bed
        .key_manager()
        .register_client(&user, registration)
        .await
        .unwrap();
    let consumer_key = registered.client.consumer_key.clone();
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let wrong = map_request(&consumer_key, "not-the-secret", None);
    let message = map(services, &alice, &app.id, wrong, None)
        .await
        .invalid("consumerSecret");
    assert!(message.contains("do not match"), "{message}");
    let unknown = map_request("no-such-client", &registered.secret, Some("Default"));
    map(services, &alice, &app.id, unknown, None)
        .await
        .invalid("consumerSecret");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let right = map_request(&consumer_key, &registered.secret, None);
    let key = map(services, &alice, &app.id, right.clone(), None)
        .await
        .unwrap();
    assert_eq!(
        (key.mapping.mode, key.secret),
        (KeyMappingMode::Mapped, None)
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::KeyMappingCreate(m)] if m.consumer_key == consumer_key),
        "{events:?}"
    );
    // A client is one application's keys only.
    let other = bed.application(&alice, "Other").await;
    bed.events().await;
    let message = map(services, &alice, &other.id, right, None)
        .await
        .conflict();
    assert!(
        message.contains("mapped to an application already"),
        "{message}"
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_external_client_is_mapped_once_its_key_manager_grants_it_a_token() {
    let bed = TestBed::sqlite().await;
    let (refusing, failing) = (token_endpoint(401).await, token_endpoint(500).await);
    external_key_manager(&bed, "Refusing", Some(&refusing)).await;
    external_key_manager(&bed, "Failing", Some(&failing)).await;
    external_key_manager(&bed, "Bare", None).await;
    let (app, key) = with_external_keys(&bed).await;
    assert_eq!(
        (
            key.mapping.mode,
            key.client.key_manager.as_str(),
            key.client.consumer_secret.as_str()
        ),
        (KeyMappingMode::Mapped, "Okta", "")
    );
    let (services, alice) = (bed.services(), bed.user("alice"));
    let sandbox = |consumer_key: &str, km: &str| MapRequest {
        key_type: KeyType::Sandbox,
        ..map_request(consumer_key, "secret", Some(km))
    };
    map(services, &alice, &app.id, sandbox("c", "Refusing"), None)
        .await
        .invalid("consumerSecret");
    let err = map(services, &alice, &app.id, sandbox("c", "Failing"), None)
        .await
        .key_manager();
    assert!(matches!(err, KeyManagerError::Upstream(_)), "{err:?}");
    let message = map(services, &alice, &app.id, sandbox("c", "Bare"), None)
        .await
        .invalid("keyManager");
    assert!(message.contains("no tokenEndpoint"), "{message}");
    for bad in ["", "bad\nkey", &"k".repeat(256)] {
        map(services, &alice, &app.id, sandbox(bad, "Okta"), None)
            .await
            .invalid("consumerKey");
    }
    let message = map(
        services,
        &alice,
        &app.id,
        sandbox("okta-client", "Okta"),
        None,
    )
    .await
    .conflict();
    assert!(message.contains("okta-client"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    map(
        services,
        &alice,
        &app.id,
        sandbox("okta-sandbox", "Okta"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_REGISTRATION_CREATE"]);
}

#[tokio::test]
async fn an_application_has_one_key_set_of_a_type_per_key_manager_however_made() {
    let bed = TestBed::sqlite().await;
    let (app, _) = with_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let user = AuthenticatedUser {
        tenant: SUPER_TENANT.into(),
        username: "alice".into(),
        roles: vec!["subscriber".into()],
    };
    let registration = ClientRegistration {
        client_name: "cli".into(),
        ..ClientRegistration::default()
    };
    let registered = bed
        .key_manager()
        .register_client(&user, registration)
        .await
        .unwrap();
    let resident = map_request(&registered.client.consumer_key, &registered.secret, None);
    let message = map(services, &alice, &app.id, resident, None)
        .await
        .conflict();
    assert!(
        message.contains("PRODUCTION keys are already generated"),
        "{message}"
    );
    let endpoint = token_endpoint(200).await;
    external_key_manager(&bed, "Okta", Some(&endpoint)).await;
    bed.events().await;
    let first = map_request("okta-1", "secret", Some("Okta"));
    map(services, &alice, &app.id, first, None).await.unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_REGISTRATION_CREATE"]);
    let second = map_request("okta-2", "secret", Some("Okta"));
    map(services, &alice, &app.id, second, None)
        .await
        .conflict();
    // Refused whole: the client it would have recorded is not left behind.
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(bed.store().oauth_client("okta-2").await.unwrap().is_none());
    assert_eq!(list(services, &alice, &app.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn mapped_keys_are_listed_as_mapped() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_external_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let listed = list(services, &alice, &app.id).await.unwrap();
    assert_eq!(listed[0].mapping.mode, KeyMappingMode::Mapped);
    let read = get(services, &alice, &app.id, &key.mapping.id)
        .await
        .unwrap();
    assert_eq!(read.mapping.mode, KeyMappingMode::Mapped);
}

#[tokio::test]
async fn external_keys_are_changed_and_get_tokens_at_their_key_manager() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_external_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let id = key.mapping.id.as_str();
    let message = update(services, &alice, &app.id, id, KeyUpdate::default())
        .await
        .not_allowed();
    assert!(message.contains("'Okta'"), "{message}");
    regenerate_secret(services, &alice, &app.id, id)
        .await
        .not_allowed();
    token_for(&bed, &app, &key, token(None)).await.not_allowed();
    // Another key manager's keys are removed here like any others.
    assert_eq!(bed.events().await, Vec::<&str>::new());
    clean_up(services, &alice, &app.id, id).await.unwrap();
    assert_eq!(bed.events().await, ["REMOVE_APPLICATION_KEYMAPPING"]);
    let client = bed.store().oauth_client("okta-client").await.unwrap();
    assert!(client.is_none());
}

#[tokio::test]
async fn an_update_changes_grants_callback_and_lifetimes_and_a_refused_one_nothing() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let id = key.mapping.id.as_str();
    let change = |change: KeyUpdate| update(services, &alice, &app.id, id, change);
    change(KeyUpdate {
        grant_types: Some(vec![]),
        ..KeyUpdate::default()
    })
    .await
    .invalid("supportedGrantTypes");
    change(KeyUpdate {
        callback_url: Some("https://shop.example.com/\r\ncb".into()),
        ..KeyUpdate::default()
    })
    .await
    .invalid("callbackUrl");
    change(KeyUpdate {
        additional_properties: Some(json!({"refresh_token_expiry_time": 0})),
        ..KeyUpdate::default()
    })
    .await
    .invalid("additionalProperties.refresh_token_expiry_time");
    let stored = bed
        .store()
        .oauth_client(&key.client.consumer_key)
        .await
        .unwrap();
    assert_eq!(stored.unwrap().grant_types, [GrantType::ClientCredentials]);
    let changed = change(KeyUpdate {
        grant_types: Some(vec![GrantType::Password, GrantType::RefreshToken]),
        callback_url: Some("https://shop.example.com/cb".into()),
        additional_properties: Some(json!({"user_access_token_expiry_time": 900})),
    })
    .await
    .unwrap();
    // What gateways hold (the key mapping) did not change: no event.
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = bed
        .store()
        .oauth_client(&key.client.consumer_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.grant_types,
        [GrantType::Password, GrantType::RefreshToken]
    );
    assert_eq!(
        (
            stored.callback_url.as_str(),
            stored.validity.user_access_token
        ),
        ("https://shop.example.com/cb", Some(900))
    );
    assert_eq!(changed.client.grant_types, stored.grant_types);
    // What a change leaves out stays.
    let kept = change(KeyUpdate::default()).await.unwrap();
    assert_eq!(kept.client.callback_url, "https://shop.example.com/cb");
}

#[tokio::test]
async fn a_new_secret_replaces_the_old_one_and_gateways_refuse_earlier_tokens() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let earlier = token_for(&bed, &app, &key, token(None)).await.unwrap();
    let (consumer_key, secret) =
        regenerate_secret(bed.services(), &bed.user("alice"), &app.id, &key.mapping.id)
            .await
            .unwrap();
    assert_eq!(consumer_key, key.client.consumer_key);
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::ConsumerKeyRevocation(r)] if r.consumer_key == consumer_key),
        "{events:?}"
    );
    let km = bed.key_manager();
    let old = key.secret.as_deref().unwrap();
    let refused = km.authenticate_client(&consumer_key, old, None).await;
    assert!(
        matches!(refused, Err(KeyManagerError::InvalidClient)),
        "{refused:?}"
    );
    km.authenticate_client(&consumer_key, &secret, None)
        .await
        .unwrap();
    assert!(km.introspect(&earlier).await.unwrap().is_none());
}

#[tokio::test]
async fn a_token_is_issued_for_the_client_credentials_grant() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let order = TokenOrder {
        consumer_secret: key.secret.clone(),
        validity_period: Some(600),
        scopes: vec!["default".into()],
        grant_type: Some(GrantType::ClientCredentials),
        revoke_token: None,
    };
    let alice = bed.user("alice");
    let issued = generate_token(
        bed.services(),
        &alice,
        &app.id,
        &key.mapping.id,
        order,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (issued.expires_in, issued.scopes),
        (600, vec!["default".to_string()])
    );
    let claims = bed.key_manager().verify(&issued.access_token).unwrap();
    assert_eq!(
        (claims.azp, claims.sub),
        (key.client.consumer_key.clone(), "alice".into())
    );
    // The default lifetime, without a secret (the owner is signed in) or with an empty one.
    let default_validity = TokenOrder {
        validity_period: Some(-1),
        ..token(None)
    };
    for order in [token(None), token(Some("")), default_validity] {
        let access = token_for(&bed, &app, &key, order).await.unwrap();
        let claims = bed.key_manager().verify(&access).unwrap();
        assert_eq!(claims.exp - claims.iat, 3600);
    }
    // Issuing tokens is no change gateways hear of.
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_token_request_names_its_bad_field() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let message = token_for(&bed, &app, &key, token(Some("wrong")))
        .await
        .invalid("consumerSecret");
    assert!(message.contains("does not match"), "{message}");
    let password = TokenOrder {
        grant_type: Some(GrantType::Password),
        ..token(None)
    };
    let message = token_for(&bed, &app, &key, password)
        .await
        .invalid("grantType");
    assert!(message.contains("CLIENT_CREDENTIALS"), "{message}");
    // Below -1, or above the key manager's longest lifetime.
    for validity in [-2, 365 * 86_400 + 1] {
        let order = TokenOrder {
            validity_period: Some(validity),
            ..token(None)
        };
        token_for(&bed, &app, &key, order)
            .await
            .invalid("validityPeriod");
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn keys_without_the_client_credentials_grant_get_no_token_here() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let change = KeyUpdate {
        grant_types: Some(vec![GrantType::Password]),
        ..KeyUpdate::default()
    };
    update(
        bed.services(),
        &bed.user("alice"),
        &app.id,
        &key.mapping.id,
        change,
    )
    .await
    .unwrap();
    let message = token_for(&bed, &app, &key, token(None)).await.not_allowed();
    assert!(message.contains("client_credentials"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_token_to_revoke_first_is_revoked_and_gateways_learn_it() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let previous = token_for(&bed, &app, &key, token(None)).await.unwrap();
    for bad in ["tok\nen".to_string(), "t".repeat(8193)] {
        let order = TokenOrder {
            revoke_token: Some(bad),
            ..token(None)
        };
        token_for(&bed, &app, &key, order)
            .await
            .invalid("revokeToken");
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    // Not a token of these keys: ignored, as RFC 7009 says.
    let order = TokenOrder {
        revoke_token: Some("not-a-token".into()),
        ..token(None)
    };
    token_for(&bed, &app, &key, order).await.unwrap();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let order = TokenOrder {
        revoke_token: Some(previous.clone()),
        ..token(None)
    };
    let next = token_for(&bed, &app, &key, order).await.unwrap();
    assert_eq!(bed.events().await, ["TOKEN_REVOCATION"]);
    let km = bed.key_manager();
    assert!(km.introspect(&previous).await.unwrap().is_none());
    assert!(km.introspect(&next).await.unwrap().is_some());
}

#[tokio::test]
async fn a_refused_token_request_revokes_nothing() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let previous = token_for(&bed, &app, &key, token(None)).await.unwrap();
    let order = TokenOrder {
        revoke_token: Some(previous.clone()),
        validity_period: Some(365 * 86_400 + 1),
        ..token(None)
    };
    token_for(&bed, &app, &key, order)
        .await
        .invalid("validityPeriod");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(bed
        .key_manager()
        .introspect(&previous)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn cleaning_up_removes_the_client_and_gateways_forget_the_consumer_key() {
    let bed = TestBed::sqlite().await;
    let (app, key) = with_keys(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    clean_up(services, &alice, &app.id, &key.mapping.id)
        .await
        .unwrap();
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::KeyMappingRemove { consumer_key }] if *consumer_key == key.client.consumer_key),
        "{events:?}"
    );
    let store = bed.store();
    assert!(store
        .oauth_client(&key.client.consumer_key)
        .await
        .unwrap()
        .is_none());
    get(services, &alice, &app.id, &key.mapping.id)
        .await
        .not_found();
    clean_up(services, &alice, &app.id, &key.mapping.id)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    // The key type is free again.
    generate(services, &alice, &app.id, production())
        .await
        .unwrap();
}
