//! The control plane's HTTP endpoints called in process: the real router, middleware and
//! handlers over the bed's services, without a listener. For rules that live at an edge (the
//! token endpoint's parameters, WSO2's error bodies); wiring itself is tested through real
//! processes (`tollgate-testkit`).

use std::net::{Ipv4Addr, SocketAddr};

use axum::body::Body;
use base64::Engine;
use http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::TestBed;

/// A request being put together; [`Call::send`] sends it.
pub struct Call<'b> {
    bed: &'b TestBed,
    request: http::request::Builder,
    body: Vec<u8>,
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Part {
    /// A text field.
    pub fn text(name: &str, value: &str) -> Part {
        Part {
            name: name.into(),
            file_name: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }

    /// A file, with its name (and no content type of its own).
    pub fn file(name: &str, file_name: &str, bytes: impl Into<Vec<u8>>) -> Part {
        Part {
            name: name.into(),
            file_name: Some(file_name.into()),
            content_type: None,
            bytes: bytes.into(),
        }
    }

    /// The part with a content type.
    pub fn typed(mut self, content_type: &str) -> Part {
        self.content_type = Some(content_type.into());
        self
    }
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    /// The body as JSON (panics, naming the status and body, when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered no JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status (showing the body when it differs); the body as JSON (`null` when it
    /// is none).
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Asserts a refusal with `status` in WSO2's error body (`code`, `message`,
    /// `description`); the body.
    pub fn refused(&self, status: u16) -> Value {
        let body = self.expect(status);
        assert!(
            body.get("code").is_some()
                && body.get("message").is_some()
                && body.get("description").is_some(),
            "not a WSO2 error body: {}",
            self.text()
        );
        body
    }

    /// The refusal's `description` (after [`Reply::refused`] with `status`).
    pub fn refused_because(&self, status: u16) -> String {
        self.refused(status)["description"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The fields a 400 names in WSO2's `error` list, in order.
    pub fn bad_fields(&self) -> Vec<String> {
        self.refused(400)["error"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `Location` header.
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

impl TestBed {
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            bed: self,
            request: Request::builder().method(method).uri(path),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Call<'_> {
        self.call(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call(Method::PATCH, path)
    }

    pub fn head(&self, path: &str) -> Call<'_> {
        self.call(Method::HEAD, path)
    }

    /// A token of the control plane's REST APIs for `username` (one of [`crate::USERS`]) with
    /// `scopes` (all of which must be granted), through the real endpoints: a client registered
    /// by DCR, then the password grant — as WSO2's clients log in.
    pub async fn rest_token(&self, username: &str, scopes: &str) -> String {
        let registered = self
            .post("/client-registration/v0.17/register")
            .as_user("admin")
            .json(&serde_json::json!({"clientName": format!("rest-{username}"), "owner": "admin", "grantType": "password refresh_token"}))
            .send()
            .await
            .expect(200);
        let token = self
            .post("/oauth2/token")
            .basic_auth(
                registered["clientId"].as_str().unwrap(),
                registered["clientSecret"].as_str().unwrap(),
            )
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", crate::PASSWORD),
                ("scope", scopes),
            ])
            .send()
            .await
            .expect(200);
        assert_eq!(token["scope"], scopes, "not every scope was granted");
        token["access_token"].as_str().unwrap().to_string()
    }
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// Basic credentials (`user:password`).
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header("authorization", &format!("Basic {encoded}"))
    }

    /// The user's Basic credentials with the test bed's password.
    pub fn as_user(self, user: &str) -> Self {
        self.basic_auth(user, crate::PASSWORD)
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.header("content-type", "application/json")
    }

    /// A raw body with its content type: for bodies a JSON value cannot be (malformed ones).
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("content-type", content_type)
    }

    /// A `multipart/form-data` body of these parts.
    pub fn multipart(mut self, parts: &[Part]) -> Self {
        const BOUNDARY: &str = "tollgate-testbed-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
            if let Some(file_name) = &part.file_name {
                disposition.push_str(&format!("; filename=\"{file_name}\""));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            if let Some(content_type) = &part.content_type {
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&part.bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.body = body;
        self.header(
            "content-type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
    }

    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
            .into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    pub async fn send(self) -> Reply {
        let mut request = self
            .request
            .body(Body::from(self.body))
            .expect("a well-formed request");
        // What a listener puts on every request: the client's address.
        request
            .extensions_mut()
            .insert(tollgate_guard::ClientAddr(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                40_000,
            ))));
        let response = self
            .bed
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers every request");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the response body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}
