//! `GET /apis/export` and `POST /apis/import`: an API as a zip in WSO2's project layout, so it
//! moves between Tollgate installations and WSO2 exports import:
//!
//! ```text
//! {Name}-{version}/api.yaml                       type: api, data: the API object
//! {Name}-{version}/Definitions/swagger.yaml       the OpenAPI document
//! {Name}-{version}/Docs/{Doc}/document.yaml       type: document, data: the document
//! {Name}-{version}/Docs/{Doc}/{Doc or file name}  its inline content or its file
//! {Name}-{version}/Image/icon.{png,jpg,…}         the thumbnail
//! {Name}-{version}/deployment_environments.yaml   where it is deployed
//! ```

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{DocumentSource, LifecycleState};
use tollgate_operations::publisher::definition::ApiDefinition;
use tollgate_operations::publisher::documents::DocumentContent;
use tollgate_operations::publisher::projects::{
    self as ops, ApiProject, ExportedCopy, ImportOptions, ProjectDocument,
};
use tollgate_operations::publisher::revisions::DeploymentTarget;
use tollgate_restcore::{ApiError, Ctx, Form, Principal, QueryParams};
use tollgate_store::Thumbnail;

use crate::documents::DocumentBody;
use crate::wire::api_json;

/// The version WSO2 4.2 writes into a project's files.
const PROJECT_VERSION: &str = "v4.2.0";
/// The most an archive may expand to.
const MAX_EXPANDED_BYTES: u64 = 64 * 1024 * 1024;

/// Archives may be as large as their definition and files, up to 32 MB.
pub(crate) fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportQuery {
    api_id: Option<String>,
    name: Option<String>,
    version: Option<String>,
    provider_name: Option<String>,
    revision_number: Option<String>,
    format: Option<String>,
    preserve_status: Option<bool>,
    #[serde(default)]
    latest_revision: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Yaml,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }

    fn write(self, value: &Value) -> Result<Vec<u8>, ApiError> {
        match self {
            Format::Json => serde_json::to_vec_pretty(value).map_err(|_| ApiError::internal()),
            Format::Yaml => serde_yaml_ng::to_string(value)
                .map(String::into_bytes)
                .map_err(|_| ApiError::internal()),
        }
    }
}

/// WSO2's typed file: `{type, version, data}`.
fn typed(kind: &str, data: Value) -> Value {
    json!({"type": kind, "version": PROJECT_VERSION, "data": data})
}

/// A name safe as one path segment of an archive.
fn segment(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_. ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(['.', ' ']).to_string();
    if cleaned.is_empty() {
        "_".to_string()
    } else {
        cleaned
    }
}

pub(crate) async fn export(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("") | Some("YAML") => Format::Yaml,
        Some("JSON") => Format::Json,
        Some(other) => {
            return Err(ApiError::bad_field(
                "format",
                format!("'{other}' is not one of JSON, YAML"),
            ))
        }
    };
    let copy = match q.revision_number.as_deref().filter(|r| !r.is_empty()) {
        Some(number) => ExportedCopy::Revision(number.parse().map_err(|_| {
            ApiError::bad_field("revisionNumber", format!("'{number}' is not a number"))
        })?),
        None if q.latest_revision => ExportedCopy::LatestRevision,
        None => ExportedCopy::WorkingCopy,
    };
    let api = ops::find_api(
        &ctx,
        &principal,
        q.api_id.as_deref(),
        q.name.as_deref(),
        q.version.as_deref(),
        q.provider_name.as_deref(),
    )
    .await?;
    let project = ops::export_api(&ctx, &principal, &api, copy).await?;

    let root = format!("{}-{}", segment(&api.name), segment(&api.version));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut frozen = api.clone();
    frozen.definition = project.definition.to_json();
    let mut data = api_json(&frozen);
    if !q.preserve_status.unwrap_or(true) {
        data["lifeCycleStatus"] = json!(LifecycleState::Created);
    }
    let ext = format.extension();
    files.push((
        format!("{root}/api.{ext}"),
        format.write(&typed("api", data))?,
    ));
    if let Some(openapi) = &project.openapi {
        files.push((
            format!("{root}/Definitions/swagger.{ext}"),
            format.write(openapi)?,
        ));
    }
    for doc in &project.documents {
        let dir = format!("{root}/Docs/{}", segment(&doc.input.name));
        let mut data = json!({
            "name": doc.input.name,
            "type": doc.input.doc_type,
            "summary": doc.input.summary,
            "sourceType": doc.input.source_type,
            "sourceUrl": doc.input.source_url.clone().unwrap_or_default(),
            "otherTypeName": doc.input.other_type_name,
            "visibility": doc.input.visibility,
        });
        match &doc.content {
            Some(DocumentContent::Text(text)) => {
                files.push((
                    format!("{dir}/{}", segment(&doc.input.name)),
                    text.clone().into_bytes(),
                ));
            }
            Some(DocumentContent::File(file)) => {
                data["fileName"] = json!(file.name);
                files.push((
                    format!("{dir}/{}", segment(&file.name)),
                    file.content.clone(),
                ));
            }
            None => {}
        }
        files.push((
            format!("{dir}/document.{ext}"),
            format.write(&typed("document", data))?,
        ));
    }
    if let Some(image) = &project.thumbnail {
        let ext = match image.content_type.as_str() {
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            _ => "svg",
        };
        files.push((format!("{root}/Image/icon.{ext}"), image.content.clone()));
    }
    if !project.deployments.is_empty() {
        let data: Vec<Value> = project
            .deployments
            .iter()
            .map(|d| {
                json!({
                    "displayOnDevportal": d.display_on_devportal,
                    "deploymentEnvironment": d.environment,
                    "deploymentVhost": d.vhost,
                })
            })
            .collect();
        files.push((
            format!("{root}/deployment_environments.{ext}"),
            format.write(&typed("deployment_environments", Value::Array(data)))?,
        ));
    }
    let archive = zip_files(&files).map_err(|e| {
        tracing::error!(error = %e, "cannot write an export archive");
        ApiError::internal()
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{root}.zip\""),
            ),
        ],
        archive,
    )
        .into_response())
}

fn zip_files(files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, content) in files {
        writer.start_file(path.as_str(), options)?;
        writer.write_all(content)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// The archive's files by path below its root folder (`api.yaml`, `Docs/Guide/document.yaml`).
fn unzip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
    let bad = |message: String| ApiError::bad_field("file", message);
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(format!("is not a zip archive: {e}")))?;
    let mut files = BTreeMap::new();
    let mut expanded = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("entry {i} cannot be read: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        // Only well-formed relative paths; nothing climbs out of the archive.
        let Some(path) = entry.enclosed_name() else {
            return Err(bad(format!("entry {i} has an unsafe path")));
        };
        let path = path.to_string_lossy().replace('\\', "/");
        let mut content = Vec::new();
        let limit = MAX_EXPANDED_BYTES - expanded;
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("entry '{path}' cannot be read: {e}")))?;
        expanded += content.len() as u64;
        if expanded > MAX_EXPANDED_BYTES {
            return Err(bad(format!(
                "expands to more than {MAX_EXPANDED_BYTES} bytes"
            )));
        }
        files.insert(path, content);
    }
    // Strip the project's root folder (`PizzaShackAPI-1.0.0/`), if everything is in one.
    let root = files
        .keys()
        .find(|p| p.ends_with("api.yaml") || p.ends_with("api.json"))
        .and_then(|p| p.rsplit_once('/').map(|(dir, _)| format!("{dir}/")))
        .unwrap_or_default();
    Ok(files
        .into_iter()
        .filter_map(|(path, content)| path.strip_prefix(&root).map(|p| (p.to_string(), content)))
        .collect())
}

/// A `{type, version, data}` file (YAML or JSON), its `data`.
fn read_typed(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Result<Option<Value>, ApiError> {
    let Some(bytes) = files.get(path) else {
        return Ok(None);
    };
    let value: Value = serde_yaml_ng::from_slice(bytes)
        .map_err(|e| ApiError::bad_field(path, format!("cannot be read: {e}")))?;
    Ok(Some(value.get("data").cloned().unwrap_or(value)))
}

fn either(files: &BTreeMap<String, Vec<u8>>, stem: &str) -> Result<Option<Value>, ApiError> {
    match read_typed(files, &format!("{stem}.yaml"))? {
        Some(value) => Ok(Some(value)),
        None => read_typed(files, &format!("{stem}.json")),
    }
}

/// Reads a project archive into what the import operation takes.
fn project_of(files: &BTreeMap<String, Vec<u8>>) -> Result<ApiProject, ApiError> {
    let data = either(files, "api")?
        .ok_or_else(|| ApiError::bad_field("file", "the archive has no api.yaml or api.json"))?;
    let provider = data["provider"].as_str().map(str::to_string);
    let status = match data["lifeCycleStatus"].as_str() {
        Some(text) => Some(LifecycleState::parse(text).ok_or_else(|| {
            ApiError::bad_field(
                "api.yaml: lifeCycleStatus",
                format!("'{text}' is not one of {}", LifecycleState::names()),
            )
        })?),
        None => None,
    };
    let definition =
        ApiDefinition::from_json(data).map_err(|e| prefixed(e.into(), "api.yaml: "))?;
    let openapi = ["yaml", "json"]
        .iter()
        .find_map(|ext| files.get(&format!("Definitions/swagger.{ext}")))
        .map(|bytes| {
            tollgate_operations::publisher::openapi::read(bytes)
                .map(|document| document.value)
                .map_err(|e| prefixed(e.into(), "Definitions/swagger: "))
        })
        .transpose()?;

    let mut documents = Vec::new();
    let doc_dirs: Vec<String> = files
        .keys()
        .filter_map(|p| p.strip_prefix("Docs/"))
        .filter_map(|p| {
            p.strip_suffix("/document.yaml")
                .or_else(|| p.strip_suffix("/document.json"))
        })
        .map(str::to_string)
        .collect();
    for dir in doc_dirs {
        let Some(data) = either(files, &format!("Docs/{dir}/document"))? else {
            continue;
        };
        let body: DocumentBody = tollgate_restcore::from_value(&data)
            .map_err(|e| prefixed(e, &format!("Docs/{dir}/document: ")))?;
        let file_name = data["fileName"].as_str().filter(|f| !f.is_empty());
        // The content: the file the document names, or the one other file in its folder.
        let content_path = file_name
            .map(|f| format!("Docs/{dir}/{f}"))
            .filter(|p| files.contains_key(p))
            .or_else(|| {
                files
                    .keys()
                    .find(|p| {
                        p.starts_with(&format!("Docs/{dir}/"))
                            && !p.ends_with("/document.yaml")
                            && !p.ends_with("/document.json")
                    })
                    .cloned()
            });
        let content = content_path.and_then(|path| {
            let bytes = files.get(&path)?.clone();
            match body.source_type {
                DocumentSource::File => Some(ops::document_file(
                    path.rsplit('/').next().unwrap_or("document"),
                    content_type_of(&path),
                    bytes,
                )),
                DocumentSource::Inline | DocumentSource::Markdown => Some(DocumentContent::Text(
                    String::from_utf8_lossy(&bytes).into_owned(),
                )),
                DocumentSource::Url => None,
            }
        });
        documents.push(ProjectDocument {
            input: body.into(),
            content,
        });
    }

    let thumbnail = files
        .iter()
        .find(|(path, _)| path.starts_with("Image/"))
        .map(|(path, bytes)| Thumbnail {
            content_type: content_type_of(path).to_string(),
            content: bytes.clone(),
        });
    let deployments = match either(files, "deployment_environments")? {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|d| {
                Some(DeploymentTarget {
                    environment: d["deploymentEnvironment"].as_str()?.to_string(),
                    vhost: d["deploymentVhost"].as_str().map(str::to_string),
                    display_on_devportal: d["displayOnDevportal"].as_bool().unwrap_or(true),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(ApiProject {
        definition,
        provider,
        status,
        openapi,
        documents,
        thumbnail,
        deployments,
    })
}

fn content_type_of(path: &str) -> &'static str {
    match path
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("md") => "text/markdown",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("yaml" | "yml") => "application/yaml",
        _ => "application/octet-stream",
    }
}

/// Names the file a problem was found in.
fn prefixed(err: ApiError, prefix: &str) -> ApiError {
    let mut err = err;
    for e in &mut err.errors {
        e.field = format!("{prefix}{}", e.field);
    }
    err.description = format!("{prefix}{}", err.description);
    err
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportQuery {
    #[serde(default)]
    preserve_provider: Option<bool>,
    #[serde(default)]
    rotate_revision: bool,
    #[serde(default)]
    overwrite: bool,
}

pub(crate) async fn import(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ImportQuery>,
    form: Form,
) -> Result<Response, ApiError> {
    let archive = form
        .bytes("file")
        .ok_or_else(|| ApiError::bad_field("file", "is required: the zip archive"))?;
    let files = unzip(archive)?;
    let project = project_of(&files)?;
    let options = ImportOptions {
        overwrite: q.overwrite,
        preserve_provider: q.preserve_provider.unwrap_or(true),
        rotate_revision: q.rotate_revision,
    };
    let api = ops::import_api(&ctx, &principal, project, options).await?;
    Ok((
        StatusCode::OK,
        [(
            header::LOCATION,
            format!("/api/am/publisher/v4/apis/{}", api.id),
        )],
        "API imported successfully.",
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_round_trip_and_unsafe_paths_are_refused() {
        let files = vec![
            (
                "Pizza-1.0.0/api.yaml".to_string(),
                b"type: api\ndata: {}".to_vec(),
            ),
            (
                "Pizza-1.0.0/Docs/Guide/document.yaml".to_string(),
                b"x".to_vec(),
            ),
        ];
        let unpacked = unzip(&zip_files(&files).unwrap()).unwrap();
        assert_eq!(
            unpacked.keys().collect::<Vec<_>>(),
            ["Docs/Guide/document.yaml", "api.yaml"]
        );
        let evil = zip_files(&[("../../etc/passwd".to_string(), b"x".to_vec())]).unwrap();
        assert!(unzip(&evil).is_err());
        assert!(unzip(b"not a zip").is_err());
    }
}
