//! An OAuth 2.0 client of a node's key manager: registered through WSO2's dynamic client
//! registration (DCR), or an application's consumer key and secret; it asks the token endpoint
//! for tokens, revokes and introspects them.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::gateway::Answer;
use crate::{http_client, Node};

/// A client of the key manager: its id and secret, and where the key manager is.
#[derive(Clone)]
pub struct OAuthClient {
    pub id: String,
    pub secret: String,
    http: Client,
    /// The token endpoint.
    token_url: String,
    /// The control plane's base URL (HTTPS, as WSO2's clients call it), for revocation and
    /// introspection.
    base: String,
}

/// Registers a client of the admin's through DCR (`/client-registration/v0.17/register`, Basic
/// credentials) with these space-separated grant types; panics with the answer when refused.
pub async fn register_client(node: &Node, name: &str, grant_types: &str) -> OAuthClient {
    register_client_with(
        node,
        json!({"clientName": name, "owner": "admin", "grantType": grant_types}),
    )
    .await
}

/// As [`register_client`], with the whole DCR request body (a `callbackUrl`, say).
pub async fn register_client_with(node: &Node, body: Value) -> OAuthClient {
    let http = http_client();
    let response = http
        .post(node.control_plane_http("/client-registration/v0.17/register"))
        .basic_auth("admin", Some(&node.admin_password))
        .json(&body)
        .send()
        .await
        .expect("register a client");
    let registered = Answer::read(response).await.expect(StatusCode::OK);
    OAuthClient {
        id: registered["clientId"].as_str().unwrap().to_string(),
        secret: registered["clientSecret"].as_str().unwrap().to_string(),
        http,
        token_url: node.control_plane_https("/oauth2/token"),
        base: node.control_plane_https(""),
    }
}

impl OAuthClient {
    /// An application's keys (`consumerKey`, `consumerSecret` as `generate-keys` answers them)
    /// as a client of `node`'s key manager.
    pub fn of_keys(node: &Node, keys: &Value) -> OAuthClient {
        OAuthClient::new(
            node,
            keys["consumerKey"].as_str().expect("a consumerKey"),
            keys["consumerSecret"].as_str().expect("a consumerSecret"),
        )
    }

    /// A client with this id and secret at `node`'s key manager.
    pub fn new(node: &Node, id: &str, secret: &str) -> OAuthClient {
        OAuthClient {
            id: id.into(),
            secret: secret.into(),
            http: http_client(),
            token_url: node.control_plane_https("/oauth2/token"),
            base: node.control_plane_https(""),
        }
    }

    /// A client of another authorization server, by its token endpoint (for tokens only).
    pub fn at(token_url: &str, id: &str, secret: &str) -> OAuthClient {
        OAuthClient {
            id: id.into(),
            secret: secret.into(),
            http: http_client(),
            token_url: token_url.into(),
            base: String::new(),
        }
    }

    /// The same client presenting another secret.
    pub fn with_secret(&self, secret: &str) -> OAuthClient {
        OAuthClient {
            secret: secret.into(),
            ..self.clone()
        }
    }

    /// Asks the token endpoint with this form (client authenticated by Basic credentials);
    /// whatever it answers.
    pub async fn request_token(&self, form: &[(&str, &str)]) -> Answer {
        let response = self
            .http
            .post(&self.token_url)
            .basic_auth(&self.id, Some(&self.secret))
            .form(form)
            .send()
            .await
            .expect("call the token endpoint");
        Answer::read(response).await
    }

    /// A token response for this form (panics unless 200).
    pub async fn token(&self, form: &[(&str, &str)]) -> Value {
        self.request_token(form).await.expect(StatusCode::OK)
    }

    /// An access token by the client-credentials grant.
    pub async fn client_credentials(&self) -> String {
        self.token(&[("grant_type", "client_credentials")]).await["access_token"]
            .as_str()
            .expect("an access_token")
            .to_string()
    }

    /// An RFC 6749 §5.2 refusal of this form: asserts the status and returns `error`.
    pub async fn token_refused(&self, form: &[(&str, &str)], status: StatusCode) -> String {
        self.request_token(form).await.expect(status)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Revokes a token (RFC 7009; panics unless 200).
    pub async fn revoke(&self, token: &str) {
        let response = self
            .http
            .post(format!("{}/oauth2/revoke", self.base))
            .basic_auth(&self.id, Some(&self.secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("call the revocation endpoint");
        Answer::read(response).await.expect(StatusCode::OK);
    }

    /// What introspection (RFC 7662) says of a token.
    pub async fn introspect(&self, token: &str) -> Value {
        let response = self
            .http
            .post(format!("{}/oauth2/introspect", self.base))
            .basic_auth(&self.id, Some(&self.secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("call the introspection endpoint");
        Answer::read(response).await.expect(StatusCode::OK)
    }

    /// Whether introspection finds the token active.
    pub async fn is_active(&self, token: &str) -> bool {
        self.introspect(token).await["active"] == true
    }
}
