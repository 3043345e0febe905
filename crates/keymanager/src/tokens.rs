use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tollgate_store::SigningKeyRow;

use crate::{KeyManagerError, Result};

/// The claims of a Tollgate JWT access token (RFC 9068, with WSO2's names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// `APPLICATION_USER` for user grants, `APPLICATION` for client credentials.
    pub aut: String,
    pub aud: String,
    pub nbf: i64,
    /// The client (consumer key) the token was issued to.
    pub azp: String,
    pub scope: String,
    pub iss: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    /// `PRODUCTION` or `SANDBOX` for an application's keys; absent for other clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keytype: Option<String>,
}

impl Claims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }
}

/// The claims of an OpenID Connect ID token. It has no `azp` (one audience), so that nothing
/// that takes access tokens (they always name their client in `azp`) accepts one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Left half of the SHA-256 of the access token (OIDC Core §3.1.3.6).
    pub at_hash: String,
}

/// The key that signs new tokens.
pub(crate) struct Signer {
    kid: String,
    encoding: EncodingKey,
}

/// Every signing key still published: the newest signs, all verify (rotation overlap).
pub(crate) struct KeySet {
    signer: Signer,
    verifiers: HashMap<String, tollgate_jwt::VerifyingKey>,
    published: Vec<tollgate_model::SigningKey>,
}

pub(crate) fn generate_signing_key(issuer: &str) -> Result<SigningKeyRow> {
    let key = generate_rsa_2048()?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
    Ok(SigningKeyRow {
        kid: uuid::Uuid::new_v4().simple().to_string(),
        private_key_pem: pem.to_string(),
        n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        issuer: issuer.to_string(),
        created_time: tollgate_model::now_millis(),
        retire_after: None,
    })
}

/// An RSA-2048 key whose two 1024-bit primes are searched for on two threads. The search takes
/// a random time (0.1 s to over 1 s on this project's machine), and a first start waits for it.
fn generate_rsa_2048() -> Result<rsa::RsaPrivateKey> {
    use num_bigint_dig::RandPrime;
    let exponent = rsa::BigUint::from(65_537u32);
    let prime = || rand::thread_rng().gen_prime(1024);
    // A draw fails when p = q or 65537 divides p − 1 or q − 1 (odds about 1 in 30,000).
    for _ in 0..8 {
        let (p, q) = std::thread::scope(|scope| {
            let other = scope.spawn(prime);
            (prime(), other.join())
        });
        let q = q.map_err(|_| KeyManagerError::Crypto("prime search failed".into()))?;
        if let Ok(key) = rsa::RsaPrivateKey::from_p_q(p, q, exponent.clone()) {
            key.validate()
                .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
            return Ok(key);
        }
    }
    Err(KeyManagerError::Crypto(
        "no RSA key after eight draws".into(),
    ))
}

impl Signer {
    pub(crate) fn new(key: &SigningKeyRow) -> Result<Signer> {
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&key.private_key_pem)
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
        Ok(Signer {
            kid: key.kid.clone(),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        })
    }

    /// Signs `claims` as a JWT of media type `typ` (RS256, with this key's `kid`).
    pub(crate) fn sign<C: Serialize>(&self, typ: &str, claims: &C) -> Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))
    }
}

impl KeySet {
    /// `current` carries its private key in plain text; `published` are all keys still
    /// published (the current one among them).
    pub(crate) fn new(
        current: &SigningKeyRow,
        published: &[SigningKeyRow],
        rules: tollgate_jwt::TokenRules,
    ) -> Result<KeySet> {
        let mut verifiers = HashMap::new();
        for key in published.iter().chain(std::iter::once(current)) {
            let verifying = tollgate_jwt::VerifyingKey::rs256(&key.n, &key.e, &key.issuer, rules)
                .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
            verifiers.insert(key.kid.clone(), verifying);
        }
        let mut keys: Vec<_> = published.iter().map(SigningKeyRow::to_model).collect();
        if !keys.iter().any(|k| k.kid == current.kid) {
            keys.insert(0, current.to_model());
        }
        Ok(KeySet {
            signer: Signer::new(current)?,
            verifiers,
            published: keys,
        })
    }

    pub(crate) fn signer(&self) -> &Signer {
        &self.signer
    }

    pub(crate) fn kids(&self) -> impl Iterator<Item = &str> {
        self.published.iter().map(|k| k.kid.as_str())
    }

    /// Checks a token one of these keys signed, with the same verifier gateways use.
    pub(crate) fn verify<C: serde::de::DeserializeOwned>(&self, token: &str) -> Result<C> {
        let invalid = |e: tollgate_jwt::JwtError| KeyManagerError::InvalidToken(e.to_string());
        let kid = tollgate_jwt::key_id(token).map_err(invalid)?;
        let key = self
            .verifiers
            .get(&kid)
            .ok_or_else(|| KeyManagerError::InvalidToken("unknown signing key".into()))?;
        key.verify::<C>(token).map_err(invalid)
    }

    /// Checks an API key one of these keys signed (signature, issuer, expiry) and that it is
    /// one: its `token_type` says so. `None` when it has expired.
    pub(crate) fn verify_api_key(
        &self,
        token: &str,
    ) -> Result<Option<tollgate_model::ApiKeyClaims>> {
        let invalid = |e: tollgate_jwt::JwtError| KeyManagerError::InvalidToken(e.to_string());
        let kid = tollgate_jwt::key_id(token).map_err(invalid)?;
        let key = self
            .verifiers
            .get(&kid)
            .ok_or_else(|| KeyManagerError::InvalidToken("unknown signing key".into()))?;
        let claims: tollgate_model::ApiKeyClaims = match key.verify_not_access_token(token) {
            Ok(claims) => claims,
            Err(tollgate_jwt::JwtError::Expired) => return Ok(None),
            Err(err) => return Err(invalid(err)),
        };
        if claims.token_type != tollgate_model::API_KEY_TOKEN_TYPE {
            return Err(KeyManagerError::InvalidToken("not an API key".into()));
        }
        Ok(Some(claims))
    }

    pub(crate) fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .published
            .iter()
            .map(|key| {
                serde_json::json!({
                    "kty": "RSA",
                    "use": "sig",
                    "alg": key.alg,
                    "kid": key.kid,
                    "n": key.n,
                    "e": key.e,
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// OIDC's `at_hash`: the left half of the access token's SHA-256, base64url.
pub(crate) fn at_hash(access_token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://localhost:9443/oauth2/token";

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({"sub": "admin", "aut": "APPLICATION_USER", "aud": "c", "azp": "c",
            "scope": "apim:api_view", "iat": now, "jti": "j", "client_id": "c",
            "iss": ISSUER, "exp": now + 60, "nbf": now})
    }

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let key = generate_signing_key(ISSUER).unwrap();
        let keys = KeySet::new(&key, &[], tollgate_jwt::TokenRules::default()).unwrap();
        let now = tollgate_model::now_millis() / 1000;
        let token = keys
            .signer()
            .sign(tollgate_jwt::ACCESS_TOKEN_TYP, &claims(now))
            .unwrap();
        let verified: Claims = keys.verify(&token).unwrap();
        assert_eq!(verified.azp, "c");
        let mut other = key.clone();
        other.issuer = "https://other/oauth2/token".into();
        let other = KeySet::new(&other, &[], tollgate_jwt::TokenRules::default()).unwrap();
        assert!(other.verify::<Claims>(&token).is_err());
        let mut tampered = token.clone();
        tampered.push('x');
        assert!(keys.verify::<Claims>(&tampered).is_err());
    }

    /// After a rotation both keys verify, the new one signs, and JWKS lists both.
    #[test]
    fn a_rotated_set_verifies_old_and_new_tokens() {
        let old = generate_signing_key(ISSUER).unwrap();
        let new = generate_signing_key(ISSUER).unwrap();
        let rules = tollgate_jwt::TokenRules::default();
        let before = KeySet::new(&old, std::slice::from_ref(&old), rules).unwrap();
        let now = tollgate_model::now_millis() / 1000;
        let old_token = before.signer().sign("at+jwt", &claims(now)).unwrap();
        let after = KeySet::new(&new, &[new.clone(), old.clone()], rules).unwrap();
        let new_token = after.signer().sign("at+jwt", &claims(now)).unwrap();
        assert_eq!(tollgate_jwt::key_id(&new_token).unwrap(), new.kid);
        assert!(after.verify::<Claims>(&old_token).is_ok());
        assert!(after.verify::<Claims>(&new_token).is_ok());
        assert_eq!(after.jwks()["keys"].as_array().unwrap().len(), 2);
        let retired = KeySet::new(&new, std::slice::from_ref(&new), rules).unwrap();
        assert!(retired.verify::<Claims>(&old_token).is_err());
    }

    /// The REST APIs verify with the same rules as gateways: `nbf`, `iss` and `exp` enforced.
    #[test]
    fn tokens_with_bad_claims_are_refused() {
        let key = generate_signing_key(ISSUER).unwrap();
        let keys = KeySet::new(&key, &[], tollgate_jwt::TokenRules::default()).unwrap();
        let now = tollgate_model::now_millis() / 1000;
        let with = |extra: serde_json::Value| {
            let mut c = claims(now);
            let c_obj = c.as_object_mut().unwrap();
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() {
                    c_obj.remove(k);
                } else {
                    c_obj.insert(k.clone(), v.clone());
                }
            }
            keys.signer().sign("at+jwt", &c).unwrap()
        };
        assert!(keys.verify::<Claims>(&with(serde_json::json!({}))).is_ok());
        for bad in [
            serde_json::json!({"exp": now + 7200, "nbf": now + 3600}),
            serde_json::json!({"iss": null}),
            serde_json::json!({"exp": null}),
            serde_json::json!({"iss": "https://elsewhere/"}),
        ] {
            assert!(
                keys.verify::<Claims>(&with(bad.clone())).is_err(),
                "accepted {bad}"
            );
        }
    }
}
