//! What every page shares: the portal it belongs to, the signed-in user, and errors rendered as
//! a page (never a blank one, never a stack trace).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tollgate_operations::publisher::documents::ServedContent;
use tollgate_operations::OpError;
use tollgate_restcore::ApiError;
use tollgate_store::StoreError;

/// The three portals, at WSO2's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portal {
    Publisher,
    DevPortal,
    Admin,
}

impl Portal {
    pub fn parse(name: &str) -> Option<Portal> {
        match name {
            "publisher" => Some(Portal::Publisher),
            "devportal" => Some(Portal::DevPortal),
            "admin" => Some(Portal::Admin),
            _ => None,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Portal::Publisher => "/publisher",
            Portal::DevPortal => "/devportal",
            Portal::Admin => "/admin",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Portal::Publisher => "Publisher",
            Portal::DevPortal => "Developer Portal",
            Portal::Admin => "Admin",
        }
    }
}

/// The frame of a page: which portal, the title, who is signed in (and their form token).
#[derive(Debug, Clone)]
pub struct Chrome {
    pub portal: Option<Portal>,
    pub title: String,
    pub username: Option<String>,
    pub csrf: String,
}

impl Chrome {
    pub fn portal_path(&self) -> &'static str {
        self.portal.map_or("/", Portal::path)
    }

    pub fn portal_title(&self) -> &'static str {
        self.portal.map_or("Tollgate", Portal::title)
    }

    /// The document's `<title>`: the page, its portal, Tollgate — each part once (the landing
    /// page is titled "Tollgate", not "Tollgate · Tollgate · Tollgate").
    pub fn document_title(&self) -> String {
        let mut parts: Vec<&str> = vec![self.title.as_str()];
        if let Some(portal) = self.portal {
            parts.push(portal.title());
        }
        parts.push("Tollgate");
        parts.dedup();
        parts.join(" · ")
    }

    /// Whether `portal` is the one shown (for the navigation's current marker).
    pub fn is(&self, portal: &str) -> bool {
        self.portal.is_some_and(|p| p.path() == portal)
    }
}

/// Renders a form's page: 400 when it shows problems, 200 otherwise.
pub fn render_form<T: Template>(page: &T, errors: &FormErrors) -> Response {
    let mut response = render(page);
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

/// Renders a template, or an error page if it cannot be rendered.
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "a page failed to render");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
            .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: Chrome,
    status: u16,
    message: &'a str,
}

/// Why a page could not be served; shown as a page with the reason.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        if err.status == StatusCode::FORBIDDEN {
            // Said for a person, not a client: what they tried needs another role.
            return PageError::new(
                err.status,
                format!("Your roles do not allow this. ({})", err.description),
            );
        }
        PageError::new(err.status, err.description)
    }
}

impl From<OpError> for PageError {
    fn from(err: OpError) -> Self {
        ApiError::from(err).into()
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            page: Chrome {
                portal: None,
                title: "Something went wrong".into(),
                username: None,
                csrf: String::new(),
            },
            status: self.status.as_u16(),
            message: &self.message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("Error {}: {}", self.status.as_u16(), self.message));
        (self.status, Html(body)).into_response()
    }
}

/// An operation's refusal as a form shows it: each problem next to its field (by the last
/// part of the field's name, `user.password` → `password`), the rest above the form.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    pub fields: Vec<(String, String)>,
    pub general: Vec<String>,
}

impl FormErrors {
    /// `fields` are the form's field names; a problem of another field goes to `general`.
    pub fn from_op(err: OpError, fields: &[&str]) -> Result<FormErrors, PageError> {
        match err {
            OpError::Invalid(errors) => {
                let mut form = FormErrors::default();
                for error in errors {
                    let key = error
                        .field
                        .rsplit('.')
                        .next()
                        .unwrap_or(&error.field)
                        .split('[')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    match fields.iter().find(|f| f.eq_ignore_ascii_case(&key)) {
                        Some(field) => form.fields.push((field.to_string(), error.message)),
                        None => form
                            .general
                            .push(format!("{}: {}", error.field, error.message)),
                    }
                }
                Ok(form)
            }
            OpError::Conflict(message) | OpError::NotAllowed(message) => Ok(FormErrors {
                fields: Vec::new(),
                general: vec![message],
            }),
            other => Err(other.into()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// One problem of a field the form itself checks (before any operation ran).
    pub fn field(field: &str, message: impl Into<String>) -> FormErrors {
        FormErrors {
            fields: vec![(field.to_string(), message.into())],
            general: Vec::new(),
        }
    }

    /// The problem with `field`, if any.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// A URL-encoded form read whole, keeping repeated fields (ticked boxes, table rows) that
/// `axum::Form` would collapse.
#[derive(Debug, Clone, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &[u8]) -> FormFields {
        FormFields(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> FormFields {
        FormFields(pairs)
    }

    /// The field's first value, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The field's value trimmed, if not blank.
    pub fn some(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_string()).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A field with one item per line (URLs may hold commas), trimmed, blanks dropped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .lines()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The field's value as one of WSO2's names; an unknown one is a problem with `field` (the
    /// operation's name for it), shown next to the form field as an operation's would be.
    pub fn name<T>(&self, name: &str, field: &str) -> Result<T, OpError>
    where
        T: std::str::FromStr<Err = tollgate_model::UnknownName>,
    {
        self.get(name)
            .trim()
            .parse()
            .map_err(|e| OpError::unknown_name(field, e))
    }

    /// Every value of a repeated field as one of WSO2's names (see [`FormFields::name`]).
    pub fn names<T>(&self, name: &str, field: &str) -> Result<Vec<T>, OpError>
    where
        T: std::str::FromStr<Err = tollgate_model::UnknownName>,
    {
        self.all(name)
            .iter()
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|e| OpError::unknown_name(field, e))
            })
            .collect()
    }

    /// A comma- or line-separated list field, items trimmed, blanks dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .split([',', '\n'])
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormFields {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, PageError> {
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError::new(e.status(), e.body_text()))?;
        Ok(FormFields::parse(&body))
    }
}

/// Whether two texts are equal, whatever their reference depth (for templates' `selected`).
pub fn same(a: impl AsRef<str>, b: impl AsRef<str>) -> bool {
    a.as_ref() == b.as_ref()
}

#[derive(Template)]
#[template(path = "document.html")]
pub(crate) struct DocumentPage {
    pub page: Chrome,
    pub back: String,
    pub name: String,
    pub summary: String,
    /// Rendered Markdown…
    pub html: String,
    /// …or plain text, shown as it is.
    pub text: Option<String>,
}

/// A document's content as a reader sees it: Markdown rendered, text as text, a file served
/// (inert), a link followed.
pub(crate) fn show_document(
    page: Chrome,
    back: String,
    doc: &tollgate_store::DocumentRow,
    content: ServedContent,
) -> Response {
    match content {
        ServedContent::Text { markdown, text } => render(&DocumentPage {
            page,
            back,
            name: doc.name.clone(),
            summary: doc.summary.clone(),
            html: if markdown {
                crate::markdown::to_html(&text)
            } else {
                String::new()
            },
            text: Some(text).filter(|_| !markdown),
        }),
        // Files and links are served as the REST API serves them (inert attachments).
        other => tollgate_restcore::served_content(other)
            .unwrap_or_else(|err| PageError::from(err).into_response()),
    }
}

/// A moment as pages show it: `2026-12-05 14:22 UTC` (to the minute).
pub fn when(millis: i64) -> String {
    let exact = tollgate_restcore::rfc3339(millis);
    match exact.get(..16) {
        Some(minute) => format!("{} UTC", minute.replace('T', " ")),
        None => exact,
    }
}
