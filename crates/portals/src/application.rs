//! One application's page in the developer portal: its subscriptions (unsubscribe, and the
//! ready-made commands), its keys (generate, the secret shown once, get a token), and
//! subscribing to an API from that API's page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_model::{GrantType, KeyType, PolicyLevel};
use tollgate_operations::devportal::api_keys::{self, ApiKeyRequest};
use tollgate_operations::devportal::applications::{self, ApplicationInput};
use tollgate_operations::devportal::discovery::{self, Viewer};
use tollgate_operations::devportal::invocation::{self, Command};
use tollgate_operations::devportal::keys::{self, AppKey, KeyRequest, TokenOrder};
use tollgate_operations::devportal::subscriptions::{self, SubscriptionRequest, SubscriptionView};
use tollgate_operations::Page;
use tollgate_restcore::Ctx;
use tollgate_store::ApplicationRow;

use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError, Portal};
use crate::session::{Consumer, SignedIn, Visitor};
use crate::signed_in_or_login;

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
    visitor: &Visitor,
    signed_in: &SignedIn,
    application_id: &str,
    flash: Flash,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = &signed_in.actor;
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
    let tiers = discovery::tiers(ctx, &viewer, PolicyLevel::Application)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut commands = Vec::new();
    let mut with_tiers = Vec::with_capacity(subscriptions.len());
    for subscription in subscriptions {
        let offered = match &subscription.api {
            Some(api) => discovery::subscription_policies(ctx, &viewer, &api.id)
                .await
                .map(|tiers| tiers.into_iter().map(|p| p.name).collect())
                .unwrap_or_default(),
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
            page: Chrome::new(Some(Portal::DevPortal), application.name.clone(), visitor),
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

/// The signed-in user, with the form's CSRF token checked.
fn checked(visitor: &Visitor, csrf: &str) -> Result<Result<SignedIn, Response>, PageError> {
    let signed_in = match signed_in_or_login(visitor, Portal::DevPortal) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(Err(redirect.into_response())),
    };
    crate::session::require_csrf(&signed_in, csrf)?;
    Ok(Ok(signed_in))
}

pub(crate) async fn page(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(application_id): Path<String>,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::DevPortal) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    show(
        &ctx,
        &visitor,
        &signed_in,
        &application_id,
        Flash::default(),
        FormErrors::default(),
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct KeysForm {
    #[serde(default)]
    csrf: String,
    key_type: String,
}

/// Generates client-credentials keys; the page shows the secret this once.
pub(crate) async fn generate_keys(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(application_id): Path<String>,
    Form(form): Form<KeysForm>,
) -> Result<Response, PageError> {
    let signed_in = match checked(&visitor, &form.csrf)? {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect),
    };
    let generated = match form.key_type.parse() {
        Ok(key_type) => {
            let request = KeyRequest::new(key_type, &[GrantType::ClientCredentials]);
            keys::generate(&ctx, &signed_in.actor, &application_id, request).await
        }
        Err(err) => Err(tollgate_operations::OpError::unknown_name("keyType", err)),
    };
    match generated {
        Ok(key) => {
            let flash = Flash {
                secret: key.secret.map(|s| (key.client.consumer_key.clone(), s)),
                ..Flash::default()
            };
            show(
                &ctx,
                &visitor,
                &signed_in,
                &application_id,
                flash,
                FormErrors::default(),
            )
            .await
        }
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            show(
                &ctx,
                &visitor,
                &signed_in,
                &application_id,
                Flash::default(),
                errors,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    csrf: String,
    key_mapping_id: String,
    #[serde(default)]
    validity: Option<String>,
    #[serde(default)]
    scopes: String,
}

/// A client-credentials token of the chosen keys, shown on the page.
pub(crate) async fn token(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(application_id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let signed_in = match checked(&visitor, &form.csrf)? {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect),
    };
    let validity = match form
        .validity
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                let errors = FormErrors {
                    fields: vec![("validity".into(), "must be a number of seconds".into())],
                    general: Vec::new(),
                };
                return show(
                    &ctx,
                    &visitor,
                    &signed_in,
                    &application_id,
                    Flash::default(),
                    errors,
                )
                .await;
            }
        },
    };
    let order = TokenOrder {
        validity_period: validity,
        scopes: form.scopes.split_whitespace().map(str::to_string).collect(),
        ..TokenOrder::default()
    };
    match keys::generate_token(
        &ctx,
        &signed_in.actor,
        &application_id,
        &form.key_mapping_id,
        order,
        None,
    )
    .await
    {
        Ok(token) => {
            let flash = Flash {
                token: Some(token.access_token),
                ..Flash::default()
            };
            show(
                &ctx,
                &visitor,
                &signed_in,
                &application_id,
                flash,
                FormErrors::default(),
            )
            .await
        }
        Err(err) => {
            let errors = FormErrors::from_op(err, &["validityPeriod", "scopes"])?;
            show(
                &ctx,
                &visitor,
                &signed_in,
                &application_id,
                Flash::default(),
                errors,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct UnsubscribeForm {
    #[serde(default)]
    csrf: String,
    subscription_id: String,
}

pub(crate) async fn unsubscribe(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(application_id): Path<String>,
    Form(form): Form<UnsubscribeForm>,
) -> Result<Response, PageError> {
    let signed_in = match checked(&visitor, &form.csrf)? {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect),
    };
    subscriptions::delete(&ctx, &signed_in.actor, &form.subscription_id).await?;
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
    visitor: Visitor,
    Path(api_id): Path<String>,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, PageError> {
    let signed_in = match checked(&visitor, &form.csrf)? {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect),
    };
    let request = SubscriptionRequest {
        application_id: form.application_id.clone(),
        api_id,
        throttling_policy: form.throttling_policy,
    };
    subscriptions::subscribe(&ctx, &signed_in.actor, request).await?;
    Ok(Redirect::to(&format!("/devportal/applications/{}", form.application_id)).into_response())
}

/// What "try it" got back from the gateway.
pub(crate) struct TryResult {
    pub request: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// What the form was filled with, to show it again.
    pub sent: TriedWith,
}

/// The "try it" form as it was sent.
#[derive(Clone, Default)]
pub(crate) struct TriedWith {
    pub application_id: String,
    pub operation: String,
    pub path: String,
    pub body: String,
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

/// The most of a response body "try it" shows.
const TRY_BODY_LIMIT: usize = 64 * 1024;

/// "Try it": a real request through the gateway with a fresh short-lived token of the chosen
/// application's production keys; the page shows the answer.
pub(crate) async fn try_it(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(api_id): Path<String>,
    Form(form): Form<TryForm>,
) -> Result<Response, PageError> {
    let signed_in = match checked(&visitor, &form.csrf)? {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect),
    };
    let bad = |message: &str| PageError::new(StatusCode::BAD_REQUEST, message);
    let (verb, target) = form
        .operation
        .split_once(' ')
        .ok_or_else(|| bad("Choose an operation"))?;
    let method: reqwest::Method = verb.parse().map_err(|_| bad("Unknown method"))?;
    let path = if form.path.trim().is_empty() {
        target.to_string()
    } else {
        form.path.trim().to_string()
    };
    if !path.starts_with('/') || path.contains("://") || path.chars().any(char::is_control) {
        return Err(bad("The path must start with / and stay below the API"));
    }
    let viewer =
        tollgate_operations::devportal::discovery::Viewer::signed_in(&ctx, &signed_in.actor)
            .await?;
    let api = tollgate_operations::devportal::discovery::get_api(&ctx, &viewer, &api_id).await?;
    let key = keys::list(&ctx, &signed_in.actor, &form.application_id)
        .await?
        .into_iter()
        .find(|k| {
            k.mapping.key_type == tollgate_model::KeyType::Production
                && k.mapping.key_manager == tollgate_model::RESIDENT_KEY_MANAGER
        })
        .ok_or_else(|| {
            bad("The application has no production keys yet: generate them on its page")
        })?;
    let token = keys::generate_token(
        &ctx,
        &signed_in.actor,
        &form.application_id,
        &key.mapping.id,
        TokenOrder {
            validity_period: Some(300),
            ..TokenOrder::default()
        },
        None,
    )
    .await?;
    let urls = tollgate_operations::devportal::discovery::endpoint_urls(&ctx, &api).await?;
    let base = urls
        .iter()
        .find_map(|u| u.http.clone())
        .or_else(|| urls.iter().find_map(|u| u.https.clone()))
        .ok_or_else(|| bad("The API is not deployed to a gateway shown in the portal"))?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    // The token goes in the header the API takes tokens in (WSO2's `authorizationHeader`).
    let token_header = tollgate_operations::publisher::definition::ApiDefinition::from_json(
        api.definition.clone(),
    )
    .ok()
    .and_then(|d| d.runtime_authentication().authorization_header)
    .unwrap_or_else(|| "authorization".into());
    let mut request = client.request(method.clone(), &url).header(
        token_header.as_str(),
        format!("Bearer {}", token.access_token),
    );
    if !form.body.trim().is_empty() {
        request = request
            .header("content-type", "application/json")
            .body(form.body.clone());
    }
    let sent = TriedWith {
        application_id: form.application_id.clone(),
        operation: form.operation.clone(),
        path: form.path.clone(),
        body: form.body.clone(),
    };
    let result = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let bytes = response.bytes().await.unwrap_or_default();
            let shown = &bytes[..bytes.len().min(TRY_BODY_LIMIT)];
            TryResult {
                request: format!("{method} {url}"),
                status,
                content_type,
                body: String::from_utf8_lossy(shown).to_string(),
                sent,
            }
        }
        Err(err) => TryResult {
            request: format!("{method} {url}"),
            status: 0,
            content_type: String::new(),
            body: format!("The gateway could not be reached: {err}"),
            sent,
        },
    };
    crate::devportal::api_page_with(&ctx, &visitor, &api_id, Some(result)).await
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
    show(
        ctx,
        &consumer.visitor,
        &consumer.user,
        application_id,
        flash,
        errors,
    )
    .await
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
