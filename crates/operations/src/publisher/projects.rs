//! Export and import of a whole API — its definition, definition document, documents,
//! thumbnail, lifecycle state and where it is deployed — so it moves between installations.
//! The archive format (WSO2's project layout) is the REST edge's; this is the typed content.

use serde_json::Value;
use tollgate_model::LifecycleState;
use tollgate_store::{
    ApiFilter, ApiRow, ApiSearch, Change, DocumentFile, DocumentRow, TextMatch, Thumbnail,
};

use super::definition::ApiDefinition;
use super::documents::{DocumentContent, DocumentInput};
use super::permissions;
use super::revisions::{self, DeploymentTarget};
use crate::{Actor, OpError, OpResult, Services};

const IMPORT_EXPORT: &[&str] = &[
    "apim:api_import_export",
    "apim:api_create",
    "apim:api_manage",
];

/// Everything an API is made of, as exported or to import.
#[derive(Debug, Clone)]
pub struct ApiProject {
    pub definition: ApiDefinition,
    /// The provider the API had where it came from.
    pub provider: Option<String>,
    pub status: Option<LifecycleState>,
    pub openapi: Option<Value>,
    pub documents: Vec<ProjectDocument>,
    pub thumbnail: Option<Thumbnail>,
    pub deployments: Vec<DeploymentTarget>,
}

#[derive(Debug, Clone)]
pub struct ProjectDocument {
    pub input: DocumentInput,
    /// Markdown or inline text, or a file.
    pub content: Option<DocumentContent>,
}

/// Which definition to export: the working copy, a revision by number, or the newest revision.
#[derive(Debug, Clone, Copy)]
pub enum ExportedCopy {
    WorkingCopy,
    Revision(i64),
    LatestRevision,
}

/// Finds the API a client names by id, or by name and version (and provider).
pub async fn find_api(
    services: &Services,
    actor: &Actor,
    api_id: Option<&str>,
    name: Option<&str>,
    version: Option<&str>,
    provider: Option<&str>,
) -> OpResult<ApiRow> {
    actor.require_any(IMPORT_EXPORT)?;
    if let Some(id) = api_id.filter(|i| !i.is_empty()) {
        return Ok(services.store.api(&actor.tenant, id).await?);
    }
    let (Some(name), Some(version)) = (
        name.filter(|n| !n.is_empty()),
        version.filter(|v| !v.is_empty()),
    ) else {
        return Err(OpError::invalid("apiId", "give apiId, or name and version"));
    };
    let mut filters = vec![
        ApiFilter::Name(TextMatch::Exactly(name.to_string())),
        ApiFilter::Version(TextMatch::Exactly(version.to_string())),
    ];
    if let Some(provider) = provider.filter(|p| !p.is_empty()) {
        filters.push(ApiFilter::Provider(TextMatch::Exactly(
            provider.to_string(),
        )));
    }
    let search = ApiSearch {
        filters,
        ..ApiSearch::default()
    };
    let (mut found, _) = services
        .store
        .search_apis(&actor.tenant, &search, 1, 0)
        .await?;
    found
        .pop()
        .ok_or_else(|| OpError::NotFound(format!("API {name}:{version}")))
}

pub async fn export_api(
    services: &Services,
    actor: &Actor,
    api: &ApiRow,
    copy: ExportedCopy,
) -> OpResult<ApiProject> {
    actor.require_any(IMPORT_EXPORT)?;
    let store = &services.store;
    let revisions = store.revisions(&api.id).await?;
    let revision = match copy {
        ExportedCopy::WorkingCopy => None,
        ExportedCopy::LatestRevision => Some(
            revisions
                .last()
                .ok_or_else(|| OpError::NotFound(format!("revisions of API {}", api.id)))?,
        ),
        ExportedCopy::Revision(number) => Some(
            revisions
                .iter()
                .find(|r| r.number == number)
                .ok_or_else(|| OpError::NotFound(format!("revision {number} of API {}", api.id)))?,
        ),
    };
    let (definition, document) = match revision {
        Some(revision) => (
            revision.definition.clone(),
            store.revision_openapi(&revision.id).await?,
        ),
        None => (api.definition.clone(), store.api_openapi(&api.id).await?),
    };
    let mut frozen = api.clone();
    frozen.definition = definition.clone();
    let openapi = super::definitions::render(&frozen, document)?;
    let (rows, _) = store.documents(&api.id, i64::MAX, 0).await?;
    let mut documents = Vec::with_capacity(rows.len());
    for row in rows {
        let content = match row.source_type {
            tollgate_model::DocumentSource::File => store
                .document_file(&row.id)
                .await?
                .map(DocumentContent::File),
            tollgate_model::DocumentSource::Inline | tollgate_model::DocumentSource::Markdown => {
                row.inline_content.clone().map(DocumentContent::Text)
            }
            tollgate_model::DocumentSource::Url => None,
        };
        documents.push(ProjectDocument {
            input: input_of(&row),
            content,
        });
    }
    let deployments = store
        .deployments(&api.id)
        .await?
        .into_iter()
        .map(|d| DeploymentTarget {
            environment: d.environment,
            vhost: Some(d.vhost),
            display_on_devportal: d.display_on_devportal,
        })
        .collect();
    Ok(ApiProject {
        definition: ApiDefinition::from_json(definition)?,
        provider: Some(api.provider.clone()),
        status: Some(api.lifecycle_status),
        openapi: Some(openapi),
        documents,
        thumbnail: store.thumbnail(&api.id).await?,
        deployments,
    })
}

fn input_of(row: &DocumentRow) -> DocumentInput {
    DocumentInput {
        name: row.name.clone(),
        doc_type: row.doc_type,
        other_type_name: row.other_type_name.clone(),
        summary: Some(row.summary.clone()),
        source_type: row.source_type,
        source_url: row.source_url.clone(),
        visibility: Some(row.visibility),
        inline_content: None,
    }
}

/// How an import treats what is already there.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Replace an API of the same name and version (else such an import is a conflict).
    pub overwrite: bool,
    /// Keep the provider the project names (else the importing user provides it).
    pub preserve_provider: bool,
    /// At the revision limit, delete the oldest undeployed revision to make room.
    pub rotate_revision: bool,
}

/// Imports a project in one transaction: the API (created, or replaced when `overwrite`), its
/// definition document, documents, thumbnail and lifecycle state, and — when the project was
/// deployed — a new revision deployed where it was.
pub async fn import_api(
    services: &Services,
    actor: &Actor,
    project: ApiProject,
    options: ImportOptions,
) -> OpResult<ApiRow> {
    actor.require_any(IMPORT_EXPORT)?;
    actor.require_any(permissions::CREATE)?;
    let (mut row, scopes) =
        super::apis::prepare_api(services, actor, project.definition.clone()).await?;
    if options.preserve_provider {
        if let Some(provider) = project.provider.as_deref().filter(|p| !p.is_empty()) {
            row.provider = provider.to_string();
        }
    }
    let documents = checked_documents(project.documents)?;
    let targets = revisions::resolve_targets(services, &actor.tenant, &project.deployments).await?;
    let existing = find_api(
        services,
        actor,
        None,
        Some(&row.name),
        Some(&row.version),
        None,
    )
    .await
    .ok();
    let mut tx = services.store.begin().await?;
    let mut api = match existing {
        Some(_) if !options.overwrite => {
            return Err(OpError::Conflict(format!(
                "API {}:{} already exists; import it with overwrite=true to replace it",
                row.name, row.version
            )))
        }
        Some(existing) => {
            let mut api = tx.api(&actor.tenant, &existing.id).await?;
            if api.context != row.context {
                return Err(OpError::invalid(
                    "context",
                    format!("cannot be changed ('{}' → '{}')", api.context, row.context),
                ));
            }
            super::apis::replace_working_copy_in(
                &mut tx,
                &mut api,
                super::apis::WorkingCopy::of_row(&row),
                &scopes,
                Some(project.openapi.as_ref()),
            )
            .await?;
            let (old, _) = services.store.documents(&api.id, i64::MAX, 0).await?;
            for doc in old {
                tx.delete_document(&doc.id).await?;
            }
            api
        }
        None => {
            super::apis::insert_api_in(
                &mut tx,
                actor,
                &row,
                &scopes,
                project.openapi.as_ref(),
                None,
            )
            .await?;
            row
        }
    };
    for (mut input, content) in documents {
        if let Some(DocumentContent::Text(text)) = &content {
            input.inline_content = Some(text.clone());
        }
        let doc = super::documents::new_document(&api, input, &actor.username);
        tx.insert_document(&doc).await?;
        if let Some(DocumentContent::File(file)) = content {
            tx.set_document_file(&doc.id, &file).await?;
        }
    }
    if let Some(image) = &project.thumbnail {
        tx.set_thumbnail(&api.id, image).await?;
    }
    if let Some(status) = project.status.filter(|s| *s != api.lifecycle_status) {
        let previous = api.lifecycle_status;
        api.lifecycle_status = status;
        if let Some(object) = api.definition.as_object_mut() {
            object.insert("lifeCycleStatus".into(), serde_json::json!(status));
        }
        tx.apply(&Change::ChangeLifecycle {
            api: api.clone(),
            previous,
            username: actor.username.clone(),
        })
        .await?;
    }
    if !targets.is_empty() {
        if options.rotate_revision {
            make_room_for_a_revision(&mut tx, &api).await?;
        }
        let revision = revisions::create_revision_in(&mut tx, &api, "Imported").await?;
        revisions::deploy_in(&mut tx, &api, &revision, targets).await?;
    }
    tx.commit().await?;
    tracing::info!(api = %api.id, name = %api.name, version = %api.version, "API imported");
    Ok(api)
}

fn checked_documents(
    documents: Vec<ProjectDocument>,
) -> OpResult<Vec<(DocumentInput, Option<DocumentContent>)>> {
    let mut problems = crate::Problems::default();
    let mut checked = Vec::with_capacity(documents.len());
    for (i, doc) in documents.into_iter().enumerate() {
        match super::documents::checked(doc.input) {
            Ok(input) => checked.push((input, doc.content)),
            Err(OpError::Invalid(errors)) => {
                for e in errors {
                    problems.add(format!("Docs[{i}].{}", e.field), e.message);
                }
            }
            Err(other) => return Err(other),
        }
    }
    problems.into_result(checked)
}

/// At the revision limit, deletes the oldest revision deployed nowhere.
async fn make_room_for_a_revision(tx: &mut tollgate_store::ApimTx, api: &ApiRow) -> OpResult<()> {
    if tx.revision_count(&api.id).await? < revisions::MAX_REVISIONS {
        return Ok(());
    }
    let deployed: Vec<String> = tx
        .deployments_of(&api.id)
        .await?
        .into_iter()
        .map(|d| d.revision_id)
        .collect();
    if let Some(oldest) = tx
        .revisions_of(&api.id)
        .await?
        .into_iter()
        .find(|r| !deployed.contains(&r.id))
    {
        tx.delete_revision(&oldest.id).await?;
    }
    Ok(())
}

/// A document file, for a project's documents.
pub fn document_file(name: &str, content_type: &str, content: Vec<u8>) -> DocumentContent {
    DocumentContent::File(DocumentFile {
        name: name.to_string(),
        content_type: content_type.to_string(),
        content,
    })
}
