//! The store against real databases, SQLite files and PostgreSQL: migrations, the outbox's
//! ordering, snapshots. Each test runs on both.

use tollgate_model::{Event, PolicyLevel, SUPER_TENANT};
use tollgate_store::{ApplicationRow, Store, StoreError};
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
        token_type: "JWT".into(),
        status: "APPROVED".into(),
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
    tx.insert_application(&app("a1", "One")).await.unwrap();
    assert_eq!(
        tx.emit(
            SUPER_TENANT,
            &Event::ApplicationCreate(app("a1", "One").to_model())
        )
        .await
        .unwrap(),
        1
    );
    tx.commit().await.unwrap();

    // A rolled-back change leaves neither its row nor its event, nor a hole in the sequence.
    let mut tx = store.begin().await.unwrap();
    tx.insert_application(&app("a2", "Two")).await.unwrap();
    tx.emit(
        SUPER_TENANT,
        &Event::ApplicationCreate(app("a2", "Two").to_model()),
    )
    .await
    .unwrap();
    drop(tx);
    assert!(matches!(
        store.application(SUPER_TENANT, "a2").await,
        Err(StoreError::NotFound(_))
    ));

    let mut tx = store.begin().await.unwrap();
    tx.insert_application(&app("a3", "Three")).await.unwrap();
    assert_eq!(
        tx.emit(
            SUPER_TENANT,
            &Event::ApplicationCreate(app("a3", "Three").to_model())
        )
        .await
        .unwrap(),
        2
    );
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
        tx.insert_application(&app("a4", "One")).await,
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
            tx.insert_application(&row).await.unwrap();
            tx.emit(SUPER_TENANT, &Event::ApplicationCreate(row.to_model()))
                .await
                .unwrap();
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
    for (i, status) in ["PUBLISHED", "CREATED", "CREATED"].iter().enumerate() {
        tx.insert_api(&tollgate_store::ApiRow {
            id: format!("api-{i}"),
            tenant: SUPER_TENANT.into(),
            name: format!("Api{i}"),
            context: format!("/api{i}"),
            version: "1.0.0".into(),
            provider: "admin".into(),
            lifecycle_status: status.to_string(),
            api_type: "HTTP".into(),
            definition: serde_json::json!({}),
            created_time: i as i64,
            updated_time: i as i64,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let (published, total) = store
        .apis(SUPER_TENANT, Some(&["PUBLISHED", "PROTOTYPED"]), 10, 0)
        .await
        .unwrap();
    assert_eq!((published.len(), total), (1, 1));
    assert_eq!(published[0].id, "api-0");
    let (page, total) = store.apis(SUPER_TENANT, None, 1, 1).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, "api-1", "newest first, second page");
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
