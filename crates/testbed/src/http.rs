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
