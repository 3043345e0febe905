//! `key_managers`: the resident key manager and external ones, who may see and change them,
//! what makes one valid, when one may go, discovery, and what gateways learn of each change.

use serde_json::json;
use tollgate_model::{Event, RESIDENT_KEY_MANAGER};
use tollgate_operations::devportal::keys::{self, MapRequest};
use tollgate_operations::key_managers::{
    by_name, create, delete, discover, get, list, list_managed, resident_id, update,
    KeyManagerInput,
};
use tollgate_operations::OpResult;
use tollgate_store::KeyManagerRow;
use tollgate_testbed::stub::{serve, Answer};
use tollgate_testbed::{Refused, TestBed, ISSUER};

/// An external key manager of type `custom` whose keys are at `{issuer}/jwks`.
fn key_manager(name: &str, issuer: &str) -> KeyManagerInput {
    KeyManagerInput {
        name: name.into(),
        kind: "custom".into(),
        issuer: Some(issuer.into()),
        certificate_value: Some(format!("{issuer}/jwks")),
        ..KeyManagerInput::default()
    }
}

/// The admin adds [`key_manager`]`(name, issuer)`.
async fn add(bed: &TestBed, name: &str, issuer: &str) -> OpResult<KeyManagerRow> {
    create(bed.services(), &bed.admin(), key_manager(name, issuer)).await
}

/// An authorization server on loopback answering every request with `status` and the JSON
/// `body` (status 0: hanging up without an answer); its base URL.
async fn stub_server(status: u16, body: String) -> String {
    let answer = match status {
        0 => Answer::silence(),
        status => Answer {
            content_type: Some("application/json"),
            ..Answer::status(status, body)
        },
    };
    serve(answer).await
}

#[tokio::test]
async fn key_managers_are_seen_by_portal_users_and_changed_by_key_administrators_only() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let okta = add(&bed, "Okta", "https://okta.example.com").await.unwrap();
    bed.events().await;
    // Portal users choose one for keys or APIs, without seeing its whole configuration.
    for who in [bed.user("alice"), bed.user("creator")] {
        assert_eq!(list(services, &who).await.unwrap().len(), 2);
        list_managed(services, &who).await.forbidden();
        get(services, &who, &okta.id).await.forbidden();
    }
    list(services, &bed.with_scopes("nobody", &[]))
        .await
        .forbidden();
    // Admin operations may read them all, but change none.
    let operations = bed.with_scopes("ops", &["apim:admin_operations"]);
    assert_eq!(list_managed(services, &operations).await.unwrap().len(), 2);
    get(services, &operations, &okta.id).await.unwrap();
    for who in [operations, bed.user("publisher")] {
        create(
            services,
            &who,
            key_manager("Auth0", "https://auth0.example.com"),
        )
        .await
        .forbidden();
        update(
            services,
            &who,
            &okta.id,
            key_manager("Okta", "https://okta.example.com"),
        )
        .await
        .forbidden();
        delete(services, &who, &okta.id).await.forbidden();
    }
    discover(
        services,
        &bed.user("alice"),
        "https://okta.example.com/.well-known",
        "Okta",
    )
    .await
    .forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let keys = bed.with_scopes("keys", &["apim:keymanagers_manage"]);
    delete(services, &keys, &okta.id).await.unwrap();
    assert_eq!(bed.events().await, ["KEY_MANAGER_CONFIGURATION_DELETE"]);
}

#[tokio::test]
async fn the_resident_key_manager_comes_first_and_is_not_changed_here() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let all = list(services, &admin).await.unwrap();
    assert_eq!(all.len(), 1);
    let resident = &all[0];
    assert_eq!(
        (
            resident.id.clone(),
            resident.name.as_str(),
            resident.issuer.as_str()
        ),
        (resident_id(), RESIDENT_KEY_MANAGER, ISSUER)
    );
    assert_eq!(
        &get(services, &admin, &resident_id()).await.unwrap(),
        resident
    );
    for name in ["", "Default", RESIDENT_KEY_MANAGER] {
        let found = by_name(services, &admin.tenant, name).await.unwrap();
        assert_eq!(found.map(|km| km.id), Some(resident_id()), "{name}");
    }
    assert_eq!(
        by_name(services, &admin.tenant, "Okta").await.unwrap(),
        None
    );
    let message = update(
        services,
        &admin,
        &resident_id(),
        key_manager("Okta", "https://okta.example.com"),
    )
    .await
    .not_allowed();
    assert!(message.contains("deployment.toml"), "{message}");
    delete(services, &admin, &resident_id()).await.not_allowed();
    get(services, &admin, "no-such-key-manager")
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_new_key_manager_is_stored_and_gateways_start_trusting_its_issuer() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let mut input = key_manager("  Okta ", "https://okta.example.com");
    input.endpoints = vec![
        (
            "tokenEndpoint".into(),
            "https://okta.example.com/token".into(),
        ),
        ("alias".into(), "any audience".into()),
        ("revokeEndpoint".into(), "  ".into()),
    ];
    input.settings.insert(
        "additionalProperties".into(),
        json!({"client_secret": "hidden"}),
    );
    let okta = create(services, &admin, input).await.unwrap();
    // Defaults: the display name is the name, the claims WSO2's, enabled.
    assert_eq!(
        (okta.name.as_str(), okta.display_name.as_str()),
        ("Okta", "Okta")
    );
    assert_eq!(
        (okta.consumer_key_claim.as_str(), okta.scopes_claim.as_str()),
        ("azp", "scope")
    );
    assert!(okta.enabled);
    assert_eq!(okta.jwks_endpoint, "https://okta.example.com/jwks");
    assert_eq!(
        okta.settings["tokenEndpoint"],
        "https://okta.example.com/token"
    );
    assert_eq!(okta.settings["alias"], "any audience");
    assert!(okta.settings.get("revokeEndpoint").is_none());
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::KeyManagerUpdate(km)] if *km == okta.to_model()),
        "{events:?}"
    );
    assert_eq!(get(services, &admin, &okta.id).await.unwrap(), okta);
    assert_eq!(
        by_name(services, &admin.tenant, "Okta").await.unwrap(),
        Some(okta.clone())
    );
    // The portals' list leaves out where connectors keep their secrets.
    let listed = list(services, &bed.user("alice")).await.unwrap();
    assert!(listed[1].settings.get("additionalProperties").is_none());
    let managed = list_managed(services, &admin).await.unwrap();
    assert_eq!(managed[1], okta);
}

#[tokio::test]
async fn every_problem_with_a_key_manager_is_named_by_its_field() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let input = KeyManagerInput {
        name: String::new(),
        display_name: Some("d".repeat(101)),
        kind: String::new(),
        description: Some("d".repeat(257)),
        issuer: None,
        certificate_value: Some("http://idp.example.com/jwks".into()),
        consumer_key_claim: Some("client id".into()),
        scopes_claim: Some("s".repeat(256)),
        endpoints: vec![(
            "tokenEndpoint".into(),
            "http://idp.example.com/token".into(),
        )],
        ..KeyManagerInput::default()
    };
    create(services, &admin, input).await.invalid_fields(&[
        "name",
        "type",
        "displayName",
        "description",
        "issuer",
        "certificates.value",
        "consumerKeyClaim",
        "scopesClaim",
        "tokenEndpoint",
    ]);
    // (A name too long for a display name is reported for the display name it defaults to
    // as well.)
    for name in ["Ok\nta", &"n".repeat(101)] {
        add(&bed, name, "https://idp.example.com")
            .await
            .invalid("name");
    }
    assert_eq!(list_managed(services, &admin).await.unwrap().len(), 1);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_key_manager_neither_passes_for_the_resident_one_nor_gives_keys_but_by_jwks() {
    let bed = TestBed::sqlite().await;
    for name in ["Default", RESIDENT_KEY_MANAGER] {
        let message = add(&bed, name, "https://idp.example.com")
            .await
            .invalid("name");
        assert!(message.contains("resident key manager's name"), "{message}");
    }
    let mut resident_issuer = key_manager("Okta", ISSUER);
    resident_issuer.certificate_value = Some("https://idp.example.com/jwks".into());
    let message = create(bed.services(), &bed.admin(), resident_issuer)
        .await
        .invalid("issuer");
    assert!(
        message.contains("resident key manager's issuer"),
        "{message}"
    );
    for kind in ["X509", "PEM"] {
        let mut input = key_manager("Okta", "https://okta.example.com");
        input.certificate_type = Some(kind.into());
        create(bed.services(), &bed.admin(), input)
            .await
            .invalid_fields(&["certificates.type"]);
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    // http is accepted on loopback only.
    add(&bed, "Local", "http://127.0.0.1:8080").await.unwrap();
    assert_eq!(bed.events().await, ["KEY_MANAGER_CONFIGURATION_UPDATE"]);
}

#[tokio::test]
async fn a_key_manager_name_and_issuer_are_each_taken_once() {
    let bed = TestBed::sqlite().await;
    add(&bed, "Okta", "https://okta.example.com").await.unwrap();
    bed.events().await;
    add(&bed, "Okta", "https://other.example.com")
        .await
        .conflict();
    add(&bed, "Other", "https://okta.example.com")
        .await
        .conflict();
    let all = list_managed(bed.services(), &bed.admin()).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_key_manager_change_is_refused_naming_what_is_wrong() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let okta = add(&bed, "Okta", "https://okta.example.com").await.unwrap();
    add(&bed, "Auth0", "https://auth0.example.com")
        .await
        .unwrap();
    bed.events().await;
    let renamed = key_manager("Okta2", "https://okta.example.com");
    update(services, &admin, &okta.id, renamed)
        .await
        .invalid_fields(&["name"]);
    let mut no_issuer = key_manager("Okta", "https://okta.example.com");
    no_issuer.issuer = None;
    update(services, &admin, &okta.id, no_issuer)
        .await
        .invalid_fields(&["issuer"]);
    let same = key_manager("Okta", "https://okta.example.com");
    update(services, &admin, "no-such-key-manager", same)
        .await
        .not_found();
    // Another key manager's issuer. (Last: on SQLite a change made right after a refused
    // write may fail, see `a_refused_write_leaves_the_next_change_free_to_write`.)
    let taken = key_manager("Okta", "https://auth0.example.com");
    update(services, &admin, &okta.id, taken).await.conflict();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(get(services, &admin, &okta.id).await.unwrap(), okta);
}

#[tokio::test]
async fn a_changed_key_manager_keeps_its_name_and_what_was_left_out() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let mut input = key_manager("Okta", "https://okta.example.com");
    input.enabled = Some(false);
    let okta = create(services, &admin, input).await.unwrap();
    bed.events().await;
    let mut change = key_manager("Okta", "https://okta.example.com");
    change.description = Some("the staff directory".into());
    let changed = update(services, &admin, &okta.id, change).await.unwrap();
    // Leaving `enabled` out does not re-enable it; id and creation time stay.
    assert!(!changed.enabled);
    assert_eq!(
        (changed.id.as_str(), changed.created_time),
        (okta.id.as_str(), okta.created_time)
    );
    assert_eq!(changed.description, "the staff directory");
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::KeyManagerUpdate(km)] if !km.enabled && km.id == okta.id),
        "{events:?}"
    );
    assert_eq!(get(services, &admin, &okta.id).await.unwrap(), changed);
}

#[tokio::test]
async fn a_key_manager_that_application_keys_are_mapped_through_cannot_be_deleted() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let idp = stub_server(200, json!({"access_token": "t"}).to_string()).await;
    let mut input = key_manager("Okta", "https://okta.example.com");
    input.endpoints = vec![("tokenEndpoint".into(), format!("{idp}/token"))];
    let okta = create(services, &admin, input).await.unwrap();
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    keys::map(
        services,
        &alice,
        &app.id,
        MapRequest {
            consumer_key: "okta-client".into(),
            consumer_secret: "okta-secret".into(),
            key_type: tollgate_model::KeyType::Production,
            key_manager: Some("Okta".into()),
        },
        None,
    )
    .await
    .unwrap();
    bed.events().await;
    let message = delete(services, &admin, &okta.id).await.conflict();
    assert!(message.contains("1 application key(s)"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    get(services, &admin, &okta.id).await.unwrap();
}

#[tokio::test]
async fn a_deleted_key_manager_is_gone_and_gateways_stop_trusting_it() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let okta = add(&bed, "Okta", "https://okta.example.com").await.unwrap();
    bed.events().await;
    delete(services, &admin, &okta.id).await.unwrap();
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::KeyManagerDelete { id }] if *id == okta.id),
        "{events:?}"
    );
    get(services, &admin, &okta.id).await.not_found();
    delete(services, &admin, &okta.id).await.not_found();
    assert_eq!(
        by_name(services, &admin.tenant, "Okta").await.unwrap(),
        None
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn discovery_describes_another_authorization_server_ready_to_add() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let metadata = json!({
        "issuer": "https://idp.example.com",
        "jwks_uri": "https://idp.example.com/jwks",
        "token_endpoint": "https://idp.example.com/token",
        "revocation_endpoint": "https://idp.example.com/revoke",
        "authorization_endpoint": "https://idp.example.com/authorize",
        "grant_types_supported": ["client_credentials", "authorization_code"],
    });
    let idp = stub_server(200, metadata.to_string()).await;
    let well_known = format!("{idp}/.well-known/openid-configuration");
    let found = discover(services, &admin, &well_known, "Okta")
        .await
        .unwrap()
        .expect("the server's metadata");
    assert_eq!(found.kind, "Okta");
    assert_eq!(found.issuer.as_deref(), Some("https://idp.example.com"));
    assert_eq!(
        found.certificate_value.as_deref(),
        Some("https://idp.example.com/jwks")
    );
    let endpoints: Vec<_> = found.endpoints.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        endpoints,
        [
            "wellKnownEndpoint",
            "tokenEndpoint",
            "revokeEndpoint",
            "authorizeEndpoint"
        ]
    );
    assert_eq!(
        found.settings["availableGrantTypes"],
        json!(["client_credentials", "authorization_code"])
    );
    // Nothing is stored until it is added, under a name.
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let added = create(
        services,
        &admin,
        KeyManagerInput {
            name: "Okta".into(),
            ..found
        },
    )
    .await
    .unwrap();
    assert_eq!(added.issuer, "https://idp.example.com");
    assert_eq!(bed.events().await, ["KEY_MANAGER_CONFIGURATION_UPDATE"]);
}

#[tokio::test]
async fn discovery_needs_a_secure_url_and_finds_nothing_where_there_is_no_metadata() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    for url in [
        "http://idp.example.com/.well-known",
        "ftp://127.0.0.1/x",
        "not a url",
    ] {
        discover(services, &admin, url, "Okta")
            .await
            .invalid_fields(&["url"]);
    }
    // A server hanging up without an answer; an answer without an issuer; an error status.
    // (Not a closed port: a parallel test's server could take it meanwhile.)
    let silent = stub_server(0, String::new()).await;
    let not_metadata = stub_server(200, json!({"hello": "world"}).to_string()).await;
    let failing = stub_server(
        500,
        json!({"issuer": "https://idp.example.com"}).to_string(),
    )
    .await;
    for base in [silent, not_metadata, failing] {
        let url = format!("{base}/.well-known/openid-configuration");
        assert!(
            discover(services, &admin, &url, "Okta")
                .await
                .unwrap()
                .is_none(),
            "{url}"
        );
    }
}

/// One bed's refused write (an issuer taken) followed at once by a change that reads before it
/// writes, `rounds` times; the changes that failed.
async fn refused_then_changed(rounds: usize) -> Vec<String> {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let okta = key_manager("Okta", "https://okta.example.com");
    let id = create(services, &admin, okta.clone()).await.unwrap().id;
    let auth0 = key_manager("Auth0", "https://auth0.example.com");
    create(services, &admin, auth0).await.unwrap();
    let mut failed = Vec::new();
    for _ in 0..rounds {
        let taken = key_manager("Okta", "https://auth0.example.com");
        if let Err(err) = update(services, &admin, &id, taken).await {
            if !matches!(err, tollgate_operations::OpError::Conflict(_)) {
                failed.push(format!("the refusal: {err}"));
            }
        }
        if let Err(err) = update(services, &admin, &id, okta.clone()).await {
            failed.push(format!("the change: {err}"));
        }
    }
    failed
}

/// Several beds at once, each on its own thread, so that the machine is busy (the failure
/// needs a busy machine; one bed alone seldom shows it).
#[test]
fn a_refused_write_leaves_the_next_change_free_to_write() {
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(refused_then_changed(60))
            })
        })
        .collect();
    let failed: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
}
