//! The publisher's pages: the list of APIs (with WSO2's search), creating one (from a form or
//! an OpenAPI definition), and an API's pages — overview with lifecycle, configuration,
//! resources, endpoints, documents, deployments, subscriptions — each over the Publisher
//! API's operations.

mod comments;
mod deployments;
mod documents;
mod edit;
mod scopes;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tollgate_model::{LifecycleAction, SubscriptionStatus};
use tollgate_operations::publisher::apis::{self, ApiListing};
use tollgate_operations::publisher::definition::ApiDefinition;
use tollgate_operations::publisher::definitions::{self, DefinitionSource};
use tollgate_operations::publisher::lifecycle::{self, Checklist};
use tollgate_operations::publisher::subscriptions;
use tollgate_operations::Page;
use tollgate_restcore::Ctx;
use tollgate_store::ApiRow;

use crate::pages::{render, render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Publisher;

pub(crate) use comments::{add_comment, comments_page, delete_comment};
pub(crate) use deployments::{deployments_page, revision_action};
pub(crate) use documents::{
    create_document, delete_document, document_content, documents_page, edit_document_page,
    update_document,
};
pub(crate) use edit::{
    configuration_page, definition_page, delete_endpoint_certificate, endpoints_page,
    resources_page, save_configuration, save_definition, save_endpoints, save_resources, thumbnail,
    upload_endpoint_certificate, upload_thumbnail,
};
pub(crate) use scopes::{change_scope, create_scope, scopes_page};

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    query: Option<String>,
}

/// One API as the publisher's pages show it.
pub(crate) struct Row {
    pub id: String,
    pub name: String,
    pub version: String,
    pub context: String,
    pub provider: String,
    pub status: String,
    pub has_thumbnail: bool,
}

impl Row {
    fn of(api: &ApiRow) -> Row {
        Row {
            id: api.id.clone(),
            name: api.name.clone(),
            version: api.version.clone(),
            context: api.context.clone(),
            provider: api.provider.clone(),
            status: api.lifecycle_status.display_name().to_string(),
            has_thumbnail: api.has_thumbnail,
        }
    }
}

/// The head of every page of one API: its name, state and the tabs (`tab` is the current one).
pub(crate) struct ApiHead {
    pub row: Row,
    pub tab: &'static str,
}

impl ApiHead {
    pub(crate) fn new(api: &ApiRow, tab: &'static str) -> ApiHead {
        ApiHead {
            row: Row::of(api),
            tab,
        }
    }

    pub(crate) fn tabs(&self) -> [(&'static str, &'static str); 9] {
        [
            ("", "Overview"),
            ("/configuration", "Configuration"),
            ("/resources", "Resources"),
            ("/definition", "Definition"),
            ("/endpoints", "Endpoints"),
            ("/documents", "Documents"),
            ("/deployments", "Deployments"),
            ("/subscriptions", "Subscriptions"),
            ("/comments", "Comments"),
        ]
    }
}

#[derive(Template)]
#[template(path = "publisher_apis.html")]
struct ApisPage {
    page: Chrome,
    query: String,
    rows: Vec<Row>,
    total: i64,
}

pub(crate) async fn apis(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let query = q.query.unwrap_or_default();
    let listing = ApiListing {
        query: Some(query.clone()).filter(|q| !q.is_empty()),
        ..ApiListing::default()
    };
    let listed = apis::list_apis(
        &ctx,
        publisher.actor(),
        &listing,
        Page::new(Some(100), Some(0))?,
    )
    .await?;
    Ok(render(&ApisPage {
        page: publisher.chrome("APIs"),
        rows: listed.items.iter().map(Row::of).collect(),
        total: listed.total,
        query,
    }))
}

#[derive(Template)]
#[template(path = "publisher_api.html")]
struct ApiPage {
    page: Chrome,
    head: ApiHead,
    description: String,
    /// The lifecycle actions allowed from the API's state (WSO2's names).
    actions: Vec<&'static str>,
    /// Whether the Publish action offers WSO2's check items.
    offers_checklist: bool,
    history: Vec<(String, String, String)>,
    new_version: FormFields,
    errors: FormErrors,
}

async fn overview(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    new_version: FormFields,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = publisher.actor();
    let api = apis::get_api(ctx, actor, api_id).await?;
    let history = lifecycle::lifecycle_history(ctx, actor, api_id)
        .await?
        .into_iter()
        .map(|event| {
            (
                crate::pages::when(event.time),
                event.new_state.display_name().to_string(),
                event.username,
            )
        })
        .collect();
    let actions: Vec<&'static str> = api
        .lifecycle_status
        .actions()
        .iter()
        .map(|a| a.as_str())
        .collect();
    Ok(render_form(
        &ApiPage {
            page: publisher.chrome(api.name.clone()),
            offers_checklist: actions.contains(&LifecycleAction::Publish.as_str()),
            actions,
            description: api.description.clone(),
            head: ApiHead::new(&api, ""),
            history,
            new_version,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn api(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    overview(
        &ctx,
        &publisher,
        &api_id,
        FormFields::default(),
        FormErrors::default(),
    )
    .await
}

/// A lifecycle button: the operation refuses what the state does not allow. Publishing carries
/// WSO2's two check items.
pub(crate) async fn change_lifecycle(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let action = form
        .get("action")
        .parse()
        .map_err(|_| PageError::new(StatusCode::BAD_REQUEST, "Unknown lifecycle action"))?;
    let checklist = Checklist {
        deprecate_old_versions: form.ticked("deprecate_old_versions"),
        requires_resubscription: form.ticked("requires_resubscription"),
    };
    lifecycle::change_lifecycle(&ctx, publisher.actor(), &api_id, action, checklist).await?;
    Ok(Redirect::to(&format!("/publisher/apis/{api_id}")).into_response())
}

/// New version: a copy of the API (resources, documents, settings) under another version.
pub(crate) async fn new_version(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    match apis::copy_api(
        &ctx,
        publisher.actor(),
        &api_id,
        form.get("version").trim(),
        form.ticked("default_version"),
    )
    .await
    {
        Ok(copy) => Ok(Redirect::to(&format!("/publisher/apis/{}", copy.id)).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["newVersion", "version"])?;
            overview(&ctx, &publisher, &api_id, form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "publisher_create.html")]
struct CreatePage {
    page: Chrome,
    /// The "start from scratch" form and its problems.
    design: FormFields,
    design_errors: FormErrors,
    /// The import form (an upload, pasted text or a URL) and its problems.
    upload: FormFields,
    upload_errors: FormErrors,
}

pub(crate) async fn create_page(publisher: Publisher) -> Response {
    render(&CreatePage {
        page: publisher.chrome("Create an API"),
        design: FormFields::default(),
        design_errors: FormErrors::default(),
        upload: FormFields::default(),
        upload_errors: FormErrors::default(),
    })
}

const API_FIELDS: &[&str] = &[
    "name", "context", "version", "type", "endpoint", "url", "file",
];

/// The endpoint a create form names, as WSO2's `endpointConfig` (production and sandbox).
fn endpoint_config(url: &str) -> serde_json::Value {
    json!({
        "endpoint_type": "http",
        "production_endpoints": {"url": url},
        "sandbox_endpoints": {"url": url},
    })
}

/// Creates an API from the form (name, context, version, endpoint); WSO2's default resources.
pub(crate) async fn create(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let mut body = json!({
        "name": form.get("name"),
        "context": form.get("context"),
        "version": form.get("version"),
    });
    let websocket = form.get("type") == "WS";
    if websocket {
        body["type"] = json!("WS");
    }
    if let Some(url) = form.some("endpoint") {
        body["endpointConfig"] = endpoint_config(&url);
        if websocket {
            body["endpointConfig"]["endpoint_type"] = json!("ws");
        }
    }
    let result = match ApiDefinition::from_json(body) {
        Ok(definition) => apis::create_api(&ctx, publisher.actor(), definition).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(api) => Ok(Redirect::to(&format!("/publisher/apis/{}", api.id)).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, API_FIELDS)?;
            Ok(render_form(
                &CreatePage {
                    page: publisher.chrome("Create an API"),
                    design: form,
                    design_errors: errors.clone(),
                    upload: FormFields::default(),
                    upload_errors: FormErrors::default(),
                },
                &errors,
            ))
        }
    }
}

/// Creates an API from an OpenAPI (or Swagger 2) definition: an uploaded file, pasted text or
/// a URL; name, context, version and endpoint override the definition's when given.
pub(crate) async fn import(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    upload: tollgate_restcore::Form,
) -> Result<Response, PageError> {
    let text = |name: &str| -> Result<String, PageError> {
        Ok(upload.text(name)?.unwrap_or_default().trim().to_string())
    };
    publisher.check_upload(&upload)?;
    let mut shown = Vec::new();
    for field in [
        "name",
        "context",
        "version",
        "endpoint",
        "url",
        "definition",
    ] {
        shown.push((field.to_string(), text(field)?));
    }
    let form = FormFields::from_pairs(shown);
    let source = if let Some((_, _, bytes)) = upload.file("file") {
        Some(DefinitionSource::Inline(bytes.to_vec()))
    } else if let Some(pasted) = form.some("definition") {
        Some(DefinitionSource::Inline(pasted.into_bytes()))
    } else {
        form.some("url").map(DefinitionSource::Url)
    };
    let result = match source {
        None => Err(tollgate_operations::OpError::invalid(
            "file",
            "choose a file, paste a definition or give its URL",
        )),
        Some(source) => {
            let mut additional = serde_json::Map::new();
            for field in ["name", "context", "version"] {
                if let Some(value) = form.some(field) {
                    additional.insert(field.to_string(), json!(value));
                }
            }
            if let Some(url) = form.some("endpoint") {
                additional.insert("endpointConfig".into(), endpoint_config(&url));
            }
            definitions::import_definition(
                &ctx,
                publisher.actor(),
                &source,
                Some(serde_json::Value::Object(additional)),
            )
            .await
        }
    };
    match result {
        Ok(api) => Ok(Redirect::to(&format!("/publisher/apis/{}", api.id)).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, API_FIELDS)?;
            Ok(render_form(
                &CreatePage {
                    page: publisher.chrome("Create an API"),
                    design: FormFields::default(),
                    design_errors: FormErrors::default(),
                    upload: form,
                    upload_errors: errors.clone(),
                },
                &errors,
            ))
        }
    }
}

/// One subscription as the API's subscriptions page shows it.
pub(crate) struct SubscriptionLine {
    pub id: String,
    pub application: String,
    pub owner: String,
    pub tier: String,
    pub status: SubscriptionStatus,
}

impl SubscriptionLine {
    pub fn blockable(&self) -> bool {
        self.status == SubscriptionStatus::Unblocked
    }

    pub fn unblockable(&self) -> bool {
        matches!(
            self.status,
            SubscriptionStatus::Blocked | SubscriptionStatus::ProdOnlyBlocked
        )
    }
}

#[derive(Template)]
#[template(path = "publisher_subscriptions.html")]
struct SubscriptionsPage {
    page: Chrome,
    head: ApiHead,
    subscriptions: Vec<SubscriptionLine>,
    total: i64,
}

pub(crate) async fn subscriptions_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let actor = publisher.actor();
    let api = apis::get_api(&ctx, actor, &api_id).await?;
    let listed = subscriptions::list_subscriptions(
        &ctx,
        actor,
        Some(&api_id),
        Page::new(Some(500), Some(0))?,
    )
    .await?;
    Ok(render(&SubscriptionsPage {
        page: publisher.chrome(format!("{} · Subscriptions", api.name)),
        head: ApiHead::new(&api, "/subscriptions"),
        subscriptions: listed
            .items
            .into_iter()
            .map(|s| SubscriptionLine {
                id: s.subscription.id.clone(),
                application: s
                    .application
                    .as_ref()
                    .map_or_else(|| s.subscription.application_id.clone(), |a| a.name.clone()),
                owner: s
                    .application
                    .as_ref()
                    .map(|a| a.owner.clone())
                    .unwrap_or_default(),
                tier: s.subscription.throttling_policy.clone(),
                status: s.subscription.status,
            })
            .collect(),
        total: listed.total,
    }))
}

/// Block (entirely or production only) or unblock a subscription.
pub(crate) async fn subscription_state(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let state = SubscriptionStatus::parse(form.get("state"))
        .ok_or_else(|| PageError::new(StatusCode::BAD_REQUEST, "Unknown subscription state"))?;
    subscriptions::set_api_subscription_state(
        &ctx,
        publisher.actor(),
        &api_id,
        form.get("subscription_id"),
        state,
    )
    .await?;
    Ok(Redirect::to(&format!("/publisher/apis/{api_id}/subscriptions")).into_response())
}
