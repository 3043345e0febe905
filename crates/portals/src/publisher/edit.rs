//! Editing an API: configuration (basics, visibility, tags, tiers, security, CORS, business
//! information, thumbnail), resources (with the API's scopes) and endpoints. Every form reads
//! the API's definition, changes its part and writes it back through `update_api` with the
//! version the page was drawn from, so an edit made meanwhile by someone else is refused
//! rather than overwritten.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_model::{AuthType, EndpointType, HttpVerb, PolicyLevel, SecurityScheme, Visibility};
use tollgate_operations::publisher::apis;
use tollgate_operations::publisher::definition::{
    ApiDefinition, ApiScope, BusinessInformation, CorsConfiguration, Endpoint, EndpointConfig,
    EndpointList, EndpointSettings, Resource, ScopeDefinition,
};
use tollgate_operations::publisher::{definitions, endpoint_certificates, settings};
use tollgate_operations::OpError;
use tollgate_restcore::Ctx;
use tollgate_store::ApiRow;

use super::ApiHead;
use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Publisher;

/// The security schemes the configuration page offers (others an API has are kept).
const SHOWN_SCHEMES: &[(SecurityScheme, &str)] = &[
    (SecurityScheme::OAuth2, "OAuth2 tokens"),
    (SecurityScheme::ApiKey, "API keys"),
];

/// The API and its definition, as a form starts from.
async fn load(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
) -> Result<(ApiRow, ApiDefinition), PageError> {
    let api = apis::get_api(ctx, publisher.actor(), api_id).await?;
    let definition = ApiDefinition::from_json(api.definition.clone())?;
    Ok((api, definition))
}

/// Writes an edited definition, refused if the API changed since the form was drawn.
async fn save(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    form: &FormFields,
    definition: ApiDefinition,
) -> Result<(), OpError> {
    let expected = form.get("row_version").parse::<i64>().ok();
    apis::update_api(ctx, publisher.actor(), api_id, definition, expected)
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------
// Configuration

/// A tier a box can tick.
pub(crate) struct TierChoice {
    pub name: String,
    pub description: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "publisher_configuration.html")]
struct ConfigurationPage {
    page: Chrome,
    head: ApiHead,
    row_version: i64,
    description: String,
    visibility: String,
    visible_roles: String,
    tags: String,
    tiers: Vec<TierChoice>,
    api_tiers: Vec<String>,
    api_tier: String,
    schemes: Vec<(&'static str, &'static str, bool)>,
    default_version: bool,
    cors: CorsConfiguration,
    business: BusinessInformation,
    errors: FormErrors,
}

const CONFIGURATION_FIELDS: &[&str] = &[
    "description",
    "visibility",
    "visibleRoles",
    "tags",
    "policies",
    "apiThrottlingPolicy",
    "securityScheme",
    "accessControlAllowOrigins",
    "accessControlAllowHeaders",
    "accessControlAllowMethods",
    "businessOwnerEmail",
    "technicalOwnerEmail",
    "file",
];

async fn configuration(
    ctx: &Ctx,
    publisher: &Publisher,
    api: &ApiRow,
    definition: &ApiDefinition,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = publisher.actor();
    let tiers = settings::throttling_policies(ctx, actor, PolicyLevel::Subscription)
        .await?
        .into_iter()
        .map(|p| TierChoice {
            chosen: definition.policies.contains(&p.name),
            name: p.name,
            description: p.description,
        })
        .collect();
    let api_tiers = settings::throttling_policies(ctx, actor, PolicyLevel::Api)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    Ok(render_form(
        &ConfigurationPage {
            page: publisher.chrome(format!("{} · Configuration", api.name)),
            head: ApiHead::new(api, "/configuration"),
            row_version: api.row_version,
            description: definition.description.clone().unwrap_or_default(),
            visibility: definition.visibility.as_str().to_string(),
            visible_roles: definition.visible_roles.join(", "),
            tags: definition.tags.join(", "),
            tiers,
            api_tiers,
            api_tier: definition.api_throttling_policy.clone().unwrap_or_default(),
            schemes: SHOWN_SCHEMES
                .iter()
                .map(|(scheme, label)| {
                    (
                        scheme.as_str(),
                        *label,
                        definition.security_scheme.contains(scheme),
                    )
                })
                .collect(),
            default_version: definition.is_default_version,
            cors: definition
                .cors_configuration
                .clone()
                .unwrap_or(CorsConfiguration {
                    cors_configuration_enabled: false,
                    access_control_allow_origins: vec!["*".into()],
                    access_control_allow_credentials: false,
                    access_control_allow_headers: vec![
                        "authorization".into(),
                        "Access-Control-Allow-Origin".into(),
                        "Content-Type".into(),
                        "apikey".into(),
                    ],
                    access_control_allow_methods: [
                        "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS",
                    ]
                    .map(String::from)
                    .to_vec(),
                }),
            business: definition
                .business_information
                .clone()
                .unwrap_or(BusinessInformation {
                    business_owner: None,
                    business_owner_email: None,
                    technical_owner: None,
                    technical_owner_email: None,
                }),
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn configuration_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let (api, definition) = load(&ctx, &publisher, &api_id).await?;
    configuration(&ctx, &publisher, &api, &definition, FormErrors::default()).await
}

pub(crate) async fn save_configuration(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let (api, mut definition) = load(&ctx, &publisher, &api_id).await?;
    definition.description = form.some("description");
    match Visibility::parse(form.get("visibility")) {
        Some(visibility) => definition.visibility = visibility,
        None => {
            let errors = FormErrors::field("visibility", "choose a visibility");
            return configuration(&ctx, &publisher, &api, &definition, errors).await;
        }
    }
    definition.visible_roles = form.list("visible_roles");
    definition.tags = form.list("tags");
    definition.policies = form.all("policies");
    definition.api_throttling_policy = form.some("api_tier");
    let mut schemes: Vec<SecurityScheme> = definition
        .security_scheme
        .iter()
        .filter(|s| !SHOWN_SCHEMES.iter().any(|(shown, _)| shown == *s))
        .copied()
        .collect();
    match form.names::<SecurityScheme>("scheme", "securityScheme") {
        Ok(chosen) => schemes.extend(chosen),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["securityScheme"])?;
            return configuration(&ctx, &publisher, &api, &definition, errors).await;
        }
    }
    if !schemes
        .iter()
        .any(|s| matches!(s, SecurityScheme::OAuth2 | SecurityScheme::ApiKey))
    {
        let errors = FormErrors::field("securityScheme", "choose OAuth2 tokens, API keys or both");
        return configuration(&ctx, &publisher, &api, &definition, errors).await;
    }
    definition.security_scheme = schemes;
    definition.is_default_version = form.ticked("default_version");
    definition.cors_configuration = Some(CorsConfiguration {
        cors_configuration_enabled: form.ticked("cors_enabled"),
        access_control_allow_origins: form.list("cors_origins"),
        access_control_allow_credentials: form.ticked("cors_credentials"),
        access_control_allow_headers: form.list("cors_headers"),
        access_control_allow_methods: form.list("cors_methods"),
    });
    definition.business_information = Some(BusinessInformation {
        business_owner: form.some("business_owner"),
        business_owner_email: form.some("business_owner_email"),
        technical_owner: form.some("technical_owner"),
        technical_owner_email: form.some("technical_owner_email"),
    });
    match save(&ctx, &publisher, &api_id, &form, definition.clone()).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/publisher/apis/{api_id}/configuration")).into_response())
        }
        Err(err) => {
            let errors = FormErrors::from_op(err, CONFIGURATION_FIELDS)?;
            configuration(&ctx, &publisher, &api, &definition, errors).await
        }
    }
}

/// A new thumbnail (multipart: `file`).
pub(crate) async fn upload_thumbnail(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    upload: tollgate_restcore::Form,
) -> Result<Response, PageError> {
    publisher.check_upload(&upload)?;
    let result = match upload.file("file") {
        Some((_, _, bytes)) => {
            settings::set_thumbnail(&ctx, publisher.actor(), &api_id, bytes.to_vec()).await
        }
        None => Err(OpError::invalid("file", "choose an image")),
    };
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/publisher/apis/{api_id}/configuration")).into_response())
        }
        Err(err) => {
            let errors = FormErrors::from_op(err, CONFIGURATION_FIELDS)?;
            let (api, definition) = load(&ctx, &publisher, &api_id).await?;
            configuration(&ctx, &publisher, &api, &definition, errors).await
        }
    }
}

/// The API's thumbnail, for the publisher's pages.
pub(crate) async fn thumbnail(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let image = settings::thumbnail(&ctx, publisher.actor(), &api_id).await?;
    Ok(tollgate_restcore::served_image(
        image.content_type,
        image.content,
    ))
}

// ---------------------------------------------------------------------------------------
// Resources and scopes

/// A resource as its table row shows it: `key` finds the stored resource again (its position
/// in the stored definition, or `new`), `position` numbers the row for labels.
pub(crate) struct ResourceLine {
    pub key: String,
    pub position: usize,
    pub verb: String,
    pub target: String,
    pub auth: String,
    pub tier: String,
    pub scopes: String,
}

/// A local scope as its row shows it.
pub(crate) struct ScopeLine {
    pub name: String,
    pub roles: String,
    pub shared: bool,
}

#[derive(Template)]
#[template(path = "publisher_resources.html")]
struct ResourcesPage {
    page: Chrome,
    head: ApiHead,
    row_version: i64,
    resources: Vec<ResourceLine>,
    scopes: Vec<ScopeLine>,
    verbs: Vec<&'static str>,
    auth_types: Vec<&'static str>,
    tiers: Vec<String>,
    errors: FormErrors,
}

async fn resources(
    ctx: &Ctx,
    publisher: &Publisher,
    api: &ApiRow,
    definition: &ApiDefinition,
    keys: Option<&[String]>,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let tiers = settings::throttling_policies(ctx, publisher.actor(), PolicyLevel::Api)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    Ok(render_form(
        &ResourcesPage {
            page: publisher.chrome(format!("{} · Resources", api.name)),
            head: ApiHead::new(api, "/resources"),
            row_version: api.row_version,
            resources: definition
                .operations
                .iter()
                .enumerate()
                .map(|(position, r)| ResourceLine {
                    // Redrawn after a refusal: each row keeps the stored resource it came from.
                    key: keys
                        .and_then(|k| k.get(position).cloned())
                        .unwrap_or_else(|| position.to_string()),
                    position,
                    verb: r.verb.as_str().to_string(),
                    target: r.target.clone(),
                    auth: r.auth_type.as_str().to_string(),
                    tier: r.throttling_policy.clone().unwrap_or_default(),
                    scopes: r.scopes.join(", "),
                })
                .collect(),
            scopes: definition
                .scopes
                .iter()
                .map(|s| ScopeLine {
                    name: s.scope.name.clone(),
                    roles: s.scope.bindings.join(", "),
                    shared: s.shared,
                })
                .collect(),
            // A WebSocket API's topics take SUBSCRIBE and PUBLISH; a REST API's resources, methods.
            verbs: if definition.api_type == tollgate_model::ApiType::Ws {
                [HttpVerb::Subscribe, HttpVerb::Publish].iter()
            } else {
                HttpVerb::METHODS.iter()
            }
            .map(|v| v.as_str())
            .collect(),
            auth_types: AuthType::ALL.iter().map(|a| a.as_str()).collect(),
            tiers,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn resources_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let (api, definition) = load(&ctx, &publisher, &api_id).await?;
    resources(
        &ctx,
        &publisher,
        &api,
        &definition,
        None,
        FormErrors::default(),
    )
    .await
}

/// Saves the resource table: every row (`index`, `verb`, `target`, `auth`, `tier`, `scopes`
/// repeat in document order), rows ticked `delete` dropped, a filled-in new row added; then
/// the scope table the same way.
pub(crate) async fn save_resources(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let (api, mut definition) = load(&ctx, &publisher, &api_id).await?;
    let deleted = form.all("delete");
    let (indexes, verbs, targets, auths, tiers, scopes) = (
        form.all("index"),
        form.all("verb"),
        form.all("target"),
        form.all("auth"),
        form.all("tier"),
        form.all("scopes"),
    );
    let mut operations = Vec::new();
    let mut kept_keys = Vec::new();
    let mut problems = FormErrors::default();
    for (row, index) in indexes.iter().enumerate() {
        if deleted.contains(index) {
            continue;
        }
        let target = targets.get(row).map(|t| t.trim()).unwrap_or_default();
        let original = index
            .parse::<usize>()
            .ok()
            .and_then(|i| definition.operations.get(i).cloned());
        if original.is_none() && target.is_empty() {
            continue; // the blank new row
        }
        let original_exists = original.is_some();
        let verb = verbs.get(row).map(String::as_str).unwrap_or_default();
        let Some(verb) = HttpVerb::parse(verb) else {
            problems
                .general
                .push(format!("'{verb}' is not an HTTP method"));
            continue;
        };
        let auth = auths.get(row).map(String::as_str).unwrap_or_default();
        let Some(auth_type) = AuthType::parse(auth) else {
            problems
                .general
                .push(format!("'{auth}' is not an auth type"));
            continue;
        };
        let mut resource = original.unwrap_or(Resource {
            target: String::new(),
            verb,
            auth_type,
            throttling_policy: None,
            scopes: Vec::new(),
            other: serde_json::Map::new(),
        });
        resource.target = target.to_string();
        resource.verb = verb;
        resource.auth_type = auth_type;
        resource.throttling_policy = tiers
            .get(row)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        resource.scopes = scopes
            .get(row)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        operations.push(resource);
        // A row added in this form is `new<n>` when redrawn (not a stored resource's number).
        kept_keys.push(if original_exists {
            index.clone()
        } else {
            format!("new{}", operations.len())
        });
    }
    // Local scopes: kept unless ticked for removal, their roles as edited; a new one added.
    let removed_scopes = form.all("delete_scope");
    let scope_names = form.all("scope_name");
    let scope_roles = form.all("scope_roles");
    let mut api_scopes: Vec<ApiScope> = Vec::new();
    for (row, name) in scope_names.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() || removed_scopes.iter().any(|r| r == name) {
            continue;
        }
        let roles = scope_roles
            .get(row)
            .map(|r| {
                r.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        match definition.scopes.iter().find(|s| s.scope.name == name) {
            Some(existing) => {
                let mut scope = existing.clone();
                if !scope.shared {
                    scope.scope.bindings = roles;
                }
                api_scopes.push(scope);
            }
            None => api_scopes.push(ApiScope {
                scope: ScopeDefinition {
                    id: None,
                    name: name.to_string(),
                    display_name: Some(name.to_string()),
                    description: None,
                    bindings: roles,
                    other: serde_json::Map::new(),
                },
                shared: false,
            }),
        }
    }
    definition.operations = operations;
    definition.scopes = api_scopes;
    if !problems.is_empty() {
        return resources(
            &ctx,
            &publisher,
            &api,
            &definition,
            Some(&kept_keys),
            problems,
        )
        .await;
    }
    match save(&ctx, &publisher, &api_id, &form, definition.clone()).await {
        Ok(()) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/resources")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            resources(
                &ctx,
                &publisher,
                &api,
                &definition,
                Some(&kept_keys),
                errors,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Endpoints

#[derive(Template)]
#[template(path = "publisher_endpoints.html")]
struct EndpointsPage {
    page: Chrome,
    head: ApiHead,
    row_version: i64,
    endpoint_type: String,
    /// Whether the API's endpoint kind is one this page edits.
    editable: bool,
    production: String,
    sandbox: String,
    /// The advanced settings of each side, as the form shows them.
    advanced: [AdvancedForm; 2],
    /// WSO2's `sessionManagement` of a load-balanced list: `none` or `transport`.
    session_management: String,
    /// Its `sessionTimeOut`, in milliseconds.
    session_time_out: String,
    /// The tenant's endpoint certificates, this API's first.
    certificates: Vec<CertificateView>,
    /// The API's `https://` endpoint URLs (suggested in the upload form).
    https_endpoints: Vec<String>,
    errors: FormErrors,
}

/// One side's advanced endpoint settings (WSO2's `config`), as form text: applied to every
/// endpoint of that side.
#[derive(Default)]
struct AdvancedForm {
    /// `production` or `sandbox`: the fields' prefix.
    side: &'static str,
    label: &'static str,
    action_duration: String,
    action_select: String,
    suspend_error_code: String,
    suspend_duration: String,
    suspend_max_duration: String,
    factor: String,
    retry_erro_code: String,
    retry_time_out: String,
    retry_delay: String,
    /// What was wrong with these fields, when the form came back.
    error: Option<String>,
}

/// The advanced settings' fields: (form suffix, WSO2 key, whether a list of error codes).
const ADVANCED_FIELDS: [(&str, &str, bool); 9] = [
    ("action_duration", "actionDuration", false),
    ("action_select", "actionSelect", false),
    ("suspend_error_code", "suspendErrorCode", true),
    ("suspend_duration", "suspendDuration", false),
    ("suspend_max_duration", "suspendMaxDuration", false),
    ("factor", "factor", false),
    ("retry_erro_code", "retryErroCode", true),
    ("retry_time_out", "retryTimeOut", false),
    ("retry_delay", "retryDelay", false),
];

impl AdvancedForm {
    /// The form of `side`, filled from the settings its first endpoint has.
    fn of(
        side: &'static str,
        label: &'static str,
        settings: Option<&EndpointSettings>,
        errors: &FormErrors,
    ) -> Self {
        let json = settings
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or_default();
        let text = |key: &str| match &json[key] {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        AdvancedForm {
            side,
            label,
            action_duration: text("actionDuration"),
            action_select: text("actionSelect"),
            suspend_error_code: text("suspendErrorCode"),
            suspend_duration: text("suspendDuration"),
            suspend_max_duration: text("suspendMaxDuration"),
            factor: text("factor"),
            retry_erro_code: text("retryErroCode"),
            retry_time_out: text("retryTimeOut"),
            retry_delay: text("retryDelay"),
            error: errors.of(&format!("{side}_advanced")).map(str::to_string),
        }
    }

    /// The settings the form's `side` fields give — WSO2's object, read by the same rules as
    /// the REST API's — or `None` when every field is empty (WSO2's defaults).
    fn read(form: &FormFields, side: &str) -> Result<Option<EndpointSettings>, String> {
        let mut object = serde_json::Map::new();
        for (suffix, key, list) in ADVANCED_FIELDS {
            let Some(value) = form.some(&format!("{side}_{suffix}")) else {
                continue;
            };
            let value = if list {
                serde_json::Value::Array(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|code| !code.is_empty())
                        .map(|code| serde_json::Value::String(code.into()))
                        .collect(),
                )
            } else {
                serde_json::Value::String(value)
            };
            object.insert(key.into(), value);
        }
        if object.is_empty() {
            return Ok(None);
        }
        serde_json::from_value(serde_json::Value::Object(object))
            .map(Some)
            .map_err(|err| err.to_string())
    }
}

/// The settings of a side's first endpoint that has some.
fn first_settings<'c>(
    list: Option<&'c EndpointList>,
    failovers: &'c [Endpoint],
) -> Option<&'c EndpointSettings> {
    list.map(EndpointList::endpoints)
        .unwrap_or_default()
        .iter()
        .chain(failovers)
        .find_map(|e| e.config.as_ref())
}

/// The URLs of one side (production or sandbox), one per line: the primary or balanced ones,
/// then the failovers.
fn urls(list: Option<&EndpointList>, failovers: &[Endpoint]) -> String {
    list.map(EndpointList::endpoints)
        .unwrap_or_default()
        .iter()
        .chain(failovers)
        .map(|e| e.url.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An endpoint certificate as the Endpoints page lists it.
struct CertificateView {
    alias: String,
    endpoint: String,
    subject: String,
    valid_until: String,
    status: &'static str,
    /// Whether gateways use it for one of this API's endpoints.
    applies: bool,
}

/// The tenant's endpoint certificates, those gateways use for the API's `https://` endpoints
/// (by origin, as gateways match them) first, and those endpoints' URLs.
async fn api_certificates(
    ctx: &Ctx,
    publisher: &Publisher,
    api: &ApiRow,
) -> Result<(Vec<CertificateView>, Vec<String>), PageError> {
    let urls: Vec<String> = endpoint_certificates::endpoint_urls(api)
        .into_iter()
        .filter(|url| endpoint_certificates::https_origin(url).is_some())
        .collect();
    let origins: Vec<String> = urls
        .iter()
        .filter_map(|url| endpoint_certificates::https_origin(url))
        .collect();
    let now = tollgate_model::now_millis() / 1000;
    let mut certificates: Vec<CertificateView> =
        endpoint_certificates::list(ctx, publisher.actor(), None, None)
            .await?
            .into_iter()
            .map(|c| {
                let details = endpoint_certificates::certificate_details(&c.certificate).ok();
                CertificateView {
                    subject: details
                        .as_ref()
                        .map_or_else(String::new, |d| d.subject.clone()),
                    valid_until: details.as_ref().map_or_else(String::new, |d| {
                        tollgate_restcore::rfc3339(d.not_after * 1000)
                    }),
                    status: details.as_ref().map_or("Unreadable", |d| d.status(now)),
                    applies: endpoint_certificates::https_origin(&c.endpoint)
                        .is_some_and(|o| origins.contains(&o)),
                    alias: c.alias,
                    endpoint: c.endpoint,
                }
            })
            .collect();
    // This API's first, each group by alias (the store's order).
    certificates.sort_by_key(|c| !c.applies);
    let mut urls = urls;
    urls.sort();
    urls.dedup();
    Ok((certificates, urls))
}

async fn endpoints(
    ctx: &Ctx,
    publisher: &Publisher,
    api: &ApiRow,
    definition: &ApiDefinition,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let config = definition.endpoint_config.as_ref();
    let (certificates, https_endpoints) = api_certificates(ctx, publisher, api).await?;
    Ok(render_form(
        &EndpointsPage {
            page: publisher.chrome(format!("{} · Endpoints", api.name)),
            head: ApiHead::new(api, "/endpoints"),
            row_version: api.row_version,
            endpoint_type: config
                .map_or(EndpointType::Http, |c| c.endpoint_type)
                .as_str()
                .to_string(),
            editable: EDITABLE_TYPES
                .contains(&config.map_or(EndpointType::Http, |c| c.endpoint_type)),
            production: config.map_or_else(String::new, |c| {
                urls(c.production_endpoints.as_ref(), &c.production_failovers)
            }),
            sandbox: config.map_or_else(String::new, |c| {
                urls(c.sandbox_endpoints.as_ref(), &c.sandbox_failovers)
            }),
            advanced: [
                AdvancedForm::of(
                    "production",
                    "Production",
                    config.and_then(|c| {
                        first_settings(c.production_endpoints.as_ref(), &c.production_failovers)
                    }),
                    &errors,
                ),
                AdvancedForm::of(
                    "sandbox",
                    "Sandbox",
                    config.and_then(|c| {
                        first_settings(c.sandbox_endpoints.as_ref(), &c.sandbox_failovers)
                    }),
                    &errors,
                ),
            ],
            session_management: config
                .and_then(|c| c.session_management)
                .map_or("none", |s| s.as_str())
                .to_string(),
            session_time_out: config
                .and_then(|c| c.session_time_out)
                .map(|ms| ms.to_string())
                .unwrap_or_default(),
            certificates,
            https_endpoints,
            errors: errors.clone(),
        },
        &errors,
    ))
}

/// The fields the certificate upload form names.
const CERTIFICATE_FIELDS: &[&str] = &["alias", "endpoint", "certificate"];

/// A certificate uploaded for one of the API's endpoints (multipart: `alias`, `endpoint`, the
/// `certificate` file).
pub(crate) async fn upload_endpoint_certificate(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    upload: tollgate_restcore::Form,
) -> Result<Response, PageError> {
    publisher.check_upload(&upload)?;
    let certificate = endpoint_certificates::CertificateUpload {
        alias: upload.text("alias")?.unwrap_or_default().to_string(),
        endpoint: upload.text("endpoint")?.unwrap_or_default().to_string(),
        certificate: upload
            .file("certificate")
            .map(|(_, _, bytes)| bytes.to_vec())
            .unwrap_or_default(),
    };
    let added = endpoint_certificates::add(&ctx, publisher.actor(), certificate).await;
    after_certificate_change(&ctx, &publisher, &api_id, added.map(|_| ())).await
}

/// Back to the Endpoints page after a certificate changed, or the page with the refusal.
async fn after_certificate_change(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    changed: Result<(), OpError>,
) -> Result<Response, PageError> {
    match changed {
        Ok(()) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/endpoints")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, CERTIFICATE_FIELDS)?;
            let (api, definition) = load(ctx, publisher, api_id).await?;
            endpoints(ctx, publisher, &api, &definition, errors).await
        }
    }
}

/// Deletes an endpoint certificate (gateways stop trusting it).
pub(crate) async fn delete_endpoint_certificate(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path((api_id, alias)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let deleted = endpoint_certificates::delete(&ctx, publisher.actor(), &alias).await;
    after_certificate_change(&ctx, &publisher, &api_id, deleted).await
}

pub(crate) async fn endpoints_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let (api, definition) = load(&ctx, &publisher, &api_id).await?;
    endpoints(&ctx, &publisher, &api, &definition, FormErrors::default()).await
}

/// The endpoint kinds this page edits (others are kept as they are, through the REST API).
const EDITABLE_TYPES: [EndpointType; 3] = [
    EndpointType::Http,
    EndpointType::LoadBalance,
    EndpointType::Failover,
];

/// One side's endpoints from its lines: (primary or balanced list, failovers).
fn side(
    kind: EndpointType,
    lines: &[String],
    keep: &[Endpoint],
) -> (Option<EndpointList>, Vec<Endpoint>) {
    // Per-endpoint settings (timeouts, …) stay with a URL that stays.
    let endpoint = |url: &String| {
        keep.iter()
            .find(|e| &e.url == url)
            .cloned()
            .unwrap_or(Endpoint {
                url: url.clone(),
                config: None,
                other: serde_json::Map::new(),
            })
    };
    let mut all: Vec<Endpoint> = lines.iter().map(endpoint).collect();
    if all.is_empty() {
        return (None, Vec::new());
    }
    match kind {
        EndpointType::LoadBalance => (Some(EndpointList::Many(all)), Vec::new()),
        EndpointType::Failover => {
            let primary = all.remove(0);
            (Some(EndpointList::One(primary)), all)
        }
        // A single endpoint (save_endpoints refused more than one URL).
        _ => (Some(EndpointList::One(all.remove(0))), Vec::new()),
    }
}

pub(crate) async fn save_endpoints(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let (api, mut definition) = load(&ctx, &publisher, &api_id).await?;
    let Some(kind) =
        EndpointType::parse(form.get("endpoint_type")).filter(|k| EDITABLE_TYPES.contains(k))
    else {
        let errors = FormErrors::field("endpoint_type", "choose single, load balanced or failover");
        return endpoints(&ctx, &publisher, &api, &definition, errors).await;
    };
    let production = form.lines("production");
    let sandbox = form.lines("sandbox");
    if kind == EndpointType::Http && (production.len() > 1 || sandbox.len() > 1) {
        let field = if production.len() > 1 {
            "production"
        } else {
            "sandbox"
        };
        let errors = FormErrors::field(
            field,
            "a single endpoint has one URL; choose load balanced or failover for several",
        );
        return endpoints(&ctx, &publisher, &api, &definition, errors).await;
    }
    let previous = definition.endpoint_config.clone();
    let keep: Vec<Endpoint> = previous
        .as_ref()
        .map(|c| {
            c.production_endpoints
                .iter()
                .chain(c.sandbox_endpoints.iter())
                .flat_map(|l| l.endpoints().to_vec())
                .chain(c.production_failovers.iter().cloned())
                .chain(c.sandbox_failovers.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    let (mut production_endpoints, mut production_failovers) = side(kind, &production, &keep);
    let (mut sandbox_endpoints, mut sandbox_failovers) = side(kind, &sandbox, &keep);
    // Each side's advanced settings go to every endpoint of that side.
    for (name, list, failovers) in [
        (
            "production",
            &mut production_endpoints,
            &mut production_failovers,
        ),
        ("sandbox", &mut sandbox_endpoints, &mut sandbox_failovers),
    ] {
        let settings = match AdvancedForm::read(&form, name) {
            Ok(settings) => settings,
            Err(message) => {
                let errors = FormErrors::field(&format!("{name}_advanced"), message);
                return endpoints(&ctx, &publisher, &api, &definition, errors).await;
            }
        };
        let endpoints = list
            .iter_mut()
            .flat_map(EndpointList::endpoints_mut)
            .chain(failovers.iter_mut());
        for endpoint in endpoints {
            endpoint.config = settings.clone();
        }
    }
    let session_time_out = match form.some("session_time_out") {
        Some(ms) if kind == EndpointType::LoadBalance => match ms.parse::<i64>() {
            Ok(ms) => Some(ms),
            Err(_) => {
                let errors = FormErrors::field(
                    "session_time_out",
                    format!("'{ms}' is not a number of milliseconds"),
                );
                return endpoints(&ctx, &publisher, &api, &definition, errors).await;
            }
        },
        _ => None,
    };
    // The rest of the configuration stays as it was; sessions come from the form.
    let rest = previous.unwrap_or_else(|| EndpointConfig::of_type(kind));
    definition.endpoint_config = Some(EndpointConfig {
        endpoint_type: kind,
        production_endpoints,
        sandbox_endpoints,
        production_failovers,
        sandbox_failovers,
        session_management: match form.get("session_management") {
            "transport" if kind == EndpointType::LoadBalance => {
                Some(tollgate_model::SessionManagement::Transport)
            }
            _ => None,
        },
        session_time_out,
        ..rest
    });
    match save(&ctx, &publisher, &api_id, &form, definition.clone()).await {
        Ok(()) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/endpoints")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["production", "sandbox", "endpointConfig"])?;
            endpoints(&ctx, &publisher, &api, &definition, errors).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The OpenAPI definition as text

#[derive(Template)]
#[template(path = "publisher_definition.html")]
struct DefinitionPage {
    page: Chrome,
    head: ApiHead,
    row_version: i64,
    text: String,
    errors: FormErrors,
}

async fn definition_view(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    text: Option<String>,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let api = apis::get_api(ctx, publisher.actor(), api_id).await?;
    let text = match text {
        Some(text) => text,
        None => {
            let document = definitions::get_definition(ctx, publisher.actor(), api_id).await?;
            serde_json::to_string_pretty(&document).unwrap_or_default()
        }
    };
    Ok(render_form(
        &DefinitionPage {
            page: publisher.chrome(format!("{} · Definition", api.name)),
            head: ApiHead::new(&api, "/definition"),
            row_version: api.row_version,
            text,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn definition_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    definition_view(&ctx, &publisher, &api_id, None, FormErrors::default()).await
}

/// Replaces the API's OpenAPI document (JSON or YAML): its operations become the resources,
/// keeping what the API said of a resource the document leaves unsaid (tier, …).
pub(crate) async fn save_definition(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let text = form.get("definition").to_string();
    let source = definitions::DefinitionSource::Inline(text.clone().into_bytes());
    let expected = form.get("row_version").parse::<i64>().ok();
    match definitions::update_definition(&ctx, publisher.actor(), &api_id, &source, expected).await
    {
        Ok(_) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/definition")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            definition_view(&ctx, &publisher, &api_id, Some(text), errors).await
        }
    }
}
