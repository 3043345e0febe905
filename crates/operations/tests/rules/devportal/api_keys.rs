//! `devportal::api_keys`: API keys are JWTs the resident key manager signs, naming the
//! application's current subscriptions; nothing is stored for one, and revoking one is an
//! event every gateway honours.

use tollgate_model::{ApiKeyClaims, GrantType, KeyType, SubscriptionStatus, API_KEY_NEVER_EXPIRES};
use tollgate_operations::devportal::api_keys::{generate, revoke, ApiKeyRequest};
use tollgate_operations::devportal::keys::{self, KeyRequest, TokenOrder};
use tollgate_operations::devportal::workflows::Approvals;
use tollgate_operations::publisher::subscriptions::set_subscription_state;
use tollgate_operations::OpResult;
use tollgate_store::ApplicationRow;
use tollgate_testbed::{Refused, TestBed};

use super::approving;

fn never_expiring() -> ApiKeyRequest {
    ApiKeyRequest::default()
}

/// A key of alice's application; its claims.
async fn key_of(bed: &TestBed, app: &ApplicationRow, key_type: KeyType) -> (String, ApiKeyClaims) {
    let issued = generate(
        bed.services(),
        &bed.user("alice"),
        &app.id,
        key_type,
        &never_expiring(),
    )
    .await
    .unwrap();
    let claims = bed
        .key_manager()
        .verify_api_key(&issued.api_key)
        .unwrap()
        .unwrap();
    (issued.api_key, claims)
}

/// Alice revokes `key` as a production key of `app`.
async fn revoking(bed: &TestBed, app: &ApplicationRow, key: &str) -> OpResult<()> {
    revoke(
        bed.services(),
        &bed.user("alice"),
        &app.id,
        KeyType::Production,
        key,
    )
    .await
}

#[tokio::test]
async fn api_keys_need_an_api_key_scope_and_ones_own_application() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let (key, _) = key_of(&bed, &app, KeyType::Production).await;
    bed.events().await;
    let services = bed.services();
    let creator = bed.user("creator");
    let request = never_expiring();
    generate(services, &creator, &app.id, KeyType::Production, &request)
        .await
        .forbidden();
    revoke(services, &creator, &app.id, KeyType::Production, &key)
        .await
        .forbidden();
    let bob = bed.user("bob");
    generate(services, &bob, &app.id, KeyType::Production, &request)
        .await
        .not_found();
    revoke(services, &bob, &app.id, KeyType::Production, &key)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let scoped = bed.with_scopes("alice", &["apim:api_key"]);
    generate(services, &scoped, &app.id, KeyType::Sandbox, &request)
        .await
        .unwrap();
    revoke(services, &scoped, &app.id, KeyType::Production, &key)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_key_names_the_application_and_its_subscriptions_and_writes_nothing() {
    let bed = TestBed::sqlite().await;
    let (pizza, pasta) = (
        bed.published_api("Pizza", "/pizza").await,
        bed.published_api("Pasta", "/pasta").await,
    );
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.subscribe(&alice, &app, &pizza, "Gold").await;
    let blocked = bed.subscribe(&alice, &app, &pasta, "Unlimited").await;
    set_subscription_state(
        bed.services(),
        &bed.user("publisher"),
        &blocked.subscription.id,
        SubscriptionStatus::Blocked,
    )
    .await
    .unwrap();
    bed.events().await;
    let (_, claims) = key_of(&bed, &app, KeyType::Sandbox).await;
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(
        (claims.keytype, claims.sub.as_str()),
        (KeyType::Sandbox, "alice")
    );
    assert_eq!(
        (
            claims.application.uuid.as_str(),
            claims.application.tier.as_str()
        ),
        (app.id.as_str(), "Unlimited")
    );
    assert_eq!(claims.exp, API_KEY_NEVER_EXPIRES);
    // A blocked subscription is named too: gateways check the state they hold.
    let mut named: Vec<_> = claims
        .subscribed_apis
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.context.as_str(),
                s.subscription_tier.as_str(),
            )
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        [
            ("Pasta", "/pasta/1.0.0", "Unlimited"),
            ("Pizza", "/pizza/1.0.0", "Gold")
        ]
    );
    let tiers: Vec<_> = claims.tier_info.keys().map(String::as_str).collect();
    assert_eq!(tiers, ["Gold", "Unlimited"]);
}

#[tokio::test]
async fn a_key_lives_as_long_as_asked_within_what_a_32_bit_number_holds() {
    let bed = TestBed::sqlite().await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let services = bed.services();
    let ask = |validity: Option<i64>| ApiKeyRequest {
        validity_period: validity,
        ..ApiKeyRequest::default()
    };
    for never in [None, Some(-1), Some(0)] {
        let issued = generate(services, &alice, &app.id, KeyType::Production, &ask(never))
            .await
            .unwrap();
        assert_eq!(issued.validity_time, -1);
    }
    let issued = generate(
        services,
        &alice,
        &app.id,
        KeyType::Production,
        &ask(Some(3600)),
    )
    .await
    .unwrap();
    assert_eq!(issued.validity_time, 3600);
    let claims = bed
        .key_manager()
        .verify_api_key(&issued.api_key)
        .unwrap()
        .unwrap();
    assert_eq!(claims.exp - claims.iat, 3600);
    for bad in [-2, i32::MAX as i64 + 1] {
        generate(
            services,
            &alice,
            &app.id,
            KeyType::Production,
            &ask(Some(bad)),
        )
        .await
        .invalid("validityPeriod");
    }
}

fn restricted(ip: &str, referer: &str) -> ApiKeyRequest {
    ApiKeyRequest {
        validity_period: None,
        permitted_ip: Some(ip.into()),
        permitted_referer: Some(referer.into()),
    }
}

/// Alice asks for a production key of `app`; its claims.
async fn asked(
    bed: &TestBed,
    app: &ApplicationRow,
    request: ApiKeyRequest,
) -> OpResult<ApiKeyClaims> {
    let alice = bed.user("alice");
    let issued = generate(
        bed.services(),
        &alice,
        &app.id,
        KeyType::Production,
        &request,
    )
    .await?;
    Ok(bed
        .key_manager()
        .verify_api_key(&issued.api_key)
        .unwrap()
        .unwrap())
}

#[tokio::test]
async fn a_permitted_address_or_referer_that_is_none_is_named() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    for ip in ["10.0.0.300", "10.0.0.0/33", "localhost"] {
        asked(&bed, &app, restricted(ip, ""))
            .await
            .invalid("additionalProperties.permittedIP");
    }
    let message = asked(&bed, &app, restricted("", "a b.com"))
        .await
        .invalid("additionalProperties.permittedReferer");
    assert!(message.contains("a b.com"), "{message}");
    let both = ApiKeyRequest {
        validity_period: Some(-5),
        ..restricted("nowhere", "")
    };
    asked(&bed, &app, both)
        .await
        .invalid_fields(&["validityPeriod", "additionalProperties.permittedIP"]);
    assert_eq!(bed.events().await, ["APPLICATION_CREATE"]);
}

#[tokio::test]
async fn permitted_addresses_and_referers_are_carried_in_the_key() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let claims = asked(&bed, &app, restricted(" 10.0.0.0/8, ::1 ", "*.example.com"))
        .await
        .unwrap();
    assert_eq!(
        (
            claims.permitted_ip.as_deref(),
            claims.permitted_referer.as_deref()
        ),
        (Some("10.0.0.0/8, ::1"), Some("*.example.com"))
    );
    // Blank restrictions are none.
    let claims = asked(&bed, &app, restricted(" ", "")).await.unwrap();
    assert_eq!(
        (claims.permitted_ip, claims.permitted_referer),
        (None, None)
    );
}

#[tokio::test]
async fn held_or_rejected_subscriptions_are_not_named() {
    let bed = approving(Approvals {
        subscription_creation: true,
        ..Approvals::default()
    })
    .await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let held = bed.subscribe(&alice, &app, &api, "Gold").await;
    assert_eq!(held.subscription.status, SubscriptionStatus::OnHold);
    let (_, claims) = key_of(&bed, &app, KeyType::Production).await;
    assert!(claims.subscribed_apis.is_empty(), "{claims:?}");
    assert!(claims.tier_info.is_empty(), "{claims:?}");
}

#[tokio::test]
async fn revoking_a_key_tells_gateways_once() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let (key, claims) = key_of(&bed, &app, KeyType::Production).await;
    bed.events().await;
    let alice = bed.user("alice");
    revoke(
        bed.services(),
        &alice,
        &app.id,
        KeyType::Production,
        &format!(" {key} "),
    )
    .await
    .unwrap();
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [tollgate_model::Event::TokenRevocation(t)] if t.jti == claims.jti),
        "{events:?}"
    );
    assert!(bed.store().is_revoked(&claims.jti).await.unwrap());
    revoke(bed.services(), &alice, &app.id, KeyType::Production, &key)
        .await
        .unwrap();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn only_a_key_of_this_application_and_key_type_is_revoked() {
    let bed = TestBed::sqlite().await;
    let alice = bed.user("alice");
    let (shop, other) = (
        bed.application(&alice, "Shop").await,
        bed.application(&alice, "Other").await,
    );
    let (others_key, _) = key_of(&bed, &other, KeyType::Production).await;
    let (sandbox_key, _) = key_of(&bed, &shop, KeyType::Sandbox).await;
    let request = KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]);
    let oauth = keys::generate(bed.services(), &alice, &shop.id, request)
        .await
        .unwrap();
    let access_token = keys::generate_token(
        bed.services(),
        &alice,
        &shop.id,
        &oauth.mapping.id,
        TokenOrder::default(),
        None,
    )
    .await
    .unwrap()
    .access_token;
    bed.events().await;
    let message = revoking(&bed, &shop, "  ").await.invalid("apikey");
    assert!(message.contains("required"), "{message}");
    for not_a_key in ["garbage", &access_token] {
        let message = revoking(&bed, &shop, not_a_key).await.invalid("apikey");
        assert!(message.contains("not an API key issued here"), "{message}");
    }
    for wrong in [others_key, sandbox_key] {
        let message = revoking(&bed, &shop, &wrong).await.invalid("apikey");
        assert!(
            message.contains("PRODUCTION API key of application Shop"),
            "{message}"
        );
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_expired_key_needs_no_revocation() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let (_, mut claims) = key_of(&bed, &app, KeyType::Production).await;
    // The same key, as it would be a day after it expired.
    claims.iat -= 2 * 86_400;
    claims.exp = claims.iat + 86_400;
    let expired = bed.key_manager().sign_api_key(&claims).unwrap();
    bed.events().await;
    revoke(
        bed.services(),
        &bed.user("alice"),
        &app.id,
        KeyType::Production,
        &expired,
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(!bed.store().is_revoked(&claims.jti).await.unwrap());
}
