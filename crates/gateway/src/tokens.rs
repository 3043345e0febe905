//! Verified-token cache. An RSA-2048 signature check costs tens of microseconds, more than the
//! rest of the request path together; a token seen before is recognised by a hash of its last
//! characters (signature bytes) and a comparison of the whole token, then re-checked only for what can change:
//! expiry, its signing key still being trusted, and revocation (done by the caller).

use std::hash::BuildHasher;

use serde::Deserialize;
use std::sync::Arc;

/// What the request path needs from a verified token.
#[derive(Debug, serde::Deserialize)]
pub struct VerifiedClaims {
    pub azp: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub jti: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    /// The audiences the token names (`aud`: one string or an array).
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// The external key manager that issued the token; `None` for the resident one.
    #[serde(skip)]
    pub origin: Option<Arc<crate::state::ExternalIssuer>>,
    /// An opaque token the key manager vouched for (by introspection), not a JWT.
    #[serde(skip)]
    pub introspected: bool,
    /// Set for an API key (never for an access token): what it grants and where it may be used.
    #[serde(skip)]
    pub api_key: Option<Box<ApiKeyGrant>>,
}

/// What an API key stands for, read from its claims when it was verified.
#[derive(Debug)]
pub struct ApiKeyGrant {
    pub application_id: String,
    pub key_type: tollgate_model::KeyType,
    pub restrictions: tollgate_model::ApiKeyRestrictions,
}

/// `aud` as RFC 7519 allows it: one string, or an array of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many,
    })
}

struct Entry {
    token: Box<str>,
    kid: Box<str>,
    claims: Arc<VerifiedClaims>,
}

pub struct TokenCache {
    entries: quick_cache::sync::Cache<u64, Arc<Entry>>,
    hasher: foldhash::fast::RandomState,
    /// The verifier's clock leeway: a cached token lasts exactly as long as it would verify.
    leeway_secs: i64,
}

/// How many verified tokens a gateway remembers.
pub const TOKEN_CACHE_CAPACITY: usize = 200_000;

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new(tollgate_jwt::TokenRules::default())
    }
}

impl TokenCache {
    pub fn new(rules: tollgate_jwt::TokenRules) -> TokenCache {
        TokenCache {
            entries: quick_cache::sync::Cache::new(TOKEN_CACHE_CAPACITY),
            hasher: Default::default(),
            leeway_secs: rules.leeway_secs.min(i64::MAX as u64) as i64,
        }
    }

    /// A hash of a whole token (for opaque ones, which have no signature to key on).
    pub fn hash_of(&self, token: &[u8]) -> u64 {
        self.hasher.hash_one(token)
    }

    fn key(&self, token: &[u8]) -> u64 {
        // A JWT ends with its signature, unique per token: its last 32 characters (192 bits) are
        // key enough, and cheaper to hash than the whole. The full comparison below guards
        // against a forged token that reuses a real token's signature.
        self.hasher
            .hash_one(&token[token.len().saturating_sub(32)..])
    }

    /// The cached claims of `token`, if it was verified before, has not expired, and its signing
    /// key is still trusted (`trusted(kid, claims)`).
    pub fn get(
        &self,
        token: &[u8],
        now_secs: i64,
        trusted: impl Fn(&str, &VerifiedClaims) -> bool,
    ) -> Option<Arc<VerifiedClaims>> {
        let entry = self.entries.get(&self.key(token))?;
        if entry.token.as_bytes() != token
            || entry.claims.exp.saturating_add(self.leeway_secs) <= now_secs
            || !trusted(&entry.kid, &entry.claims)
        {
            return None;
        }
        Some(entry.claims.clone())
    }

    pub fn insert(&self, token: &str, kid: &str, claims: Arc<VerifiedClaims>) {
        let entry = Entry {
            token: token.into(),
            kid: kid.into(),
            claims,
        };
        self.entries
            .insert(self.key(token.as_bytes()), Arc::new(entry));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
