//! `devportal::applications`: a consumer's applications — who may make and change them, what
//! makes one valid (WSO2's column sizes, an application tier, the attributes the configuration
//! declares), a name unique per owner, and the event each change writes.

use serde_json::{json, Map, Value};
use tollgate_model::{ApplicationStatus, Event, GrantType, KeyType, TokenType, SUPER_TENANT};
use tollgate_operations::devportal::applications::{
    create, delete, get, list, update, ApplicationInput,
};
use tollgate_operations::devportal::keys::{self, KeyRequest};
use tollgate_operations::devportal::{own_application, ApplicationAttribute};
use tollgate_testbed::{Refused, Settings, TestBed};

fn input(name: &str) -> ApplicationInput {
    ApplicationInput {
        name: name.into(),
        throttling_policy: "Unlimited".into(),
        ..ApplicationInput::default()
    }
}

fn attributes(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => panic!("not an object: {other}"),
    }
}

#[tokio::test]
async fn only_a_subscriber_creates_an_application_and_gateways_learn_it() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let exporter = bed.with_scopes("alice", &["apim:app_import_export"]);
    for who in [bed.user("creator"), bed.user("publisher"), exporter] {
        create(services, &who, input("Shop")).await.forbidden();
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let app = create(services, &bed.user("alice"), input("Shop"))
        .await
        .unwrap();
    assert_eq!(
        (app.owner.as_str(), app.status, app.token_type),
        ("alice", ApplicationStatus::Approved, TokenType::Jwt)
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::ApplicationCreate(a)] if a.id == app.id),
        "{events:?}"
    );
    let stored = bed
        .store()
        .application(SUPER_TENANT, &app.id)
        .await
        .unwrap();
    assert_eq!((stored.name, stored.attributes), ("Shop".into(), json!({})));
    let scoped = bed.with_scopes("bob", &["apim:app_manage"]);
    create(services, &scoped, input("Shop")).await.unwrap();
}

#[tokio::test]
async fn an_application_names_every_bad_field_at_once_and_writes_nothing() {
    let bed = TestBed::sqlite().await;
    let alice = bed.user("alice");
    let bad = ApplicationInput {
        name: "  ".into(),
        throttling_policy: "Platinum".into(),
        description: Some("d".repeat(513)),
        token_type: Some("BEARER".into()),
        attributes: attributes(json!({"colour": 5, "notes": "n".repeat(1025)})),
    };
    create(bed.services(), &alice, bad).await.invalid_fields(&[
        "name",
        "throttlingPolicy",
        "description",
        "tokenType",
        "attributes.colour",
        "attributes.notes",
    ]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(list(bed.services(), &alice).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_name_is_trimmed_to_1_to_70_characters_without_control_characters() {
    let bed = TestBed::sqlite().await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    for name in ["s".repeat(71), "Sh\nop".into(), "\t".into()] {
        create(services, &alice, input(&name)).await.invalid("name");
    }
    let longest = create(services, &alice, input(&"s".repeat(70)))
        .await
        .unwrap();
    assert_eq!(longest.name.chars().count(), 70);
    let trimmed = create(services, &alice, input("  Shop  ")).await.unwrap();
    assert_eq!(trimmed.name, "Shop");
    let description = ApplicationInput {
        description: Some("d".repeat(512)),
        ..input("Described")
    };
    create(services, &alice, description).await.unwrap();
}

#[tokio::test]
async fn only_an_application_tier_and_a_known_token_type_are_taken() {
    let bed = TestBed::sqlite().await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    // Gold is a subscription tier, not an application one.
    let gold = ApplicationInput {
        throttling_policy: "Gold".into(),
        ..input("Shop")
    };
    let message = create(services, &alice, gold)
        .await
        .invalid("throttlingPolicy");
    assert!(message.contains("'Gold'"), "{message}");
    for (given, stored) in [
        (Some(" oauth "), TokenType::Oauth),
        (Some(""), TokenType::Jwt),
        (Some("JWT"), TokenType::Jwt),
    ] {
        let app = ApplicationInput {
            token_type: given.map(str::to_string),
            ..input(&format!("Shop {given:?}"))
        };
        assert_eq!(
            create(services, &alice, app).await.unwrap().token_type,
            stored
        );
    }
}

#[tokio::test]
async fn declared_attributes_are_required_or_defaulted_and_every_attribute_is_short_text() {
    let mut settings = Settings::default();
    let declared = |name: &str, required: bool, default: Option<&str>| ApplicationAttribute {
        name: name.into(),
        description: format!("the {name}"),
        required,
        hidden: false,
        default: default.map(str::to_string),
        tooltip: String::new(),
    };
    settings.devportal.application_attributes = vec![
        declared("Cost Centre", true, None),
        declared("Billing", true, Some("Free")),
        declared("Notes", false, None),
    ];
    let bed = TestBed::sqlite_with(settings).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let message = create(services, &alice, input("Shop"))
        .await
        .invalid("attributes.Cost Centre");
    assert!(message.contains("the Cost Centre"), "{message}");
    let blank = ApplicationInput {
        attributes: attributes(json!({"Cost Centre": "  "})),
        ..input("Shop")
    };
    create(services, &alice, blank)
        .await
        .invalid_fields(&["attributes.Cost Centre"]);
    let long_name = "a".repeat(256);
    let bad = ApplicationInput {
        attributes: attributes(json!({"Cost Centre": "42", &long_name: "x", "": "x"})),
        ..input("Shop")
    };
    create(services, &alice, bad)
        .await
        .invalid_fields(&[&format!("attributes.{long_name}"), "attributes."]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let good = ApplicationInput {
        attributes: attributes(json!({"Cost Centre": "42", "Extra": "x".repeat(1024)})),
        ..input("Shop")
    };
    let app = create(services, &alice, good).await.unwrap();
    assert_eq!(
        app.attributes,
        json!({"Cost Centre": "42", "Billing": "Free", "Extra": "x".repeat(1024)})
    );
}

#[tokio::test]
async fn a_name_is_unique_per_owner() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    bed.application(&bed.user("alice"), "Shop").await;
    bed.events().await;
    let message = create(services, &bed.user("alice"), input(" Shop "))
        .await
        .conflict();
    assert!(message.contains("'Shop'"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(list(services, &bed.user("alice")).await.unwrap().len(), 1);
    create(services, &bed.user("bob"), input("Shop"))
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_CREATE"]);
}

#[tokio::test]
async fn another_users_application_is_not_found() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    bed.events().await;
    let (services, bob) = (bed.services(), bed.user("bob"));
    for id in [app.id.as_str(), "no-such-application"] {
        let message = get(services, &bob, id).await.not_found();
        assert!(message.contains(id), "{message}");
        update(services, &bob, id, input("Mine")).await.not_found();
        delete(services, &bob, id).await.not_found();
        own_application(services, &bob, id).await.not_found();
    }
    // The admin's role does not make another's application theirs either.
    get(services, &bed.admin(), &app.id).await.not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = bed
        .store()
        .application(SUPER_TENANT, &app.id)
        .await
        .unwrap();
    assert_eq!(stored.name, "Shop");
}

#[tokio::test]
async fn an_update_replaces_the_fields_but_keeps_attributes_left_out() {
    let bed = TestBed::sqlite().await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let described = ApplicationInput {
        description: Some("groceries".into()),
        token_type: Some("OAUTH".into()),
        attributes: attributes(json!({"team": "red"})),
        ..input("Shop")
    };
    let app = create(services, &alice, described).await.unwrap();
    bed.events().await;
    let changed = update(services, &alice, &app.id, input(" Store "))
        .await
        .unwrap();
    // A replacement, as WSO2's PUT: no description is none, no token type the default one.
    assert_eq!(
        (
            changed.name.as_str(),
            changed.description.as_str(),
            changed.token_type
        ),
        ("Store", "", TokenType::Jwt)
    );
    assert_eq!(changed.attributes, json!({"team": "red"}));
    assert_eq!(
        (changed.status, changed.created_time),
        (ApplicationStatus::Approved, app.created_time)
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::ApplicationUpdate(a)] if a.name == "Store"),
        "{events:?}"
    );
    let retagged = ApplicationInput {
        attributes: attributes(json!({"team": "blue"})),
        ..input("Store")
    };
    let changed = update(services, &alice, &app.id, retagged).await.unwrap();
    assert_eq!(changed.attributes, json!({"team": "blue"}));
    let stored = bed
        .store()
        .application(SUPER_TENANT, &app.id)
        .await
        .unwrap();
    assert_eq!(
        (stored.name, stored.attributes),
        (changed.name, changed.attributes)
    );
}

#[tokio::test]
async fn an_update_is_checked_like_a_new_application_and_changes_nothing_when_refused() {
    let bed = TestBed::sqlite().await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let app = bed.application(&alice, "Shop").await;
    bed.application(&alice, "Other").await;
    bed.events().await;
    let bad = ApplicationInput {
        token_type: Some("BEARER".into()),
        throttling_policy: "Gold".into(),
        ..input("")
    };
    update(services, &alice, &app.id, bad)
        .await
        .invalid_fields(&["name", "tokenType", "throttlingPolicy"]);
    let message = update(services, &alice, &app.id, input("Other"))
        .await
        .conflict();
    assert!(message.contains("'Other'"), "{message}");
    update(services, &bed.user("creator"), &app.id, input("Mine"))
        .await
        .forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = bed
        .store()
        .application(SUPER_TENANT, &app.id)
        .await
        .unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.updated_time),
        ("Shop", app.updated_time)
    );
}

#[tokio::test]
async fn deleting_an_application_removes_its_subscriptions_and_keys_in_one_event() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let app = bed.application(&alice, "Shop").await;
    bed.subscribe(&alice, &app, &api, "Gold").await;
    let request = KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]);
    let key = keys::generate(services, &alice, &app.id, request)
        .await
        .unwrap();
    bed.events().await;
    let viewer = bed.with_scopes("alice", &["apim:api_view"]);
    delete(services, &viewer, &app.id).await.forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    delete(services, &alice, &app.id).await.unwrap();
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::ApplicationDelete { application_id }] if *application_id == app.id),
        "{events:?}"
    );
    get(services, &alice, &app.id).await.not_found();
    let store = bed.store();
    assert!(store
        .subscriptions_of_application(&app.id)
        .await
        .unwrap()
        .is_empty());
    assert!(store.key_mappings_of(&app.id).await.unwrap().is_empty());
    let client = &key.client.consumer_key;
    assert!(store.oauth_client(client).await.unwrap().is_none());
    delete(services, &alice, &app.id).await.not_found();
}

#[tokio::test]
async fn an_export_token_lists_and_deletes_but_neither_reads_nor_changes_one() {
    let bed = TestBed::sqlite().await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let services = bed.services();
    let exporter = bed.with_scopes("alice", &["apim:app_import_export"]);
    assert_eq!(list(services, &exporter).await.unwrap().len(), 1);
    get(services, &exporter, &app.id).await.forbidden();
    update(services, &exporter, &app.id, input("Store"))
        .await
        .forbidden();
    bed.events().await;
    delete(services, &exporter, &app.id).await.unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_DELETE"]);
    let viewer = bed.with_scopes("alice", &["apim:api_view"]);
    list(services, &viewer).await.forbidden();
}

#[tokio::test]
async fn a_consumer_sees_only_their_applications_by_name_with_their_subscription_counts() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    bed.application(&alice, "Zed").await;
    let alpha = bed.application(&alice, "Alpha").await;
    bed.application(&bed.user("bob"), "Bobs").await;
    bed.subscribe(&alice, &alpha, &api, "Gold").await;
    let listed: Vec<_> = list(services, &alice)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.application.name, v.subscription_count))
        .collect();
    assert_eq!(listed, [("Alpha".to_string(), 1), ("Zed".to_string(), 0)]);
    let view = get(services, &alice, &alpha.id).await.unwrap();
    assert_eq!(
        (view.application.id, view.subscription_count),
        (alpha.id, 1)
    );
    list(services, &bed.user("creator")).await.forbidden();
}
