//! The store against real databases, SQLite files and PostgreSQL: migrations, the outbox's
//! ordering, snapshots. Each test runs on both.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

use tollgate_model::{ApiSortBy, Event, LifecycleState, PolicyLevel, SortOrder, SUPER_TENANT};
use tollgate_store::{
    ApiFilter, ApiRow, ApiSearch, ApplicationRow, Change, Store, StoreError, TextMatch,
};
use tollgate_testkit::PgDatabase;

/// Where a test's two databases live; dropped (files removed, databases dropped) at the end.
enum Databases {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase, PgDatabase),
}

impl Databases {
    async fn sqlite() -> Databases {
        Databases::Sqlite(tempfile::tempdir().unwrap())
    }

    async fn postgres() -> Databases {
        Databases::Postgres(PgDatabase::create().await, PgDatabase::create().await)
    }

    async fn open(&self) -> Store {
        let (apim, shared) = match self {
            Databases::Sqlite(dir) => (
                format!("sqlite://{}", dir.path().join("apim.db").display()),
                format!("sqlite://{}", dir.path().join("shared.db").display()),
            ),
            Databases::Postgres(apim, shared) => (apim.url(), shared.url()),
        };
        Store::open(&apim, &shared).await.expect("open store")
    }
}

fn app(id: &str, name: &str) -> ApplicationRow {
    ApplicationRow {
        id: id.into(),
        tenant: SUPER_TENANT.into(),
        name: name.into(),
        owner: "alice".into(),
        throttling_policy: "Unlimited".into(),
        description: String::new(),
        token_type: tollgate_model::TokenType::Jwt,
        status: tollgate_model::ApplicationStatus::Approved,
        attributes: serde_json::json!({}),
        created_time: 1,
        updated_time: 1,
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_seed_wso2_tiers_once_sqlite() {
    migrations_are_idempotent_and_seed_wso2_tiers_once(Databases::sqlite().await).await;
}

#[tokio::test]
async fn migrations_are_idempotent_and_seed_wso2_tiers_once_postgres() {
    migrations_are_idempotent_and_seed_wso2_tiers_once(Databases::postgres().await).await;
}

#[tokio::test]
async fn concurrent_starts_migrate_once_postgres() {
    let dbs = Databases::postgres().await;
    let (a, b) = tokio::join!(dbs.open(), dbs.open());
    assert_eq!(a.epoch(), b.epoch());
    assert_eq!(
        a.policies(SUPER_TENANT, PolicyLevel::Subscription)
            .await
            .unwrap()
            .len(),
        5
    );
    a.close().await;
    b.close().await;
}

async fn migrations_are_idempotent_and_seed_wso2_tiers_once(dir: Databases) {
    let first = dir.open().await;
    let epoch = first.epoch().to_string();
    first.close().await;
    let second = dir.open().await;
    assert_eq!(second.epoch(), epoch, "the outbox epoch survives restarts");
    let tiers: Vec<String> = second
        .policies(SUPER_TENANT, PolicyLevel::Subscription)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        tiers,
        ["Gold", "Silver", "Bronze", "Unauthenticated", "Unlimited"]
    );
    let bronze = second
        .policy(SUPER_TENANT, PolicyLevel::Subscription, "Bronze")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            bronze.request_count,
            bronze.unit_time,
            bronze.time_unit.as_str()
        ),
        (Some(1000), 1, "min")
    );
}

#[tokio::test]
async fn outbox_sequence_is_dense_and_commits_with_the_change_sqlite() {
    outbox_sequence_is_dense_and_commits_with_the_change(Databases::sqlite().await).await;
}

#[tokio::test]
async fn outbox_sequence_is_dense_and_commits_with_the_change_postgres() {
    outbox_sequence_is_dense_and_commits_with_the_change(Databases::postgres().await).await;
}

async fn outbox_sequence_is_dense_and_commits_with_the_change(dir: Databases) {
    let store = dir.open().await;

    let mut tx = store.begin().await.unwrap();
    assert!(tx
        .apply(&Change::CreateApplication(app("a1", "One")))
        .await
        .unwrap());
    tx.commit().await.unwrap();

    // A rolled-back change leaves neither its row nor its event, nor a hole in the sequence.
    let mut tx = store.begin().await.unwrap();
    tx.apply(&Change::CreateApplication(app("a2", "Two")))
        .await
        .unwrap();
    drop(tx);
    assert!(matches!(
        store.application(SUPER_TENANT, "a2").await,
        Err(StoreError::NotFound(_))
    ));

    let mut tx = store.begin().await.unwrap();
    tx.apply(&Change::CreateApplication(app("a3", "Three")))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let events = store.events_after(0, 10).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        events[1].event,
        Event::ApplicationCreate(app("a3", "Three").to_model())
    );
    assert_eq!(events[0].epoch, store.epoch());

    // A duplicate is a conflict, not a database error.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.apply(&Change::CreateApplication(app("a4", "One"))).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.seq, 2);
    assert_eq!(snapshot.applications.len(), 2);
    assert_eq!(snapshot.policies.len(), 13);

    // Relay progress per hub survives in the database.
    assert_eq!(store.relay_position("ws://tm:9611").await.unwrap(), None);
    store.set_relay_position("ws://tm:9611", 2).await.unwrap();
    store.set_relay_position("ws://tm:9611", 3).await.unwrap();
    assert_eq!(store.relay_position("ws://tm:9611").await.unwrap(), Some(3));
    store.close().await;
}

#[tokio::test]
async fn concurrent_writers_keep_the_outbox_dense_postgres() {
    let dbs = Databases::postgres().await;
    let store = dbs.open().await;
    let mut writers = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let row = app(&format!("c{i}"), &format!("Concurrent{i}"));
            let mut tx = store.begin().await.unwrap();
            tx.apply(&Change::CreateApplication(row)).await.unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let seqs: Vec<i64> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    store.close().await;
}

async fn api_pages_filter_and_count(dir: Databases) {
    let store = dir.open().await;
    let mut tx = store.begin().await.unwrap();
    let apis = [
        (
            "PizzaShack",
            "/pizza",
            "PUBLISHED",
            "admin",
            &["food", "demo"][..],
        ),
        ("Weather_API", "/weather", "CREATED", "alice", &["demo"][..]),
        ("Pizza100%", "/p100", "CREATED", "admin", &[][..]),
    ];
    for (i, (name, context, status, provider, tags)) in apis.iter().enumerate() {
        tx.insert_api(&ApiRow {
            id: format!("api-{i}"),
            tenant: SUPER_TENANT.into(),
            name: name.to_string(),
            context: context.to_string(),
            version: "1.0.0".into(),
            provider: provider.to_string(),
            lifecycle_status: status.parse().unwrap(),
            api_type: "HTTP".into(),
            description: format!("API number {i}"),
            is_default_version: false,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            definition: serde_json::json!({}),
            created_time: i as i64,
            updated_time: i as i64,
            row_version: 1,
            has_thumbnail: false,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let ids = |found: &(Vec<ApiRow>, i64)| {
        (
            found
                .0
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            found.1,
        )
    };
    let search = |filters: Vec<ApiFilter>| ApiSearch {
        filters,
        ..ApiSearch::default()
    };
    let visible = ApiSearch {
        states: Some(vec![LifecycleState::Published, LifecycleState::Prototyped]),
        ..ApiSearch::default()
    };
    let found = store
        .search_apis(SUPER_TENANT, &visible, 10, 0)
        .await
        .unwrap();
    assert_eq!(ids(&found), ("api-0".into(), 1));
    let found = store
        .search_apis(SUPER_TENANT, &ApiSearch::default(), 1, 1)
        .await
        .unwrap();
    assert_eq!(
        ids(&found),
        ("api-1".into(), 3),
        "newest first, second page"
    );

    let contains = |t: &str| TextMatch::Contains(t.into());
    for (filters, expected) in [
        (vec![ApiFilter::Name(contains("PIZZA"))], "api-2,api-0"),
        // LIKE's wildcards are taken literally.
        (vec![ApiFilter::Name(contains("100%"))], "api-2"),
        // ("weather" has "eat", which `e_t` would match as a pattern.)
        (vec![ApiFilter::Name(contains("e_t"))], ""),
        (vec![ApiFilter::Name(contains("r_a"))], "api-1"),
        (
            vec![
                ApiFilter::Name(contains("r_a")),
                ApiFilter::Name(contains("x")),
            ],
            "",
        ),
        (vec![ApiFilter::Tag(contains("demo"))], "api-1,api-0"),
        (
            vec![ApiFilter::Tag(TextMatch::Exactly("FOOD".into()))],
            "api-0",
        ),
        (
            vec![
                ApiFilter::Provider(TextMatch::Exactly("admin".into())),
                ApiFilter::Status(LifecycleState::Created),
            ],
            "api-2",
        ),
        (vec![ApiFilter::Description(contains("number 1"))], "api-1"),
        (vec![ApiFilter::Context(contains("/weather"))], "api-1"),
    ] {
        let found = store
            .search_apis(SUPER_TENANT, &search(filters.clone()), 10, 0)
            .await
            .unwrap();
        assert_eq!(ids(&found).0, expected, "{filters:?}");
    }
    let by_name = ApiSearch {
        sort_by: ApiSortBy::ApiName,
        order: SortOrder::Asc,
        ..ApiSearch::default()
    };
    let found = store
        .search_apis(SUPER_TENANT, &by_name, 10, 0)
        .await
        .unwrap();
    assert_eq!(ids(&found).0, "api-2,api-0,api-1");
    // A list is one parameter, however long: past SQLite's 32,766 variables too.
    let many: Vec<String> = (0..40_000).map(|i| format!("api-{}", i * 2)).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut found: Vec<String> = store
        .apis_by_ids(SUPER_TENANT, &many)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    found.sort();
    assert_eq!(found, ["api-0", "api-2"]);
    store.close().await;
}

#[tokio::test]
async fn api_pages_filter_and_count_sqlite() {
    api_pages_filter_and_count(Databases::sqlite().await).await;
}

#[tokio::test]
async fn api_pages_filter_and_count_postgres() {
    api_pages_filter_and_count(Databases::postgres().await).await;
}
