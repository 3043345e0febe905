//! The developer portal's pages for a consumer's own things: self sign-up and applications.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_operations::devportal::applications::{self, ApplicationInput, ApplicationView};
use tollgate_operations::users::{self, UserInput};
use tollgate_restcore::Ctx;

use crate::pages::{render, render_form, Chrome, FormErrors, PageError, Portal};
use crate::session::{self, Consumer, Visitor};

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage<'a> {
    page: Chrome,
    login_csrf: &'a str,
    form: SignUpForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub(crate) struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    email: String,
}

fn sign_up_page(visitor: &Visitor, form: SignUpForm, errors: FormErrors) -> Response {
    let (token, cookie) = session::login_csrf(visitor.secure);
    let status = if errors.fields.is_empty() && errors.general.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = render(&SignUpPage {
        page: visitor.chrome(Some(Portal::DevPortal), "Sign up"),
        login_csrf: &token,
        form,
        errors,
    });
    *response.status_mut() = status;
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, cookie);
    response
}

pub(crate) async fn sign_up_form(
    State(ctx): State<Ctx>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    // Not a matter of roles (as other refusals are): said as it is.
    users::sign_up_allowed(&ctx)
        .map_err(|off| PageError::new(StatusCode::FORBIDDEN, off.to_string()))?;
    Ok(sign_up_page(
        &visitor,
        SignUpForm::default(),
        FormErrors::default(),
    ))
}

/// Creates the account (a subscriber), then signs the new user in.
pub(crate) async fn sign_up(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    Form(mut form): Form<SignUpForm>,
) -> Result<Response, PageError> {
    if !session::login_csrf_ok(&headers, &form.csrf) {
        let errors = FormErrors {
            general: vec!["The form expired; please send it again.".into()],
            ..FormErrors::default()
        };
        form.password.clear();
        return Ok(sign_up_page(&visitor, form, errors));
    }
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = UserInput {
        username: form.username.clone(),
        password: form.password.clone(),
        given_name: optional(&form.given_name),
        family_name: optional(&form.family_name),
        emails: optional(&form.email).into_iter().collect(),
        roles: Vec::new(),
    };
    match tollgate_operations::sessions::sign_up(&ctx, input).await {
        Ok(cookie) => Ok(session::started(
            &cookie,
            visitor.secure,
            "/devportal/applications",
        )),
        Err(err) => {
            let errors = FormErrors::from_op(
                err,
                &["username", "password", "givenName", "familyName", "emails"],
            )?;
            form.password.clear();
            Ok(sign_up_page(&visitor, form, errors))
        }
    }
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage {
    page: Chrome,
    applications: Vec<ApplicationView>,
    tiers: Vec<String>,
    form: ApplicationForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub(crate) struct ApplicationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    throttling_policy: String,
    #[serde(default)]
    description: String,
}

async fn applications_page(
    ctx: &Ctx,
    consumer: &Consumer,
    form: ApplicationForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let applications = applications::list(ctx, consumer.actor()).await?;
    let tiers = applications::tiers(ctx, consumer.actor())
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    Ok(render_form(
        &ApplicationsPage {
            page: consumer.chrome("Applications"),
            applications,
            tiers,
            form,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn applications(
    State(ctx): State<Ctx>,
    consumer: Consumer,
) -> Result<Response, PageError> {
    let form = ApplicationForm {
        throttling_policy: "Unlimited".into(),
        ..ApplicationForm::default()
    };
    applications_page(&ctx, &consumer, form, FormErrors::default()).await
}

pub(crate) async fn create_application(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Form(form): Form<ApplicationForm>,
) -> Result<Response, PageError> {
    consumer.check_token(&form.csrf)?;
    let input = ApplicationInput {
        name: form.name.clone(),
        throttling_policy: form.throttling_policy.clone(),
        description: Some(form.description.clone()).filter(|d| !d.trim().is_empty()),
        token_type: None,
        attributes: None,
    };
    match applications::create(&ctx, consumer.actor(), input).await {
        Ok(_) => Ok(Redirect::to("/devportal/applications").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["name", "throttlingPolicy", "description"])?;
            applications_page(&ctx, &consumer, form, errors).await
        }
    }
}
