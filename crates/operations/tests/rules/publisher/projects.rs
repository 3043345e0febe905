//! `publisher::projects`: an API exported whole (definition, documents, thumbnail, state,
//! deployments) and imported elsewhere in one transaction — created, or replacing one of the
//! same name and version when asked — with the events its state and deployments need.

use serde_json::json;
use tollgate_model::{DocumentSource, DocumentType, LifecycleAction, LifecycleState};
use tollgate_operations::publisher::apis::{api_exists, get_api};
use tollgate_operations::publisher::documents::{
    create_document, list_documents, DocumentContent, DocumentInput,
};
use tollgate_operations::publisher::projects::{
    document_file, export_api, find_api, import_api, ApiProject, ExportedCopy, ImportOptions,
    ProjectDocument,
};
use tollgate_operations::publisher::revisions::{create_revision, DeploymentTarget, MAX_REVISIONS};
use tollgate_operations::publisher::settings::set_thumbnail;
use tollgate_operations::Page;
use tollgate_store::ApiRow;
use tollgate_testbed::{Refused, TestBed};

const ALL: Page = Page {
    limit: 100,
    offset: 0,
};
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn doc(name: &str, source_type: DocumentSource) -> DocumentInput {
    DocumentInput {
        name: name.into(),
        doc_type: DocumentType::HowTo,
        other_type_name: None,
        summary: None,
        source_type,
        source_url: None,
        visibility: None,
        inline_content: None,
    }
}

/// Pizza by creator: published, deployed, with an inline and a file document and a thumbnail.
async fn exportable(bed: &TestBed) -> ApiRow {
    let api = bed
        .api_as(
            &bed.user("creator"),
            "Pizza",
            "/pizza",
            json!({"description": "Hot"}),
        )
        .await;
    let (services, admin) = (bed.services(), bed.admin());
    let inline = DocumentInput {
        inline_content: Some("Margherita".into()),
        ..doc("Menu", DocumentSource::Inline)
    };
    create_document(services, &admin, &api.id, inline)
        .await
        .unwrap();
    let file = create_document(
        services,
        &admin,
        &api.id,
        doc("Leaflet", DocumentSource::File),
    )
    .await
    .unwrap();
    tollgate_operations::publisher::documents::set_document_content(
        services,
        &admin,
        &api.id,
        &file.id,
        document_file("leaflet.pdf", "application/pdf", b"%PDF".to_vec()),
    )
    .await
    .unwrap();
    set_thumbnail(services, &admin, &api.id, PNG.to_vec())
        .await
        .unwrap();
    bed.deploy(&api).await;
    bed.lifecycle(&api, LifecycleAction::Publish).await;
    bed.events().await;
    get_api(services, &admin, &api.id).await.unwrap()
}

/// The project of [`exportable`]'s API, as exported from a bed of its own.
async fn project() -> ApiProject {
    let source = TestBed::sqlite().await;
    let api = exportable(&source).await;
    export_api(
        source.services(),
        &source.admin(),
        &api,
        ExportedCopy::WorkingCopy,
    )
    .await
    .unwrap()
}

fn overwrite() -> ImportOptions {
    ImportOptions {
        overwrite: true,
        ..ImportOptions::default()
    }
}

#[tokio::test]
async fn an_api_to_export_is_found_by_id_or_by_name_and_version() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let (services, admin) = (bed.services(), bed.admin());
    for who in ["publisher", "alice"] {
        find_api(services, &bed.user(who), Some(&api.id), None, None, None)
            .await
            .forbidden();
    }
    let by_id = find_api(
        services,
        &bed.user("creator"),
        Some(&api.id),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(by_id.name, "Pizza");
    find_api(services, &admin, Some("no-such-api"), None, None, None)
        .await
        .not_found();
    for (name, version) in [
        (None, None),
        (Some("Pizza"), None),
        (Some(""), Some("1.0.0")),
    ] {
        find_api(services, &admin, Some(""), name, version, None)
            .await
            .invalid("apiId");
    }
    let found = find_api(
        services,
        &admin,
        None,
        Some("pizza"),
        Some("1.0.0"),
        Some("ADMIN"),
    )
    .await
    .unwrap();
    assert_eq!(found.id, api.id);
    find_api(
        services,
        &admin,
        None,
        Some("Pizza"),
        Some("1.0.0"),
        Some("creator"),
    )
    .await
    .not_found();
    find_api(services, &admin, None, Some("Pizza"), Some("2.0.0"), None)
        .await
        .not_found();
}

#[tokio::test]
async fn an_export_holds_everything_the_api_is_made_of() {
    let bed = TestBed::sqlite().await;
    let api = exportable(&bed).await;
    export_api(
        bed.services(),
        &bed.user("publisher"),
        &api,
        ExportedCopy::WorkingCopy,
    )
    .await
    .forbidden();
    let project = export_api(
        bed.services(),
        &bed.user("creator"),
        &api,
        ExportedCopy::WorkingCopy,
    )
    .await
    .unwrap();
    assert_eq!(project.definition.description.as_deref(), Some("Hot"));
    assert_eq!(project.provider.as_deref(), Some("creator"));
    assert_eq!(project.status, Some(LifecycleState::Published));
    assert_eq!(project.openapi.as_ref().unwrap()["info"]["title"], "Pizza");
    let mut documents: Vec<(String, Option<String>)> = project
        .documents
        .iter()
        .map(|d| {
            let content = match &d.content {
                Some(DocumentContent::Text(text)) => Some(text.clone()),
                Some(DocumentContent::File(file)) => Some(file.name.clone()),
                None => None,
            };
            (d.input.name.clone(), content)
        })
        .collect();
    documents.sort();
    assert_eq!(
        documents,
        [
            ("Leaflet".to_string(), Some("leaflet.pdf".to_string())),
            ("Menu".to_string(), Some("Margherita".to_string())),
        ]
    );
    assert_eq!(project.thumbnail.unwrap().content, PNG);
    let places: Vec<(&str, Option<&str>)> = project
        .deployments
        .iter()
        .map(|d| (d.environment.as_str(), d.vhost.as_deref()))
        .collect();
    assert_eq!(
        places,
        [(tollgate_model::DEFAULT_ENVIRONMENT, Some("localhost"))]
    );
}

#[tokio::test]
async fn a_revision_is_exported_as_it_was_frozen() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    for copy in [ExportedCopy::LatestRevision, ExportedCopy::Revision(1)] {
        export_api(services, &bed.admin(), &api, copy)
            .await
            .not_found();
    }
    create_revision(services, &bed.admin(), &api.id, None)
        .await
        .unwrap();
    let changed = tollgate_operations::publisher::apis::update_api(
        services,
        &bed.admin(),
        &api.id,
        tollgate_operations::publisher::ApiDefinition::from_json(
            tollgate_testbed::fixtures::api_body("Pizza", "/pizza", json!({"description": "New"})),
        )
        .unwrap(),
        None,
    )
    .await
    .unwrap();
    export_api(services, &bed.admin(), &changed, ExportedCopy::Revision(2))
        .await
        .not_found();
    for copy in [ExportedCopy::LatestRevision, ExportedCopy::Revision(1)] {
        let frozen = export_api(services, &bed.admin(), &changed, copy)
            .await
            .unwrap();
        assert_eq!(frozen.definition.description, None);
    }
    let working = export_api(services, &bed.admin(), &changed, ExportedCopy::WorkingCopy)
        .await
        .unwrap();
    assert_eq!(working.definition.description.as_deref(), Some("New"));
}

#[tokio::test]
async fn an_import_recreates_the_api_in_its_state_deployed_where_it_was() {
    let project = project().await;
    let bed = TestBed::sqlite().await;
    import_api(
        bed.services(),
        &bed.user("alice"),
        project.clone(),
        ImportOptions::default(),
    )
    .await
    .forbidden();
    // The import-export scope alone does not create APIs.
    let porter = bed.with_scopes("porter", &["apim:api_import_export"]);
    import_api(
        bed.services(),
        &porter,
        project.clone(),
        ImportOptions::default(),
    )
    .await
    .forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let api = import_api(
        bed.services(),
        &bed.admin(),
        project.clone(),
        ImportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        bed.events().await,
        ["LIFECYCLE_CHANGE", "DEPLOY_API_IN_GATEWAY"]
    );
    assert_eq!(
        (api.provider.as_str(), api.lifecycle_status),
        ("admin", LifecycleState::Published)
    );
    let (services, admin) = (bed.services(), bed.admin());
    let docs = list_documents(services, &admin, &api.id, ALL)
        .await
        .unwrap();
    assert_eq!(docs.total, 2);
    let leaflet = docs.items.iter().find(|d| d.name == "Leaflet").unwrap();
    let file = bed
        .store()
        .document_file(&leaflet.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(file.content, b"%PDF");
    assert_eq!(
        bed.store()
            .thumbnail(&api.id)
            .await
            .unwrap()
            .unwrap()
            .content,
        PNG
    );
    let revisions = bed.store().revisions(&api.id).await.unwrap();
    assert_eq!(revisions[0].description, "Imported");
    assert_eq!(
        bed.store().deployments(&api.id).await.unwrap()[0].revision_id,
        revisions[0].id
    );
    assert!(bed.store().api_openapi(&api.id).await.unwrap().is_some());
    // Into another installation, keeping the provider it had.
    let other = TestBed::sqlite().await;
    let kept = import_api(
        other.services(),
        &other.admin(),
        project,
        ImportOptions {
            preserve_provider: true,
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(kept.provider, "creator");
}

#[tokio::test]
async fn an_import_with_an_invalid_part_writes_nothing() {
    let project = project().await;
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let mut bad_tier = project.clone();
    bad_tier.definition.policies = vec!["Platinum".into()];
    let mut bad_docs = project.clone();
    bad_docs.documents = vec![
        ProjectDocument {
            input: doc("", DocumentSource::Inline),
            content: None,
        },
        ProjectDocument {
            input: doc("Site", DocumentSource::Url),
            content: None,
        },
    ];
    let mut bad_environment = project.clone();
    bad_environment.deployments = vec![DeploymentTarget {
        environment: "Nowhere".into(),
        vhost: None,
        display_on_devportal: true,
    }];
    let mut same_names = project.clone();
    same_names.documents[1].input.name = same_names.documents[0].input.name.clone();
    for (project, fields) in [
        (bad_tier, &["policies[0]"][..]),
        (bad_docs, &["Docs[0].name", "Docs[1].sourceUrl"]),
        (bad_environment, &["[0].name"]),
    ] {
        import_api(services, &bed.admin(), project, ImportOptions::default())
            .await
            .invalid_fields(fields);
    }
    import_api(services, &bed.admin(), same_names, ImportOptions::default())
        .await
        .conflict();
    assert!(!api_exists(services, &bed.admin(), "name:Pizza")
        .await
        .unwrap());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_api_of_the_same_name_and_version_is_replaced_only_when_asked() {
    let project = project().await;
    let bed = TestBed::sqlite().await;
    let existing = exportable(&bed).await;
    let services = bed.services();
    let message = import_api(
        services,
        &bed.admin(),
        project.clone(),
        ImportOptions::default(),
    )
    .await
    .conflict();
    assert!(message.contains("overwrite"), "{message}");
    let mut moved = project.clone();
    moved.definition.context = "/elsewhere".into();
    import_api(services, &bed.admin(), moved, overwrite())
        .await
        .invalid("context");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let mut changed = project;
    changed.definition.description = Some("Imported description".into());
    changed.documents.truncate(1);
    changed.status = Some(LifecycleState::Deprecated);
    let replaced = import_api(services, &bed.admin(), changed, overwrite())
        .await
        .unwrap();
    assert_eq!(replaced.id, existing.id);
    assert_eq!(replaced.description, "Imported description");
    assert_eq!(replaced.lifecycle_status, LifecycleState::Deprecated);
    assert_eq!(
        bed.events().await,
        ["LIFECYCLE_CHANGE", "DEPLOY_API_IN_GATEWAY"]
    );
    let docs = list_documents(services, &bed.admin(), &existing.id, ALL)
        .await
        .unwrap();
    assert_eq!(docs.total, 1);
    assert_eq!(bed.store().revisions(&existing.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn at_the_revision_limit_an_import_rotates_only_when_asked() {
    let project = project().await;
    let bed = TestBed::sqlite().await;
    let existing = exportable(&bed).await;
    let services = bed.services();
    for _ in 1..MAX_REVISIONS {
        create_revision(services, &bed.admin(), &existing.id, None)
            .await
            .unwrap();
    }
    let mut changed = project;
    changed.definition.description = Some("Imported description".into());
    import_api(services, &bed.admin(), changed.clone(), overwrite())
        .await
        .not_allowed();
    let kept = get_api(services, &bed.admin(), &existing.id).await.unwrap();
    assert_eq!(kept.description, "Hot");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let before = bed.store().revisions(&existing.id).await.unwrap();
    let deployed = bed.store().deployments(&existing.id).await.unwrap()[0]
        .revision_id
        .clone();
    import_api(
        services,
        &bed.admin(),
        changed,
        ImportOptions {
            rotate_revision: true,
            ..overwrite()
        },
    )
    .await
    .unwrap();
    let after: Vec<i64> = bed
        .store()
        .revisions(&existing.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.number)
        .collect();
    // Revision 1 is deployed and stays; the oldest undeployed one (2) made room for 6.
    assert_eq!(before[0].id, deployed);
    assert_eq!(after, [1, 3, 4, 5, 6]);
    assert_eq!(bed.events().await, ["DEPLOY_API_IN_GATEWAY"]);
}

#[tokio::test]
async fn an_overwriting_import_that_clears_the_default_version_mark_announces_it() {
    let bed = TestBed::sqlite().await;
    let api = bed
        .api_as(
            &bed.admin(),
            "Pizza",
            "/pizza",
            json!({"isDefaultVersion": true}),
        )
        .await;
    let mut project = export_api(
        bed.services(),
        &bed.admin(),
        &api,
        ExportedCopy::WorkingCopy,
    )
    .await
    .unwrap();
    bed.events().await;
    project.definition.is_default_version = false;
    let replaced = import_api(bed.services(), &bed.admin(), project, overwrite())
        .await
        .unwrap();
    assert!(!replaced.is_default_version);
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
}
