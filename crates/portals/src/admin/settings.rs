//! The admin portal's settings pages: a tier's edit page (change its limit, delete it), gateway
//! environments and key managers — over the Admin API's operations.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_model::PolicyLevel;
use tollgate_operations::admin::tiers::{self, TierInput};
use tollgate_operations::environments::{self, EnvironmentInput, Vhost};
use tollgate_operations::key_managers::{self, KeyManagerInput};
use tollgate_operations::OpError;
use tollgate_restcore::Ctx;
use tollgate_store::KeyManagerRow;

use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Administrator;

/// The level a tier page's path names (the admin pages edit subscription and application tiers).
fn level_of(slug: &str) -> Result<PolicyLevel, PageError> {
    slug.parse()
        .ok()
        .filter(|level| *level != PolicyLevel::Api)
        .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, "No such tier level"))
}

// ---------------------------------------------------------------------------------------
// One tier

#[derive(Template)]
#[template(path = "admin_tier.html")]
struct TierPage {
    page: Chrome,
    level: String,
    id: String,
    form: FormFields,
    errors: FormErrors,
}

async fn tier_view(
    ctx: &Ctx,
    admin: &Administrator,
    level: &str,
    id: &str,
    form: Option<FormFields>,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let tier = tiers::get_tier(ctx, admin.actor(), level_of(level)?, id).await?;
    let form = form.unwrap_or_else(|| {
        FormFields::from_pairs(vec![
            ("name".into(), tier.name.clone()),
            ("display_name".into(), tier.display_name.clone()),
            ("description".into(), tier.description.clone()),
            (
                "request_count".into(),
                tier.request_count
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            ),
            ("unit_time".into(), tier.unit_time.to_string()),
            ("time_unit".into(), tier.time_unit.as_str().to_string()),
        ])
    });
    Ok(render_form(
        &TierPage {
            page: admin.chrome(format!("Tier {}", tier.name)),
            level: level.to_string(),
            id: id.to_string(),
            form,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn tier_page(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Path((level, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    tier_view(&ctx, &admin, &level, &id, None, FormErrors::default()).await
}

/// Saves a tier's limit, display name and description, or deletes it (`action=delete`).
pub(crate) async fn save_tier(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Path((level, id)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    let policy_level = level_of(&level)?;
    let result = if form.get("action") == "delete" {
        tiers::delete_tier(&ctx, admin.actor(), policy_level, &id).await
    } else {
        let number = |field: &str, api_field: &str| {
            form.get(field)
                .trim()
                .parse::<i64>()
                .map_err(|_| OpError::invalid(api_field, "must be a whole number"))
        };
        match (
            number("request_count", "requestCount"),
            number("unit_time", "unitTime"),
        ) {
            (Ok(count), Ok(unit)) => {
                let input = TierInput {
                    name: form.get("name").to_string(),
                    display_name: form.some("display_name"),
                    description: form.some("description"),
                    limit_type: tollgate_model::LimitType::RequestCount,
                    request_count: Some((count, unit, form.get("time_unit").to_string())),
                };
                tiers::update_tier(&ctx, admin.actor(), policy_level, &id, input)
                    .await
                    .map(|_| ())
            }
            (Err(err), _) | (_, Err(err)) => Err(err),
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/tiers").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(
                err,
                &[
                    "policyName",
                    "displayName",
                    "requestCount",
                    "unitTime",
                    "timeUnit",
                    "description",
                ],
            )?;
            tier_view(&ctx, &admin, &level, &id, Some(form), errors).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Gateway environments

/// An environment as the list shows it.
pub(crate) struct EnvironmentLine {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub hosts: String,
    pub read_only: bool,
}

#[derive(Template)]
#[template(path = "admin_environments.html")]
struct EnvironmentsPage {
    page: Chrome,
    environments: Vec<EnvironmentLine>,
    form: FormFields,
    errors: FormErrors,
}

async fn environments_view(
    ctx: &Ctx,
    admin: &Administrator,
    form: FormFields,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let environments = environments::list_environments(ctx, admin.actor())
        .await?
        .into_iter()
        .map(|e| EnvironmentLine {
            hosts: e
                .vhosts
                .iter()
                .map(|v| {
                    let ports: Vec<String> = [("http", v.http_port), ("https", v.https_port)]
                        .iter()
                        .filter_map(|(scheme, port)| port.map(|p| format!("{scheme} {p}")))
                        .collect();
                    format!("{} ({})", v.host, ports.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; "),
            id: e.id,
            name: e.name,
            display_name: e.display_name,
            read_only: e.read_only,
        })
        .collect();
    Ok(render_form(
        &EnvironmentsPage {
            page: admin.chrome("Gateway environments"),
            environments,
            form,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn environments_page(
    State(ctx): State<Ctx>,
    admin: Administrator,
) -> Result<Response, PageError> {
    let form = FormFields::from_pairs(vec![
        ("http_port".into(), "8280".into()),
        ("https_port".into(), "8243".into()),
    ]);
    environments_view(&ctx, &admin, form, FormErrors::default()).await
}

/// A port field: empty is none; anything else must be a port number.
fn port(form: &FormFields, field: &str, api_field: &str) -> Result<Option<u16>, OpError> {
    form.some(field)
        .map(|p| {
            p.parse::<u16>()
                .map_err(|_| OpError::invalid(api_field, "must be a port number (1 to 65535)"))
        })
        .transpose()
}

pub(crate) async fn create_environment(
    State(ctx): State<Ctx>,
    admin: Administrator,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    let result = async {
        let vhost = Vhost {
            host: form.get("host").trim().to_string(),
            http_context: form.get("http_context").trim().to_string(),
            http_port: port(&form, "http_port", "httpPort")?,
            https_port: port(&form, "https_port", "httpsPort")?,
            ws_port: None,
            wss_port: None,
        };
        let input = EnvironmentInput {
            name: form.get("name").to_string(),
            display_name: form.some("display_name"),
            description: form.some("description"),
            provider: None,
            vhosts: vec![vhost],
        };
        environments::create_environment(&ctx, admin.actor(), input).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/admin/environments").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(
                err,
                &[
                    "name",
                    "displayName",
                    "description",
                    "host",
                    "httpPort",
                    "httpsPort",
                    "httpContext",
                ],
            )?;
            environments_view(&ctx, &admin, form, errors).await
        }
    }
}

pub(crate) async fn delete_environment(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    match environments::delete_environment(&ctx, admin.actor(), &id).await {
        Ok(()) => Ok(Redirect::to("/admin/environments").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            environments_view(&ctx, &admin, FormFields::default(), errors).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Key managers

#[derive(Template)]
#[template(path = "admin_key_managers.html")]
struct KeyManagersPage {
    page: Chrome,
    key_managers: Vec<KeyManagerRow>,
    /// The resident key manager's signing keys: (kid, algorithm, created, retiring).
    signing_keys: Vec<(String, String, String, Option<String>)>,
    resident: String,
    form: FormFields,
    errors: FormErrors,
}

async fn key_managers_view(
    ctx: &Ctx,
    admin: &Administrator,
    form: FormFields,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let key_managers = key_managers::list(ctx, admin.actor()).await?;
    let signing_keys = tollgate_operations::admin::signing_keys::list(ctx, admin.actor())
        .await?
        .into_iter()
        .map(|k| {
            (
                k.kid,
                k.algorithm,
                crate::pages::when(k.created_time),
                k.retire_after
                    .map(|at| crate::pages::when(at.saturating_mul(1000))),
            )
        })
        .collect();
    Ok(render_form(
        &KeyManagersPage {
            page: admin.chrome("Key managers"),
            key_managers,
            signing_keys,
            resident: key_managers::resident_id(),
            form,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn key_managers_page(
    State(ctx): State<Ctx>,
    admin: Administrator,
) -> Result<Response, PageError> {
    let form = FormFields::from_pairs(vec![("type".into(), "custom".into())]);
    key_managers_view(&ctx, &admin, form, FormErrors::default()).await
}

/// Adds an external key manager whose tokens gateways accept: its issuer and JWKS endpoint
/// (and, for consumers' keys, its token endpoint).
pub(crate) async fn create_key_manager(
    State(ctx): State<Ctx>,
    admin: Administrator,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    let mut endpoints = Vec::new();
    if let Some(token) = form.some("token_endpoint") {
        endpoints.push(("tokenEndpoint".to_string(), token));
    }
    let input = KeyManagerInput {
        name: form.get("name").to_string(),
        display_name: form.some("display_name"),
        kind: form.get("type").to_string(),
        description: form.some("description"),
        issuer: form.some("issuer"),
        certificate_type: Some("JWKS".into()),
        certificate_value: form.some("jwks"),
        consumer_key_claim: form.some("consumer_key_claim"),
        scopes_claim: form.some("scopes_claim"),
        enabled: Some(true),
        endpoints,
        settings: serde_json::Map::new(),
    };
    match key_managers::create(&ctx, admin.actor(), input).await {
        Ok(_) => Ok(Redirect::to("/admin/key-managers").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(
                err,
                &[
                    "name",
                    "displayName",
                    "type",
                    "description",
                    "issuer",
                    "value",
                    "tokenEndpoint",
                    "consumerKeyClaim",
                    "scopesClaim",
                ],
            )?;
            key_managers_view(&ctx, &admin, form, errors).await
        }
    }
}

pub(crate) async fn delete_key_manager(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    match key_managers::delete(&ctx, admin.actor(), &id).await {
        Ok(()) => Ok(Redirect::to("/admin/key-managers").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            key_managers_view(&ctx, &admin, FormFields::default(), errors).await
        }
    }
}

/// A new signing key for the resident key manager; the old ones stay published until the
/// tokens they signed have expired.
pub(crate) async fn rotate_signing_key(
    State(ctx): State<Ctx>,
    admin: Administrator,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    tollgate_operations::admin::signing_keys::rotate(&ctx, admin.actor()).await?;
    Ok(Redirect::to("/admin/key-managers#signing-keys").into_response())
}
