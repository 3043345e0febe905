//! The portals' side of sessions (`tollgate_operations::sessions` holds their rules): the
//! session cookie (HttpOnly, SameSite=Lax, Secure over TLS), the session's CSRF token on every
//! form, the sign-in form's double-submit cookie, and the extractors that give a page its
//! visitor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_operations::sessions;
use tollgate_operations::Actor;
use tollgate_restcore::Ctx;

use crate::pages::{Chrome, PageError, Portal};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tollgate_portal";
/// The sign-in form's CSRF cookie (double submit: there is no session yet).
pub const LOGIN_CSRF_COOKIE: &str = "tollgate_login_csrf";
/// A signed-in user of the portals.
pub type SignedIn = sessions::PortalSession;

/// The visitor behind a page request: signed in, or not.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub signed_in: Option<SignedIn>,
    /// Whether the request came over TLS (cookies are `Secure` then).
    pub secure: bool,
}

impl Visitor {
    /// The frame of a page of `portal` titled `title`, as this visitor sees it.
    pub fn chrome(&self, portal: Option<Portal>, title: impl Into<String>) -> Chrome {
        Chrome {
            portal,
            title: title.into(),
            username: self.signed_in.as_ref().map(|s| s.username.clone()),
            csrf: self
                .signed_in
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default(),
        }
    }
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<Ctx> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let secure = parts.extensions.get::<tollgate_guard::OverTls>().is_some();
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(Visitor {
                signed_in: None,
                secure,
            });
        };
        Ok(Visitor {
            signed_in: sessions::session(ctx, value).await?,
            secure,
        })
    }
}

fn cookie_header(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A fresh CSRF token for the sign-in form, and the cookie that carries its twin.
pub fn login_csrf(secure: bool) -> (String, HeaderValue) {
    let token = tollgate_keymanager::random_token(24);
    let header = cookie_header(LOGIN_CSRF_COOKIE, &token, secure, Some(3600));
    (token, header)
}

/// Whether a sign-in form's token matches its cookie.
pub fn login_csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, LOGIN_CSRF_COOKIE).is_some_and(|expected| {
        !submitted.is_empty()
            && tollgate_guard::constant_time_eq(expected.as_bytes(), submitted.as_bytes())
    })
}

/// Whether a form of this session carries the session's token.
fn csrf_ok(signed_in: &SignedIn, submitted: &str) -> bool {
    !submitted.is_empty()
        && tollgate_guard::constant_time_eq(signed_in.csrf.as_bytes(), submitted.as_bytes())
}

/// The one refusal of a form that does not carry the session's token.
pub fn require_csrf(signed_in: &SignedIn, submitted: &str) -> Result<(), PageError> {
    if csrf_ok(signed_in, submitted) {
        Ok(())
    } else {
        Err(PageError::new(
            axum::http::StatusCode::FORBIDDEN,
            "The form expired; reload the page and try again.",
        ))
    }
}

/// A redirect to `to` that sets a session's cookie (and clears the sign-in form's).
pub fn started(value: &str, secure: bool, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, value, secure, None),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(LOGIN_CSRF_COOKIE, "", secure, Some(0)),
    );
    response
}

/// Ends the session the request's cookie names; redirects to `to`.
pub async fn end(
    ctx: &Ctx,
    headers: &HeaderMap,
    secure: bool,
    to: &str,
) -> Result<Response, PageError> {
    if let Some(value) = cookie(headers, SESSION_COOKIE) {
        sessions::sign_out(ctx, value).await?;
    }
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, "", secure, Some(0)),
    );
    Ok(response)
}

/// A portal whose pages need a signed-in user.
pub trait PortalPages {
    const PORTAL: crate::pages::Portal;
}

pub struct PublisherPages;
impl PortalPages for PublisherPages {
    const PORTAL: crate::pages::Portal = crate::pages::Portal::Publisher;
}
pub struct DevPortalPages;
impl PortalPages for DevPortalPages {
    const PORTAL: crate::pages::Portal = crate::pages::Portal::DevPortal;
}
pub struct AdminPages;
impl PortalPages for AdminPages {
    const PORTAL: crate::pages::Portal = crate::pages::Portal::Admin;
}

/// A page of portal `P` for a signed-in user; anyone else is sent to `P`'s sign-in page.
pub struct SignedInTo<P> {
    pub visitor: Visitor,
    pub user: SignedIn,
    portal: std::marker::PhantomData<P>,
}

impl<P: PortalPages> SignedInTo<P> {
    /// The page's frame, titled `title`.
    pub fn chrome(&self, title: impl Into<String>) -> crate::pages::Chrome {
        self.visitor.chrome(Some(P::PORTAL), title)
    }

    pub fn actor(&self) -> &Actor {
        &self.user.actor
    }

    /// Refuses a form without this session's CSRF token.
    pub fn check(&self, form: &crate::pages::FormFields) -> Result<(), PageError> {
        self.check_token(form.get("csrf"))
    }

    /// The same for a form read into a typed struct: its `csrf` field.
    pub fn check_token(&self, csrf: &str) -> Result<(), PageError> {
        require_csrf(&self.user, csrf)
    }

    /// The same for a multipart form (file uploads).
    pub fn check_upload(&self, upload: &tollgate_restcore::Form) -> Result<(), PageError> {
        require_csrf(&self.user, upload.text("csrf")?.unwrap_or_default())
    }
}

impl<P: PortalPages + Send + Sync> FromRequestParts<Ctx> for SignedInTo<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, ctx)
            .await
            .map_err(IntoResponse::into_response)?;
        match visitor.signed_in.clone() {
            Some(user) => Ok(SignedInTo {
                visitor,
                user,
                portal: std::marker::PhantomData,
            }),
            None => Err(Redirect::to(&format!("{}/login", P::PORTAL.path())).into_response()),
        }
    }
}

pub type Publisher = SignedInTo<PublisherPages>;
pub type Consumer = SignedInTo<DevPortalPages>;
pub type Administrator = SignedInTo<AdminPages>;
