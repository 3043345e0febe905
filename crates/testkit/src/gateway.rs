//! A consumer calling a gateway: with a token, an API key or nothing, answered with the status,
//! headers and body — and, for changes that reach gateways by events, polled until the answer
//! is the expected one.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::{http_client, Node};

/// How long [`Gateway::eventually`] waits for a change to reach a gateway.
const PATIENCE: Duration = Duration::from_secs(10);

/// What a caller presents to the gateway.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// Nothing at all.
    Anonymous,
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// WSO2's `apikey` header.
    ApiKey(&'a str),
}

pub use Credential::{Anonymous, ApiKey, Bearer};

/// What came back from a call: status, headers and the body as text.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// Reads a response to its end.
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The body as JSON (panics, naming the status and body, when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{} answered no JSON ({e}): {}", self.status, self.body))
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status (showing the body when it differs) and returns the body as JSON
    /// (`null` when it is not JSON).
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// Asserts a refusal with `status` in WSO2's error body; the body.
    pub fn refused(&self, status: StatusCode) -> Value {
        let body = self.expect(status);
        assert!(
            body.get("code").is_some()
                && body.get("message").is_some()
                && body.get("description").is_some(),
            "not a WSO2 error body: {}",
            self.body
        );
        body
    }

    /// WSO2's error code of a refusal with `status` (`900901`, `900908`, …).
    pub fn refused_with(&self, status: StatusCode) -> String {
        self.refused(status)["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// One gateway's HTTP (or HTTPS) listener.
#[derive(Clone)]
pub struct Gateway {
    pub http: Client,
    base: String,
}

impl Gateway {
    /// The node's gateway over HTTP.
    pub fn of(node: &Node) -> Gateway {
        Gateway::at(&node.gateway_http(""))
    }

    /// The node's gateway over HTTPS.
    pub fn https(node: &Node) -> Gateway {
        Gateway::at(&node.gateway_https(""))
    }

    /// A gateway listening at `base` (`http://127.0.0.1:8280`).
    pub fn at(base: &str) -> Gateway {
        Gateway {
            http: http_client(),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The URL of `path` (`/pizzashack/1.0.0/menu`) on this gateway.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with `credential`.
    pub async fn get(&self, path: &str, credential: Credential<'_>) -> Answer {
        self.call(Method::GET, path, credential, None).await
    }

    /// `method path` with `credential` and, when given, a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        credential: Credential<'_>,
        body: Option<&Value>,
    ) -> Answer {
        self.call_with(method, path, credential, body, &[]).await
    }

    /// As [`Gateway::call`], with extra request headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        credential: Credential<'_>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        request = match credential {
            Anonymous => request,
            Bearer(token) => request.bearer_auth(token),
            ApiKey(key) => request.header("apikey", key),
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("calling {path} on the gateway: {e}"));
        Answer::read(response).await
    }

    /// Polls `GET path` until the gateway answers `status` (changes reach gateways by events)
    /// and returns that answer; after ten seconds, the last answer, whatever it was.
    pub async fn eventually(
        &self,
        path: &str,
        credential: Credential<'_>,
        status: StatusCode,
    ) -> Answer {
        self.eventually_call(Method::GET, path, credential, status)
            .await
    }

    /// As [`Gateway::eventually`] for any method.
    pub async fn eventually_call(
        &self,
        method: Method,
        path: &str,
        credential: Credential<'_>,
        status: StatusCode,
    ) -> Answer {
        self.eventually_call_with(method, path, credential, &[], status)
            .await
    }

    /// As [`Gateway::eventually_call`], with extra request headers.
    pub async fn eventually_call_with(
        &self,
        method: Method,
        path: &str,
        credential: Credential<'_>,
        headers: &[(&str, &str)],
        status: StatusCode,
    ) -> Answer {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let answer = self
                .call_with(method.clone(), path, credential, None, headers)
                .await;
            if answer.status == status || Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// As [`Gateway::eventually`], asserting that the gateway did answer `status`.
    pub async fn until(
        &self,
        path: &str,
        credential: Credential<'_>,
        status: StatusCode,
    ) -> Answer {
        let answer = self.eventually(path, credential, status).await;
        assert_eq!(
            answer.status, status,
            "the gateway never answered {status} on {path}; last body: {}",
            answer.body
        );
        answer
    }
}
