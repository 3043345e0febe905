//! Another issuer's signing keys, as its JWKS endpoint publishes them: fetched off the request
//! path, kept until the next fetch, and fetched again when a token names a key not in the set
//! (the issuer rotated) — at most once per interval, and by one caller at a time while the
//! others wait for its result.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::JwkSet;
use serde::de::DeserializeOwned;

use crate::{JwtError, TokenRules, VerifyingKey};

/// The largest key set document read (a JWKS is a few kilobytes).
const MAX_JWKS_BYTES: usize = 256 * 1024;

pub struct RemoteKeySet {
    issuer: String,
    url: String,
    rules: TokenRules,
    keys: ArcSwap<HashMap<String, VerifyingKey>>,
    /// When the set was last fetched successfully / last tried (milliseconds; 0 = never).
    fetched_at: AtomicI64,
    tried_at: AtomicI64,
    /// Held by the one fetch under way.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl RemoteKeySet {
    /// An empty set for `issuer`'s keys at `url`; nothing is fetched yet.
    pub fn new(issuer: &str, url: &str, rules: TokenRules) -> RemoteKeySet {
        RemoteKeySet {
            issuer: issuer.to_string(),
            url: url.to_string(),
            rules,
            keys: ArcSwap::from_pointee(HashMap::new()),
            fetched_at: AtomicI64::new(0),
            tried_at: AtomicI64::new(0),
            fetching: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the set holds a key with this id.
    pub fn knows(&self, kid: &str) -> bool {
        self.keys.load().contains_key(kid)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Milliseconds since the last successful fetch; `None` before the first.
    pub fn age_millis(&self) -> Option<i64> {
        match self.fetched_at.load(Ordering::Relaxed) {
            0 => None,
            at => Some(now_millis().saturating_sub(at)),
        }
    }

    /// Verifies `token` with the key `kid` of this set; [`JwtError::UnknownKey`] when the set
    /// has no such key (yet).
    pub fn verify<C: DeserializeOwned>(&self, kid: &str, token: &str) -> Result<C, JwtError> {
        self.keys
            .load()
            .get(kid)
            .ok_or(JwtError::UnknownKey)?
            .verify(token)
    }

    /// Like [`RemoteKeySet::verify`], and `aud` must name one of `audiences`.
    pub fn verify_for_audience<C: DeserializeOwned>(
        &self,
        kid: &str,
        token: &str,
        audiences: &[String],
    ) -> Result<C, JwtError> {
        self.keys
            .load()
            .get(kid)
            .ok_or(JwtError::UnknownKey)?
            .verify_for_audience(token, audiences)
    }

    /// Fetches the set again unless it was fetched or tried less than `min_interval` ago.
    /// Concurrent callers wait for the one fetch under way instead of starting their own. The
    /// fetch runs as a task of its own: a caller that goes away (a client resetting its request)
    /// neither cancels it nor loses its result. Returns whether a fetch happened and succeeded.
    pub async fn refresh(
        self: &Arc<Self>,
        http: &reqwest::Client,
        min_interval: Duration,
    ) -> Result<bool, JwtError> {
        let tried = self.tried_at.load(Ordering::Relaxed);
        let fetching = self.fetching.clone().lock_owned().await;
        // Someone else fetched while this caller waited: its result is as fresh as ours would be.
        if self.tried_at.load(Ordering::Relaxed) != tried {
            return Ok(false);
        }
        if now_millis().saturating_sub(tried) < min_interval.as_millis() as i64 {
            return Ok(false);
        }
        self.tried_at.store(now_millis(), Ordering::Relaxed);
        let (set, http) = (self.clone(), http.clone());
        tokio::spawn(async move {
            let _fetching = fetching;
            let keys = set.fetch(&http).await?;
            tracing::debug!(issuer = %set.issuer, keys = keys.len(), "key set fetched");
            set.keys.store(Arc::new(keys));
            set.fetched_at.store(now_millis(), Ordering::Relaxed);
            Ok(true)
        })
        .await
        .map_err(|e| JwtError::Fetch(e.to_string()))?
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
    ) -> Result<HashMap<String, VerifyingKey>, JwtError> {
        let fail = |e: &dyn std::fmt::Display| JwtError::Fetch(format!("{}: {e}", self.url));
        let mut response = http.get(&self.url).send().await.map_err(|e| fail(&e))?;
        if !response.status().is_success() {
            return Err(fail(&format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(fail(&"the key set is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| fail(&e))?;
        Ok(parse_set(&set, &self.issuer, self.rules))
    }
}

/// The usable keys of a JWKS by `kid` (a key without one under the empty id, for issuers with
/// a single key that name none); unusable keys are skipped.
pub fn parse_set(set: &JwkSet, issuer: &str, rules: TokenRules) -> HashMap<String, VerifyingKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            match VerifyingKey::from_jwk(jwk, issuer, rules) {
                Ok(key) => Some((kid, key)),
                Err(err) => {
                    tracing::warn!(%issuer, %kid, error = %err, "key of a remote key set skipped");
                    None
                }
            }
        })
        .collect()
}
