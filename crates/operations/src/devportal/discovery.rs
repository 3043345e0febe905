//! What consumers find in the developer portal: the APIs they may see — Published and
//! Prototyped ones (Deprecated ones too for their subscribers) whose visibility lets them in —
//! with WSO2's search, their definitions with the gateway URLs filled in, documents, tiers,
//! thumbnails and tags. An API a viewer may not see is "not found".

use serde_json::{json, Map, Value};
use tollgate_model::{DocumentVisibility, PolicyLevel, ThrottlePolicy};
use tollgate_store::{ApiFilter, ApiRow, ApiSearch, DocumentRow, Finder};

use crate::publisher::definition::{AdditionalProperty, ApiDefinition};
use crate::publisher::documents::ServedContent;
use crate::{Actor, Listed, OpError, OpResult, Page, Services};

/// Who is looking: a signed-in user (their roles decide what RESTRICTED APIs they see), or an
/// anonymous visitor where anonymous browsing is on.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub tenant: String,
    /// `None` for an anonymous visitor.
    pub username: Option<String>,
    finder: Finder,
}

impl Viewer {
    /// An anonymous visitor of the super tenant's portal; refused when anonymous browsing is
    /// switched off (`[apim.devportal] enable_anonymous_mode`).
    pub fn anonymous(services: &Services) -> OpResult<Viewer> {
        if !services.devportal.anonymous_mode {
            return Err(OpError::Unauthenticated(
                "Sign in to browse APIs: anonymous browsing is switched off ([apim.devportal] enable_anonymous_mode)".into(),
            ));
        }
        Ok(Viewer {
            tenant: tollgate_model::SUPER_TENANT.to_string(),
            username: None,
            finder: Finder::Anonymous,
        })
    }

    /// A signed-in user, with their current roles.
    pub async fn signed_in(services: &Services, actor: &Actor) -> OpResult<Viewer> {
        let roles = services
            .store
            .find_user(&actor.tenant, &actor.username)
            .await?
            .map(|user| user.roles)
            .unwrap_or_default();
        Ok(Viewer {
            tenant: actor.tenant.clone(),
            username: Some(actor.username.clone()),
            finder: Finder::User {
                username: actor.username.clone(),
                roles: roles
                    .iter()
                    .map(|r| tollgate_store::visible_role(r))
                    .collect(),
            },
        })
    }
}

/// The APIs the viewer may see that match WSO2's `query` (`name:`, `context:`, `version:`,
/// `provider:`, `description:`, `tag:`, `status:`, `doc:` for document text, bare words for
/// names), newest first.
pub async fn list_apis(
    services: &Services,
    viewer: &Viewer,
    query: Option<&str>,
    page: Page,
) -> OpResult<Listed<ApiRow>> {
    let mut filters = crate::publisher::query::parse(query.unwrap_or(""))?;
    filters.push(ApiFilter::FindableBy(viewer.finder.clone()));
    let search = ApiSearch {
        filters,
        ..ApiSearch::default()
    };
    let (items, total) = services
        .store
        .search_apis(&viewer.tenant, &search, page.limit, page.offset)
        .await?;
    Ok(Listed { items, page, total })
}

/// One API the viewer may see; any other is "not found".
pub async fn get_api(services: &Services, viewer: &Viewer, api_id: &str) -> OpResult<ApiRow> {
    let search = ApiSearch {
        filters: vec![
            ApiFilter::Id(api_id.to_string()),
            ApiFilter::FindableBy(viewer.finder.clone()),
        ],
        ..ApiSearch::default()
    };
    let (mut found, _) = services
        .store
        .search_apis(&viewer.tenant, &search, 1, 0)
        .await?;
    found
        .pop()
        .ok_or_else(|| OpError::NotFound(format!("API {api_id}")))
}

/// Where an API is served: per environment it is deployed to (and shown in the portal), its
/// gateway URLs, and — for the default version of its name — the URLs without the version.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointUrls {
    pub environment: String,
    pub display_name: String,
    pub http: Option<String>,
    pub https: Option<String>,
    pub default_http: Option<String>,
    pub default_https: Option<String>,
}

/// An API as the developer portal shows it.
#[derive(Debug, Clone)]
pub struct ApiDetail {
    pub api: ApiRow,
    /// The stored definition, read as WSO2's API object.
    pub definition: ApiDefinition,
    pub urls: Vec<EndpointUrls>,
    /// The average rating, when there are ratings.
    pub rating: Option<f64>,
}

impl ApiDetail {
    /// The custom properties consumers see (a property with `display: false` is the
    /// publisher's alone).
    pub fn shown_properties(&self) -> Vec<&AdditionalProperty> {
        self.definition
            .additional_properties
            .iter()
            .flatten()
            .filter(|p| p.display != Some(false))
            .collect()
    }
}

/// One API the viewer may see, with its gateway URLs and rating.
pub async fn api_detail(services: &Services, viewer: &Viewer, api_id: &str) -> OpResult<ApiDetail> {
    let api = get_api(services, viewer, api_id).await?;
    let definition = ApiDefinition::from_json(api.definition.clone())?;
    let urls = endpoint_urls(services, &api).await?;
    let rating = average_ratings(services, std::slice::from_ref(&api))
        .await?
        .remove(&api.id);
    Ok(ApiDetail {
        api,
        definition,
        urls,
        rating,
    })
}

/// The average rating of each of `apis` that has ratings, by API id.
pub async fn average_ratings(
    services: &Services,
    apis: &[ApiRow],
) -> OpResult<std::collections::HashMap<String, f64>> {
    let ids: Vec<&str> = apis.iter().map(|a| a.id.as_str()).collect();
    Ok(services
        .store
        .average_ratings(&ids)
        .await?
        .into_iter()
        .collect())
}

pub async fn endpoint_urls(services: &Services, api: &ApiRow) -> OpResult<Vec<EndpointUrls>> {
    let deployments = services.store.deployments(&api.id).await?;
    let environments = crate::environments::all_environments(services, &api.tenant).await?;
    let base_path = tollgate_model::base_path(&api.context, &api.version);
    let mut urls = Vec::new();
    for deployment in deployments.iter().filter(|d| d.display_on_devportal) {
        let Some(environment) = environments
            .iter()
            .find(|e| e.name == deployment.environment)
        else {
            continue;
        };
        let vhost = environment
            .vhosts
            .iter()
            .find(|v| v.host == deployment.vhost)
            .or_else(|| environment.vhosts.first());
        let Some(vhost) = vhost else { continue };
        let context = vhost.http_context.trim_matches('/');
        let context = if context.is_empty() {
            String::new()
        } else {
            format!("/{context}")
        };
        let url = |scheme: &str, port: Option<u16>, default: u16| {
            port.map(|port| {
                if port == default {
                    format!("{scheme}://{}{context}{base_path}", deployment.vhost)
                } else {
                    format!("{scheme}://{}:{port}{context}{base_path}", deployment.vhost)
                }
            })
        };
        let http = url("http", vhost.http_port, 80);
        let https = url("https", vhost.https_port, 443);
        // The default version is also served at its context without the version.
        let without_version = |url: &Option<String>| {
            url.as_ref().filter(|_| api.is_default_version).map(|url| {
                format!(
                    "{}{}/",
                    url.trim_end_matches(&base_path),
                    tollgate_model::default_version_path(&api.context).trim_end_matches('/')
                )
            })
        };
        urls.push(EndpointUrls {
            environment: environment.name.clone(),
            display_name: environment.display_name.clone(),
            default_http: without_version(&http),
            default_https: without_version(&https),
            http,
            https,
        });
    }
    Ok(urls)
}

/// The API's OpenAPI definition as a client generator needs it: `servers` are the gateway URLs
/// it is deployed at (`environment` picks one), and the security schemes are those the gateway
/// applies — OAuth2 with this key manager's token URL, and/or the API key header.
pub async fn definition(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
    environment: Option<&str>,
) -> OpResult<Value> {
    let api = get_api(services, viewer, api_id).await?;
    let stored = services.store.api_openapi(&api.id).await?;
    let mut document = crate::publisher::definitions::render(&api, stored)?;
    let urls = endpoint_urls(services, &api).await?;
    if let Some(wanted) = environment {
        if !urls.iter().any(|u| u.environment == wanted) {
            return Err(OpError::NotFound(format!(
                "deployment of API {api_id} in environment {wanted}"
            )));
        }
    }
    let servers: Vec<Value> = urls
        .iter()
        .filter(|u| environment.is_none_or(|wanted| u.environment == wanted))
        .flat_map(|u| [u.https.clone(), u.http.clone()])
        .flatten()
        .map(|url| json!({ "url": url }))
        .collect();
    let definition =
        crate::publisher::definition::ApiDefinition::from_json(api.definition.clone())?;
    let authentication = definition.runtime_authentication();
    let Some(root) = document.as_object_mut() else {
        return Ok(document);
    };
    let swagger2 = root.contains_key("swagger");
    let token_url = format!("{}/oauth2/token", services.key_manager.base_url());
    let mut requirements = Vec::new();
    if swagger2 {
        // Swagger 2: one host and base path; the first gateway URL (never the backend's,
        // which a stored document may name).
        for field in ["schemes", "host", "basePath"] {
            root.remove(field);
        }
        if let Some(first) = servers.first().and_then(|s| s["url"].as_str()) {
            if let Some((scheme, rest)) = first.split_once("://") {
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                root.insert("schemes".into(), json!([scheme]));
                root.insert("host".into(), json!(host));
                root.insert("basePath".into(), json!(format!("/{path}")));
            }
        }
        let definitions = object_at(root, "securityDefinitions");
        if authentication.oauth2 {
            let scopes = scopes_of(definitions.get("default"), "/scopes");
            definitions.insert(
                "default".into(),
                json!({"type": "oauth2", "flow": "application", "tokenUrl": token_url, "scopes": scopes}),
            );
            requirements.push(json!({"default": []}));
        }
        if authentication.api_key {
            definitions.insert(
                "api_key".into(),
                json!({"type": "apiKey", "name": authentication.api_key_header, "in": "header"}),
            );
            requirements.push(json!({"api_key": []}));
        }
    } else {
        root.insert("servers".into(), Value::Array(servers));
        let components = object_at(root, "components");
        let schemes = object_at(components, "securitySchemes");
        if authentication.oauth2 {
            let scopes = scopes_of(schemes.get("default"), "/flows/implicit/scopes");
            schemes.insert(
                "default".into(),
                json!({"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": scopes}}}),
            );
            requirements.push(json!({"default": []}));
        }
        if authentication.api_key {
            schemes.insert(
                "api_key".into(),
                json!({"type": "apiKey", "name": authentication.api_key_header, "in": "header"}),
            );
            requirements.push(json!({"api_key": []}));
        }
    }
    // Any one of the schemes will do, as the gateway accepts either.
    root.insert("security".into(), Value::Array(requirements));
    Ok(document)
}

fn object_at<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    match entry {
        Value::Object(object) => object,
        _ => unreachable!("made an object just above"),
    }
}

/// The scopes a stored scheme declares (kept when the scheme is rewritten).
fn scopes_of(scheme: Option<&Value>, pointer: &str) -> Value {
    scheme
        .and_then(|s| s.pointer(pointer))
        .filter(|s| s.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// The API's documents a consumer may read: those visible at the API's level.
pub async fn documents(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
    page: Page,
) -> OpResult<Listed<DocumentRow>> {
    let api = get_api(services, viewer, api_id).await?;
    let (all, _) = services.store.documents(&api.id, i64::MAX, 0).await?;
    let visible: Vec<DocumentRow> = all
        .into_iter()
        .filter(|d| d.visibility == DocumentVisibility::ApiLevel)
        .collect();
    Ok(Listed::page_of(visible, page))
}

pub async fn document(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
    document_id: &str,
) -> OpResult<DocumentRow> {
    let api = get_api(services, viewer, api_id).await?;
    let document = services
        .store
        .document(&api.id, document_id)
        .await
        .map_err(|_| OpError::NotFound(format!("document {document_id}")))?;
    if document.visibility != DocumentVisibility::ApiLevel {
        return Err(OpError::NotFound(format!("document {document_id}")));
    }
    Ok(document)
}

pub async fn document_content(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
    document_id: &str,
) -> OpResult<ServedContent> {
    let document = document(services, viewer, api_id, document_id).await?;
    crate::publisher::documents::content_of(services, document).await
}

pub async fn thumbnail(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
) -> OpResult<tollgate_store::Thumbnail> {
    let api = get_api(services, viewer, api_id).await?;
    services
        .store
        .thumbnail(&api.id)
        .await?
        .ok_or_else(|| OpError::NotFound(format!("thumbnail of API {api_id}")))
}

/// The subscription tiers the API offers, with their limits.
pub async fn subscription_policies(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
) -> OpResult<Vec<ThrottlePolicy>> {
    let api = get_api(services, viewer, api_id).await?;
    let offered = crate::publisher::definition::ApiDefinition::from_json(api.definition)?.policies;
    Ok(services
        .store
        .policies(&viewer.tenant, PolicyLevel::Subscription)
        .await?
        .into_iter()
        .filter(|p| offered.contains(&p.name))
        .collect())
}

/// Tags of the APIs the viewer may see, with how many carry each.
pub async fn tags(
    services: &Services,
    viewer: &Viewer,
    page: Page,
) -> OpResult<Listed<(String, i64)>> {
    let (items, total) = services
        .store
        .findable_tags(&viewer.tenant, &viewer.finder, page.limit, page.offset)
        .await?;
    Ok(Listed { items, page, total })
}

/// One hit of `GET /search`: an API, or one of its documents.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub api: ApiRow,
    /// The document that matched, for a document hit.
    pub document: Option<DocumentRow>,
}

/// WSO2's unified search: the APIs matching `query` (as the API list reads it), then the
/// documents of APIs the viewer may see whose name, summary or text contains the query's words.
pub async fn search(
    services: &Services,
    viewer: &Viewer,
    query: Option<&str>,
    page: Page,
) -> OpResult<Listed<SearchHit>> {
    let query = query.unwrap_or("").trim();
    // Documents match on the plain words of the query (or its `doc:` or `content:` terms).
    let words: Vec<String> = query
        .split_whitespace()
        .filter_map(|term| match term.split_once(':') {
            None => Some(term.to_string()),
            Some((attribute, value))
                if attribute.eq_ignore_ascii_case("doc")
                    || attribute.eq_ignore_ascii_case("content") =>
            {
                Some(value.trim_matches('"').to_string())
            }
            Some(_) => None,
        })
        .filter(|w| !w.is_empty())
        .collect();
    let api_query: String = query
        .split_whitespace()
        .map(|term| match term.split_once(':') {
            Some((attribute, value)) if attribute.eq_ignore_ascii_case("content") => {
                format!("doc:{value}")
            }
            _ => term.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let apis = list_apis(
        services,
        viewer,
        Some(&api_query),
        Page::new(Some(Page::MAX_LIMIT), Some(0))?,
    )
    .await?;
    let mut hits: Vec<SearchHit> = apis
        .items
        .into_iter()
        .map(|api| SearchHit {
            api,
            document: None,
        })
        .collect();
    if !words.is_empty() {
        let documents = services
            .store
            .search_documents(&viewer.tenant, &viewer.finder, &words, Page::MAX_LIMIT)
            .await?;
        hits.extend(documents.into_iter().map(|(document, api)| SearchHit {
            api,
            document: Some(document),
        }));
    }
    Ok(Listed::page_of(hits, page))
}

/// The application or subscription tiers (the developer portal shows no API-level ones).
pub async fn tiers(
    services: &Services,
    viewer: &Viewer,
    level: PolicyLevel,
) -> OpResult<Vec<ThrottlePolicy>> {
    if level == PolicyLevel::Api {
        return Err(OpError::invalid(
            "policyLevel",
            "'api' is not one of application, subscription",
        ));
    }
    Ok(services.store.policies(&viewer.tenant, level).await?)
}
