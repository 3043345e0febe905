//! The caller's applications: create, list, read, change, delete. A name is unique per owner;
//! deleting one removes its keys and subscriptions, and every gateway stops accepting its
//! tokens (one `APPLICATION_DELETE` event).

use serde_json::{Map, Value};
use tollgate_model::{ApplicationStatus, PolicyLevel, TokenType};
use tollgate_store::{ApplicationRow, Change};

use super::own_application;
use crate::{Actor, OpResult, Problems, Services};

const MANAGE: &[&str] = &["apim:subscribe", "apim:app_manage"];
const VIEW: &[&str] = &[
    "apim:subscribe",
    "apim:app_manage",
    "apim:app_import_export",
];
/// WSO2's column sizes.
const MAX_NAME: usize = 70;
const MAX_DESCRIPTION: usize = 512;
const MAX_ATTRIBUTE: usize = 1024;

/// An application as the consumer describes it.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub name: String,
    pub throttling_policy: String,
    pub description: Option<String>,
    /// `JWT` (the default) or `OAUTH` (opaque tokens), as sent: checked with the other fields.
    pub token_type: Option<String>,
    /// WSO2's application attributes: names to text values.
    pub attributes: Option<Map<String, Value>>,
}

/// An application with what the lists show of it.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub application: ApplicationRow,
    pub subscription_count: usize,
}

/// Checks an input, reporting every problem: the name trimmed, the token type read (JWT when
/// none is given).
async fn checked(
    services: &Services,
    actor: &Actor,
    mut input: ApplicationInput,
) -> OpResult<(ApplicationInput, TokenType)> {
    let mut problems = Problems::default();
    input.name = input.name.trim().to_string();
    if input.name.is_empty()
        || input.name.chars().count() > MAX_NAME
        || input.name.chars().any(char::is_control)
    {
        problems.add(
            "name",
            format!("must have 1 to {MAX_NAME} characters, none of them control characters"),
        );
    }
    if input
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        problems.add(
            "description",
            format!("must have at most {MAX_DESCRIPTION} characters"),
        );
    }
    let token_type = match input.token_type.as_deref().map(str::trim) {
        None | Some("") => TokenType::Jwt,
        Some(name) => name.parse::<TokenType>().unwrap_or_else(|err| {
            problems.add("tokenType", err.to_string());
            TokenType::Jwt
        }),
    };
    if let Some(attributes) = input.attributes.as_mut() {
        for declared in &services.devportal.application_attributes {
            let given = attributes
                .get(&declared.name)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.trim().is_empty());
            if given {
                continue;
            }
            match &declared.default {
                Some(default) => {
                    attributes.insert(declared.name.clone(), Value::String(default.clone()));
                }
                None if declared.required => problems.add(
                    format!("attributes.{}", declared.name),
                    format!("is required ({})", declared.description),
                ),
                None => {}
            }
        }
    }
    for (name, value) in input.attributes.iter().flatten() {
        let fits = value
            .as_str()
            .is_some_and(|v| v.chars().count() <= MAX_ATTRIBUTE);
        if !fits || name.is_empty() || name.chars().count() > 255 {
            problems.add(
                format!("attributes.{name}"),
                format!("must be text of at most {MAX_ATTRIBUTE} characters"),
            );
        }
    }
    let tier_known = services
        .store
        .policy(
            &actor.tenant,
            PolicyLevel::Application,
            &input.throttling_policy,
        )
        .await?
        .is_some();
    if !tier_known {
        problems.add(
            "throttlingPolicy",
            format!(
                "application throttling policy '{}' does not exist",
                input.throttling_policy
            ),
        );
    }
    problems.into_result((input, token_type))
}

/// The tiers an application may have (WSO2's application-level policies).
pub async fn tiers(
    services: &Services,
    actor: &Actor,
) -> OpResult<Vec<tollgate_model::ThrottlePolicy>> {
    actor.require_any(MANAGE)?;
    Ok(services
        .store
        .policies(&actor.tenant, PolicyLevel::Application)
        .await?)
}

pub async fn create(
    services: &Services,
    actor: &Actor,
    input: ApplicationInput,
) -> OpResult<ApplicationRow> {
    actor.require_any(MANAGE)?;
    let mut input = input;
    // Declared attributes are checked (and defaulted) on every new application.
    input.attributes.get_or_insert_with(Map::new);
    let (input, token_type) = checked(services, actor, input).await?;
    let now = tollgate_model::now_millis();
    let app = ApplicationRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        name: input.name,
        owner: actor.username.clone(),
        throttling_policy: input.throttling_policy,
        description: input.description.unwrap_or_default(),
        token_type,
        status: if services.devportal.approvals.application_creation {
            ApplicationStatus::Created
        } else {
            ApplicationStatus::Approved
        },
        attributes: Value::Object(input.attributes.unwrap_or_default()),
        created_time: now,
        updated_time: now,
    };
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::CreateApplication(app.clone())).await?;
    if services.devportal.approvals.application_creation {
        super::workflows::hold(
            &mut tx,
            actor,
            tollgate_model::WorkflowType::ApplicationCreation,
            &app.id,
            format!(
                "Approve application [{}] creation request from application creator - {} with throttling tier - {}",
                app.name, app.owner, app.throttling_policy
            ),
            serde_json::json!({"applicationName": app.name, "applicationTier": app.throttling_policy}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(app)
}

/// Changes an application; attributes left out stay as they were.
pub async fn update(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    input: ApplicationInput,
) -> OpResult<ApplicationRow> {
    actor.require_any(MANAGE)?;
    own_application(services, actor, application_id).await?;
    let (input, token_type) = checked(services, actor, input).await?;
    // Read again in the write's transaction: an approval decided meanwhile is kept.
    let mut tx = services.store.begin().await?;
    let mut app = tx.application(&actor.tenant, application_id).await?;
    app.name = input.name;
    app.throttling_policy = input.throttling_policy;
    app.description = input.description.unwrap_or_default();
    // A replacement, as WSO2's PUT: no token type is the default one.
    app.token_type = token_type;
    if let Some(attributes) = input.attributes {
        app.attributes = Value::Object(attributes);
    }
    app.updated_time = tollgate_model::now_millis();
    tx.apply(&Change::UpdateApplication(app.clone())).await?;
    tx.commit().await?;
    Ok(app)
}

/// Deletes an application with its subscriptions and keys; gateways forget all three.
pub async fn delete(services: &Services, actor: &Actor, application_id: &str) -> OpResult<()> {
    actor.require_any(VIEW)?;
    let app = own_application(services, actor, application_id).await?;
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::DeleteApplication(app)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get(
    services: &Services,
    actor: &Actor,
    application_id: &str,
) -> OpResult<ApplicationView> {
    actor.require_any(MANAGE)?;
    let application = own_application(services, actor, application_id).await?;
    let subscription_count = services
        .store
        .subscriptions_of_application(&application.id)
        .await?
        .len();
    Ok(ApplicationView {
        application,
        subscription_count,
    })
}

/// The caller's applications.
pub async fn list(services: &Services, actor: &Actor) -> OpResult<Vec<ApplicationView>> {
    actor.require_any(VIEW)?;
    let apps = services
        .store
        .applications_of(&actor.tenant, &actor.username)
        .await?;
    let mut views = Vec::with_capacity(apps.len());
    for application in apps {
        let subscription_count = services
            .store
            .subscriptions_of_application(&application.id)
            .await?
            .len();
        views.push(ApplicationView {
            application,
            subscription_count,
        });
    }
    Ok(views)
}
