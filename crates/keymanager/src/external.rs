//! Other authorization servers (external key managers), as the resident key manager deals with
//! them: proving that a client registered there is the caller's (`map-keys`), and trusting their
//! signed assertions (the JWT bearer grant) through their published key sets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tollgate_jwt::remote::RemoteKeySet;
use tollgate_store::KeyManagerRow;

use crate::{KeyManagerError, Result};

/// How long a call to another authorization server may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a fetched key set is used before it is fetched again, and the shortest time
/// between two fetches (a token naming an unknown key triggers one).
const KEYS_REFRESH: Duration = Duration::from_secs(15 * 60);
const KEYS_MIN_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct ExternalIssuers {
    http: reqwest::Client,
    /// Key sets by (issuer, JWKS URL): a changed URL is a new set.
    key_sets: Mutex<HashMap<(String, String), Arc<RemoteKeySet>>>,
}

impl ExternalIssuers {
    pub(crate) fn new() -> ExternalIssuers {
        ExternalIssuers {
            // No redirects: one could lead from https to plain http.
            http: reqwest::Client::builder()
                .timeout(CALL_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            key_sets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `token_endpoint` grants `consumer_key` and `consumer_secret` a client-credentials
    /// token: proof the caller holds that (confidential) client's credentials.
    pub(crate) async fn check_client(
        &self,
        token_endpoint: &str,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> Result<()> {
        let response = self
            .http
            .post(token_endpoint)
            .basic_auth(consumer_key, Some(consumer_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(|e| KeyManagerError::Upstream(format!("{token_endpoint}: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // Only a token proves the credentials: a public client (no secret) is refused a grant
        // whatever secret is sent, and must not be claimable by anyone who knows its id.
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::BAD_REQUEST
        {
            return Err(KeyManagerError::InvalidClient);
        }
        Err(KeyManagerError::Upstream(format!(
            "{token_endpoint} answered HTTP {status}"
        )))
    }

    /// Another authorization server's metadata (OpenID Connect discovery or RFC 8414), read
    /// from `url`.
    pub(crate) async fn discover(&self, url: &str) -> Result<serde_json::Value> {
        let failed = |e: &dyn std::fmt::Display| KeyManagerError::Upstream(format!("{url}: {e}"));
        let response = self.http.get(url).send().await.map_err(|e| failed(&e))?;
        if !response.status().is_success() {
            return Err(failed(&format!("HTTP {}", response.status())));
        }
        let metadata: serde_json::Value = response.json().await.map_err(|e| failed(&e))?;
        if !metadata["issuer"].is_string() {
            return Err(failed(
                &"the answer is not authorization server metadata (no issuer)",
            ));
        }
        Ok(metadata)
    }

    /// The key set of `issuer` at `jwks_url`, fetched when it is new or stale.
    pub(crate) async fn key_set(&self, issuer: &str, jwks_url: &str) -> Arc<RemoteKeySet> {
        let set = {
            let mut sets = tollgate_guard::lock(&self.key_sets);
            sets.entry((issuer.to_string(), jwks_url.to_string()))
                .or_insert_with(|| {
                    Arc::new(RemoteKeySet::new(
                        issuer,
                        jwks_url,
                        tollgate_jwt::TokenRules::default(),
                    ))
                })
                .clone()
        };
        let interval = if set.age_millis().is_some() {
            KEYS_REFRESH
        } else {
            KEYS_MIN_INTERVAL
        };
        if let Err(err) = set.refresh(&self.http, interval).await {
            tracing::warn!(%issuer, error = %err, "cannot fetch key set");
        }
        set
    }

    /// Verifies an assertion `key_manager` signed for `audiences` (RFC 7523 §3): its key set
    /// (fetched again once when the assertion names a key it lacks), `exp`, `nbf`, `iss`, `aud`;
    /// returns its claims. Any failure is `invalid_grant`.
    pub(crate) async fn verify_assertion(
        &self,
        key_manager: &KeyManagerRow,
        assertion: &str,
        audiences: &[String],
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let refused = |e: tollgate_jwt::JwtError| {
            KeyManagerError::InvalidGrant(format!("the assertion: {e}"))
        };
        let kid = tollgate_jwt::key_id(assertion).map_err(refused)?;
        let set = self
            .key_set(&key_manager.issuer, &key_manager.jwks_endpoint)
            .await;
        match set.verify_for_audience(&kid, assertion, audiences) {
            Err(tollgate_jwt::JwtError::UnknownKey) => {
                if let Err(err) = set.refresh(&self.http, KEYS_MIN_INTERVAL).await {
                    tracing::warn!(issuer = %set.issuer(), error = %err, "cannot fetch key set");
                }
                set.verify_for_audience(&kid, assertion, audiences)
                    .map_err(refused)
            }
            other => other.map_err(refused),
        }
    }
}
