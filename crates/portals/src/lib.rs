//! The web portals, served by the control plane at WSO2's paths: `/publisher`, `/devportal` and
//! `/admin` (`/` offers the three). Pages are rendered on the server from askama templates
//! compiled into the binary, over the same operations as the REST APIs — a role that may not
//! do something through the REST API cannot do it here either.
//!
//! A page is a template in `templates/` and a handler in its portal's module: it takes the
//! signed-in user of its portal ([`session::Publisher`], [`session::Consumer`],
//! [`session::Administrator`]: anyone else is sent to the portal's sign-in page) — or the
//! [`session::Visitor`] where anonymous visitors are welcome —, calls an operation and
//! renders; a form posts back with the session's CSRF token, checked by `check`, and an
//! operation's refusal is shown next to its fields (`FormErrors::from_op`, `render_form`).

mod admin;
mod comments;
mod devportal;
mod markdown;
mod pages;
mod publisher;
pub mod session;

use askama::Template;
use axum::extract::{Path, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tollgate_restcore::Ctx;

pub use pages::Portal;
use pages::{render, Chrome, PageError};
use session::Visitor;

/// The portals' routes (mounted at the root of the control plane).
pub fn router(ctx: Ctx) -> Router {
    use devportal::{api_page, application, applications, catalogue, feedback};
    Router::new()
        .route("/", get(home))
        .route("/portal-assets/portal.css", get(stylesheet))
        .route("/portal-assets/portal.js", get(script))
        .route("/portal-assets/swagger-init.js", get(swagger_init))
        .route("/portal-assets/swagger-ui/{file}", get(swagger_ui_file))
        .route("/{portal}/login", get(login_form).post(login))
        .route("/{portal}/logout", post(logout))
        .route("/devportal", get(catalogue::catalogue))
        .route("/devportal/apis/{api_id}", get(api_page::page))
        .route(
            "/devportal/apis/{api_id}/definition",
            get(catalogue::definition),
        )
        .route(
            "/devportal/apis/{api_id}/thumbnail",
            get(catalogue::thumbnail),
        )
        .route(
            "/devportal/apis/{api_id}/documents/{document_id}",
            get(catalogue::document),
        )
        .route("/devportal/apis/{api_id}/rating", post(feedback::rate))
        .route("/devportal/apis/{api_id}/comments", post(feedback::comment))
        .route(
            "/devportal/apis/{api_id}/comments/{comment_id}/delete",
            post(feedback::delete_comment),
        )
        .route(
            "/devportal/signup",
            get(applications::sign_up_form).post(applications::sign_up),
        )
        .route(
            "/devportal/applications",
            get(applications::applications).post(applications::create_application),
        )
        .route(
            "/devportal/applications/{application_id}",
            get(application::page),
        )
        .route(
            "/devportal/applications/{application_id}/keys",
            post(application::generate_keys),
        )
        .route(
            "/devportal/applications/{application_id}/token",
            post(application::token),
        )
        .route(
            "/devportal/applications/{application_id}/unsubscribe",
            post(application::unsubscribe),
        )
        .route(
            "/devportal/applications/{application_id}/edit",
            post(application::update),
        )
        .route(
            "/devportal/applications/{application_id}/delete",
            post(application::delete),
        )
        .route(
            "/devportal/applications/{application_id}/key-settings",
            post(application::update_keys),
        )
        .route(
            "/devportal/applications/{application_id}/regenerate-secret",
            post(application::regenerate_secret),
        )
        .route(
            "/devportal/applications/{application_id}/api-keys",
            post(application::generate_api_key),
        )
        .route(
            "/devportal/applications/{application_id}/api-keys/revoke",
            post(application::revoke_api_key),
        )
        .route(
            "/devportal/applications/{application_id}/tier",
            post(application::change_tier),
        )
        .route(
            "/devportal/apis/{api_id}/subscribe",
            post(application::subscribe),
        )
        .route("/devportal/apis/{api_id}/try", post(application::try_it))
        .merge(publisher_routes())
        .route("/admin", get(admin::approvals))
        .route("/admin/approvals/{workflow_id}", post(admin::decide))
        .route("/admin/tiers", get(admin::tiers).post(admin::create_tier))
        .route(
            "/admin/tiers/{level}/{policy_id}",
            get(admin::settings::tier_page).post(admin::settings::save_tier),
        )
        .route(
            "/admin/environments",
            get(admin::settings::environments_page).post(admin::settings::create_environment),
        )
        .route(
            "/admin/environments/{environment_id}/delete",
            post(admin::settings::delete_environment),
        )
        .route(
            "/admin/key-managers",
            get(admin::settings::key_managers_page).post(admin::settings::create_key_manager),
        )
        .route(
            "/admin/key-managers/{key_manager_id}/delete",
            post(admin::settings::delete_key_manager),
        )
        .route(
            "/admin/signing-keys/rotate",
            post(admin::settings::rotate_signing_key),
        )
        .route(
            "/admin/users",
            get(admin::users::list).post(admin::users::create),
        )
        .route("/admin/users/delete", post(admin::users::delete))
        .route("/admin/roles", post(admin::users::create_role))
        .route("/admin/roles/delete", post(admin::users::delete_role))
        .route("/admin/users/{user_id}", get(admin::users::show))
        .route(
            "/admin/users/{user_id}/roles",
            post(admin::users::set_roles),
        )
        .route(
            "/admin/users/{user_id}/lock",
            post(admin::users::set_locked),
        )
        .with_state(ctx)
}

/// The publisher's pages.
fn publisher_routes() -> Router<Ctx> {
    use publisher::*;
    let at = |tail: &str| format!("/publisher/apis/{{api_id}}{tail}");
    Router::new()
        .route("/publisher", get(apis))
        .route("/publisher/apis/create", get(create_page).post(create))
        .route("/publisher/scopes", get(scopes_page).post(create_scope))
        .route("/publisher/scopes/{scope_id}", post(change_scope))
        .route(
            "/publisher/apis/import",
            post(import).layer(tollgate_restcore::upload_limit()),
        )
        .route(&at(""), get(api))
        .route(&at("/lifecycle"), post(change_lifecycle))
        .route(&at("/new-version"), post(new_version))
        .route(
            &at("/configuration"),
            get(configuration_page).post(save_configuration),
        )
        .route(
            &at("/thumbnail"),
            get(thumbnail).post(upload_thumbnail.layer(tollgate_restcore::upload_limit())),
        )
        .route(&at("/resources"), get(resources_page).post(save_resources))
        .route(&at("/endpoints"), get(endpoints_page).post(save_endpoints))
        .route(
            &at("/endpoint-certificates"),
            post(upload_endpoint_certificate.layer(tollgate_restcore::upload_limit())),
        )
        .route(
            &at("/endpoint-certificates/{alias}/delete"),
            post(delete_endpoint_certificate),
        )
        .route(
            &at("/definition"),
            get(definition_page).post(save_definition.layer(tollgate_restcore::upload_limit())),
        )
        .route(
            &at("/documents"),
            get(documents_page).post(create_document.layer(tollgate_restcore::upload_limit())),
        )
        .route(
            &at("/documents/{document_id}"),
            get(edit_document_page).post(update_document.layer(tollgate_restcore::upload_limit())),
        )
        .route(
            &at("/documents/{document_id}/content"),
            get(document_content),
        )
        .route(
            &at("/documents/{document_id}/delete"),
            post(delete_document),
        )
        .route(
            &at("/deployments"),
            get(deployments_page).post(revision_action),
        )
        .route(
            &at("/subscriptions"),
            get(subscriptions_page).post(subscription_state),
        )
        .route(&at("/comments"), get(comments_page).post(add_comment))
        .route(&at("/comments/{comment_id}/delete"), post(delete_comment))
}

const STYLESHEET: &str = include_str!("../assets/portal.css");
const SCRIPT: &str = include_str!("../assets/portal.js");

const SWAGGER_INIT: &str = include_str!("../assets/swagger-init.js");

/// A static asset of the portals, cached by browsers for an hour.
fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT.as_bytes())
}

async fn swagger_init() -> Response {
    asset("text/javascript; charset=utf-8", SWAGGER_INIT.as_bytes())
}

/// Swagger UI's files, as the swagger-ui-redist crate vendors them.
async fn swagger_ui_file(Path(file): Path<String>) -> Response {
    let found = swagger_ui_redist::SwaggerUi::static_files()
        .iter()
        .find(|(kind, _)| kind.file_name() == file);
    match found {
        Some((_, body)) => {
            let content_type = if file.ends_with(".js") {
                "text/javascript; charset=utf-8"
            } else if file.ends_with(".css") {
                "text/css; charset=utf-8"
            } else if file.ends_with(".png") {
                "image/png"
            } else {
                "application/octet-stream"
            };
            asset(content_type, body)
        }
        None => PageError::new(StatusCode::NOT_FOUND, "No such file").into_response(),
    }
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET.as_bytes())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Chrome,
}

async fn home(visitor: Visitor) -> Response {
    render(&HomePage {
        page: visitor.chrome(None, "Tollgate"),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    page: Chrome,
    action: String,
    login_csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

fn portal_of(name: &str) -> Result<Portal, PageError> {
    Portal::parse(name).ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, "No such portal"))
}

async fn login_form(visitor: Visitor, Path(portal): Path<String>) -> Result<Response, PageError> {
    let portal = portal_of(&portal)?;
    let (token, cookie) = session::login_csrf(visitor.secure);
    let mut response = render(&LoginPage {
        page: visitor.chrome(Some(portal), "Sign in"),
        action: format!("{}/login", portal.path()),
        login_csrf: &token,
        username: "",
        error: None,
    });
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    client: Option<axum::Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    Path(portal): Path<String>,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let portal = portal_of(&portal)?;
    let refuse = |message: &str| {
        let (token, cookie) = session::login_csrf(visitor.secure);
        let mut response = render(&LoginPage {
            page: visitor.chrome(Some(portal), "Sign in"),
            action: format!("{}/login", portal.path()),
            login_csrf: &token,
            username: &form.username,
            error: Some(message),
        });
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response.headers_mut().append(header::SET_COOKIE, cookie);
        response
    };
    if !session::login_csrf_ok(&headers, &form.csrf) {
        return Ok(refuse("The sign-in form expired; please sign in again."));
    }
    let source = client.map(|axum::Extension(addr)| addr.0.ip());
    match tollgate_operations::sessions::sign_in(&ctx, &form.username, &form.password, source).await
    {
        Ok(cookie) => Ok(session::started(&cookie, visitor.secure, portal.path())),
        Err(tollgate_operations::OpError::Unauthenticated(message)) => Ok(refuse(&message)),
        // A lock or a busy password checker, said on the page.
        Err(tollgate_operations::OpError::KeyManager(err)) => {
            Ok(refuse(&tollgate_restcore::ApiError::from(err).description))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(portal): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let portal = portal_of(&portal)?;
    if let Some(signed_in) = &visitor.signed_in {
        session::require_csrf(signed_in, &form.csrf)?;
    }
    session::end(&ctx, &headers, visitor.secure, portal.path()).await
}
