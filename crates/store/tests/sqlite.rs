//! The store against real SQLite files: migrations, the outbox's ordering, snapshots.

use tollgate_model::{Event, PolicyLevel, SUPER_TENANT};
use tollgate_store::{ApplicationRow, Store, StoreError};

async fn open(dir: &tempfile::TempDir) -> Store {
    let apim = format!("sqlite://{}", dir.path().join("apim.db").display());
    let shared = format!("sqlite://{}", dir.path().join("shared.db").display());
    Store::open(&apim, &shared).await.expect("open store")
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
async fn migrations_are_idempotent_and_seed_wso2_tiers_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(&dir).await;
    let epoch = first.epoch().to_string();
    first.close().await;
    let second = open(&dir).await;
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
async fn outbox_sequence_is_dense_and_commits_with_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;

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

    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.seq, 2);
    assert_eq!(snapshot.applications.len(), 2);
}
