//! One application's page in the developer portal: its subscriptions (unsubscribe, and the
//! ready-made commands), its keys (generate, the secret shown once, get a token), and
//! subscribing to an API from that API's page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_model::{GrantType, HttpVerb, KeyType};
use tollgate_operations::devportal::api_keys::{self, ApiKeyRequest};
use tollgate_operations::devportal::applications::{self, ApplicationInput};
use tollgate_operations::devportal::discovery::{self, Viewer};
use tollgate_operations::devportal::invocation::{self, Command};
use tollgate_operations::devportal::keys::{self, AppKey, KeyRequest, TokenOrder};
use tollgate_operations::devportal::subscriptions::{self, SubscriptionRequest, SubscriptionView};
use tollgate_operations::devportal::try_it::{self, TryRequest};
use tollgate_operations::Page;
use tollgate_restcore::Ctx;
use tollgate_store::ApplicationRow;

use super::api_page::{self, Extras, TriedWith, TryResult};
use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Consumer;

/// What the page shows once, right after an action: a new secret, a new token.
#[derive(Default)]
pub(crate) struct Flash {
    pub secret: Option<(String, String)>,
    pub token: Option<String>,
    /// A new API key and its type.
    pub api_key: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "application.html")]
struct ApplicationPage {
    page: Chrome,
    application: ApplicationRow,
    /// The grant types keys may be given.
    grants: Vec<&'static str>,
    /// Application tiers, for the edit form.
    tiers: Vec<String>,
    /// Each subscription with the tiers its API offers (to change to).
    subscriptions: Vec<(SubscriptionView, Vec<String>)>,
    keys: Vec<AppKey>,
    commands: Vec<(String, Vec<Command>)>,
    flash: Flash,
    errors: FormErrors,
}

impl ApplicationPage {
    fn has_grant(&self, key: &AppKey, grant: &str) -> bool {
        key.client.grant_types.iter().any(|g| g.as_str() == grant)
    }
}

async fn show(
    ctx: &Ctx,
    consumer: &Consumer,
    application_id: &str,
    flash: Flash,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = consumer.actor();
    let application = applications::get(ctx, actor, application_id)
        .await?
        .application;
    let subscriptions = subscriptions::list(
        ctx,
        actor,
        Some(&application.id),
        None,
        Page::new(Some(100), Some(0))?,
    )
    .await?
    .0;
    let keys = keys::list(ctx, actor, &application.id).await?;
    let viewer = Viewer::signed_in(ctx, actor).await?;
    let tiers = applications::tiers(ctx, actor)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut commands = Vec::new();
    let mut with_tiers = Vec::with_capacity(subscriptions.len());
    for subscription in subscriptions {
        let offered = match &subscription.api {
            Some(api) => match discovery::subscription_policies(ctx, &viewer, &api.id).await {
                Ok(tiers) => tiers.into_iter().map(|p| p.name).collect(),
                // An API the consumer no longer sees offers no other tier.
                Err(tollgate_operations::OpError::NotFound(_)) => Vec::new(),
                Err(other) => return Err(other.into()),
            },
            None => Vec::new(),
        };
        with_tiers.push((subscription, offered));
    }
    let subscriptions = with_tiers;
    for (subscription, _) in &subscriptions {
        let how = invocation::invocation(ctx, actor, &subscription.subscription.id).await?;
        let name = subscription
            .api
            .as_ref()
            .map(|a| format!("{} {}", a.name, a.version))
            .unwrap_or_default();
        commands.push((name, how.commands));
    }
    Ok(render_form(
        &ApplicationPage {
            page: consumer.chrome(application.name.clone()),
            grants: ctx.key_manager.supported_grants(),
            application,
            tiers,
            subscriptions,
            keys,
            commands,
            flash,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn page(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
) -> Result<Response, PageError> {
    show(
        &ctx,
        &consumer,
        &application_id,
        Flash::default(),
        FormErrors::default(),
    )
    .await
}

/// Generates client-credentials keys; the page shows the secret this once.
pub(crate) async fn generate_keys(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let result = match form.name::<KeyType>("key_type", "keyType") {
        Ok(key_type) => {
            let request = KeyRequest::new(key_type, &[GrantType::ClientCredentials]);
            keys::generate(&ctx, consumer.actor(), &application_id, request)
                .await
                .map(|key| Flash {
                    secret: key.secret.map(|s| (key.client.consumer_key.clone(), s)),
                    ..Flash::default()
                })
        }
        Err(err) => Err(err),
    };
    after(&ctx, &consumer, &application_id, result, &[]).await
}

/// A client-credentials token of the chosen keys, shown on the page.
pub(crate) async fn token(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let validity = match form.some("validity") {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            tollgate_operations::OpError::invalid("validityPeriod", "must be a number of seconds")
        }),
    };
    let result = match validity {
        Ok(validity_period) => {
            let order = TokenOrder {
                validity_period,
                scopes: form
                    .get("scopes")
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                ..TokenOrder::default()
            };
            keys::generate_token(
                &ctx,
                consumer.actor(),
                &application_id,
                form.get("key_mapping_id"),
                order,
                None,
            )
            .await
            .map(|token| Flash {
                token: Some(token.access_token),
                ..Flash::default()
            })
        }
        Err(err) => Err(err),
    };
    after(
        &ctx,
        &consumer,
        &application_id,
        result,
        &["validityPeriod", "scopes"],
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct UnsubscribeForm {
    #[serde(default)]
    csrf: String,
    subscription_id: String,
}

pub(crate) async fn unsubscribe(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    Form(form): Form<UnsubscribeForm>,
) -> Result<Response, PageError> {
    consumer.check_token(&form.csrf)?;
    subscriptions::delete(&ctx, consumer.actor(), &form.subscription_id).await?;
    Ok(Redirect::to(&format!("/devportal/applications/{application_id}")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct SubscribeForm {
    #[serde(default)]
    csrf: String,
    application_id: String,
    throttling_policy: String,
}

/// Subscribes one of the caller's applications to the API (from the API's page).
pub(crate) async fn subscribe(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(api_id): Path<String>,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, PageError> {
    consumer.check_token(&form.csrf)?;
    let request = SubscriptionRequest {
        application_id: form.application_id.clone(),
        api_id,
        throttling_policy: form.throttling_policy,
    };
    subscriptions::subscribe(&ctx, consumer.actor(), request).await?;
    Ok(Redirect::to(&format!("/devportal/applications/{}", form.application_id)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct TryForm {
    #[serde(default)]
    csrf: String,
    application_id: String,
    /// `VERB /path/below/the/api` (path parameters filled in).
    operation: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    body: String,
}

/// "Try it" (`tollgate_operations::devportal::try_it`): the API's page shows the answer.
pub(crate) async fn try_it(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(api_id): Path<String>,
    Form(form): Form<TryForm>,
) -> Result<Response, PageError> {
    consumer.check_token(&form.csrf)?;
    let bad = |message: &str| PageError::new(StatusCode::BAD_REQUEST, message);
    let (verb, target) = form
        .operation
        .split_once(' ')
        .ok_or_else(|| bad("Choose an operation"))?;
    let method: HttpVerb = verb.parse().map_err(|_| bad("Unknown method"))?;
    let path = if form.path.trim().is_empty() {
        target
    } else {
        form.path.trim()
    };
    let request = TryRequest {
        application_id: form.application_id.clone(),
        method,
        path: path.to_string(),
        body: Some(form.body.clone()).filter(|b| !b.trim().is_empty()),
    };
    let answer = try_it::try_it(&ctx, consumer.actor(), &api_id, request).await?;
    let result = TryResult {
        request: answer.request,
        status: answer.status,
        content_type: answer.content_type,
        body: answer.body,
        sent: TriedWith {
            application_id: form.application_id,
            operation: form.operation,
            path: form.path,
            body: form.body,
        },
    };
    api_page::show(
        &ctx,
        &consumer.visitor,
        &api_id,
        Extras {
            tried: Some(result),
            ..Extras::default()
        },
    )
    .await
}

/// Shows the application's page after `result`: the page with `flash` when it worked, with the
/// problems next to their fields when it did not.
async fn after(
    ctx: &Ctx,
    consumer: &Consumer,
    application_id: &str,
    result: Result<Flash, tollgate_operations::OpError>,
    fields: &[&str],
) -> Result<Response, PageError> {
    let (flash, errors) = match result {
        Ok(flash) => (flash, FormErrors::default()),
        Err(err) => (Flash::default(), FormErrors::from_op(err, fields)?),
    };
    show(ctx, consumer, application_id, flash, errors).await
}

/// Edits the application's name, tier and description.
pub(crate) async fn update(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let current = applications::get(&ctx, consumer.actor(), &application_id)
        .await?
        .application;
    let input = ApplicationInput {
        name: form.get("name").to_string(),
        throttling_policy: form.get("throttling_policy").to_string(),
        description: form.some("description"),
        token_type: Some(current.token_type.to_string()),
        attributes: None,
    };
    match applications::update(&ctx, consumer.actor(), &application_id, input).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/devportal/applications/{application_id}")).into_response())
        }
        Err(err) => {
            after(
                &ctx,
                &consumer,
                &application_id,
                Err(err),
                &["name", "throttlingPolicy", "description"],
            )
            .await
        }
    }
}

/// Deletes the application (its keys and subscriptions go with it).
pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    applications::delete(&ctx, consumer.actor(), &application_id).await?;
    Ok(Redirect::to("/devportal/applications").into_response())
}

/// A new consumer secret for keys; shown once.
pub(crate) async fn regenerate_secret(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let result = keys::regenerate_secret(
        &ctx,
        consumer.actor(),
        &application_id,
        form.get("key_mapping_id"),
    )
    .await
    .map(|(key, secret)| Flash {
        secret: Some((key, secret)),
        ..Flash::default()
    });
    after(&ctx, &consumer, &application_id, result, &[]).await
}

/// An API key (shown once), with its validity and restrictions.
pub(crate) async fn generate_api_key(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let validity = match form.some("api_key_validity") {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            tollgate_operations::OpError::invalid("validityPeriod", "must be a number of seconds")
        }),
    };
    let key_type = form.name::<KeyType>("api_key_type", "keyType");
    let result = match validity.and_then(|v| Ok((v, key_type?))) {
        Ok((validity_period, key_type)) => {
            let request = ApiKeyRequest {
                validity_period,
                permitted_ip: form.some("permitted_ip"),
                permitted_referer: form.some("permitted_referer"),
            };
            api_keys::generate(&ctx, consumer.actor(), &application_id, key_type, &request)
                .await
                .map(|issued| Flash {
                    api_key: Some((key_type.to_string(), issued.api_key)),
                    ..Flash::default()
                })
        }
        Err(err) => Err(err),
    };
    after(
        &ctx,
        &consumer,
        &application_id,
        result,
        &[
            "validityPeriod",
            "permittedIP",
            "permittedReferer",
            "keyType",
        ],
    )
    .await
}

/// Revokes an API key (pasted: keys are not stored).
pub(crate) async fn revoke_api_key(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let result = match form.name::<KeyType>("revoke_key_type", "keyType") {
        Ok(key_type) => api_keys::revoke(
            &ctx,
            consumer.actor(),
            &application_id,
            key_type,
            form.get("api_key").trim(),
        )
        .await
        .map(|()| Flash::default()),
        Err(err) => Err(err),
    };
    after(
        &ctx,
        &consumer,
        &application_id,
        result,
        &["apikey", "keyType"],
    )
    .await
}

/// Moves a subscription to another of its API's tiers (held for approval when configured).
pub(crate) async fn change_tier(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let result = subscriptions::change_tier(
        &ctx,
        consumer.actor(),
        form.get("subscription_id"),
        form.get("throttling_policy"),
    )
    .await
    .map(|_| Flash::default());
    after(&ctx, &consumer, &application_id, result, &[]).await
}

/// Changes a key's grant types and callback URL.
pub(crate) async fn update_keys(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(application_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let result = match form.names::<GrantType>("grant_type", "supportedGrantTypes") {
        Ok(grant_types) => {
            let change = keys::KeyUpdate {
                grant_types: Some(grant_types),
                callback_url: Some(form.get("callback_url").trim().to_string()),
                ..keys::KeyUpdate::default()
            };
            keys::update(
                &ctx,
                consumer.actor(),
                &application_id,
                form.get("key_mapping_id"),
                change,
            )
            .await
            .map(|_| Flash::default())
        }
        Err(err) => Err(err),
    };
    after(
        &ctx,
        &consumer,
        &application_id,
        result,
        &["supportedGrantTypes", "callbackUrl"],
    )
    .await
}
