use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use tollgate_store::SigningKeyRow;

use crate::{KeyManagerError, Result};

/// The claims of a Tollgate access token, named as in WSO2's JWT access tokens.
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
}

impl Claims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }
}

/// A signed token and what it grants.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub scopes: Vec<String>,
    pub expires_in: i64,
}

pub(crate) struct Signer {
    kid: String,
    encoding: EncodingKey,
    verifying: tollgate_jwt::VerifyingKey,
    public: tollgate_model::SigningKey,
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
    pub(crate) fn new(key: &SigningKeyRow, rules: tollgate_jwt::TokenRules) -> Result<Signer> {
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&key.private_key_pem)
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
        let verifying = tollgate_jwt::VerifyingKey::rs256(&key.n, &key.e, &key.issuer, rules)
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
        Ok(Signer {
            kid: key.kid.clone(),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            verifying,
            public: key.to_model(),
        })
    }

    pub(crate) fn issue(
        &self,
        issuer: &str,
        client_id: &str,
        subject: &str,
        user_token: bool,
        scopes: &[String],
        validity_secs: i64,
    ) -> Result<AccessToken> {
        let now = tollgate_model::now_millis() / 1000;
        let validity_secs = validity_secs.clamp(1, crate::MAX_TOKEN_VALIDITY_SECS);
        let scopes = if scopes.is_empty() {
            vec!["default".to_string()]
        } else {
            scopes.to_vec()
        };
        let claims = Claims {
            sub: subject.to_string(),
            aut: if user_token {
                "APPLICATION_USER"
            } else {
                "APPLICATION"
            }
            .to_string(),
            aud: client_id.to_string(),
            nbf: now,
            azp: client_id.to_string(),
            scope: scopes.join(" "),
            iss: issuer.to_string(),
            exp: now + validity_secs,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            client_id: client_id.to_string(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| KeyManagerError::Crypto(e.to_string()))?;
        Ok(AccessToken {
            token,
            scopes,
            expires_in: validity_secs,
        })
    }

    /// Checks a token this signer issued, with the same verifier gateways use.
    pub(crate) fn verify(&self, token: &str) -> Result<Claims> {
        let invalid = |e: tollgate_jwt::JwtError| KeyManagerError::InvalidToken(e.to_string());
        if tollgate_jwt::key_id(token).map_err(invalid)? != self.kid {
            return Err(KeyManagerError::InvalidToken("unknown signing key".into()));
        }
        self.verifying.verify::<Claims>(token).map_err(invalid)
    }

    pub(crate) fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "alg": self.public.alg,
                "kid": self.public.kid,
                "n": self.public.n,
                "e": self.public.e,
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let key = generate_signing_key("https://localhost:9443/oauth2/token").unwrap();
        let signer = Signer::new(&key, tollgate_jwt::TokenRules::default()).unwrap();
        let token = signer
            .issue(
                "https://localhost:9443/oauth2/token",
                "client",
                "admin",
                true,
                &["apim:api_view".into()],
                60,
            )
            .unwrap();
        let claims = signer.verify(&token.token).unwrap();
        assert_eq!(claims.azp, "client");
        assert_eq!(claims.scope, "apim:api_view");
        let mut other = key.clone();
        other.issuer = "https://other/oauth2/token".into();
        let other = Signer::new(&other, tollgate_jwt::TokenRules::default()).unwrap();
        assert!(other.verify(&token.token).is_err());
        let mut tampered = token.token.clone();
        tampered.push('x');
        assert!(signer.verify(&tampered).is_err());
    }

    /// The REST APIs verify with the same rules as gateways: `nbf`, `iss` and `exp` enforced.
    #[test]
    fn tokens_with_bad_claims_are_refused() {
        let issuer = "https://localhost:9443/oauth2/token";
        let key = generate_signing_key(issuer).unwrap();
        let signer = Signer::new(&key, tollgate_jwt::TokenRules::default()).unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&key.private_key_pem).unwrap();
        let encoding = EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes());
        let now = tollgate_model::now_millis() / 1000;
        let sign = |claims: serde_json::Value| {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(key.kid.clone());
            jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
        };
        let base = serde_json::json!({"sub": "admin", "aut": "APPLICATION_USER", "aud": "c",
            "azp": "c", "scope": "apim:api_view", "iat": now, "jti": "j", "client_id": "c"});
        let with = |extra: serde_json::Value| {
            let mut claims = base.clone();
            claims
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            sign(claims)
        };
        assert!(signer
            .verify(&with(
                serde_json::json!({"iss": issuer, "exp": now + 60, "nbf": now})
            ))
            .is_ok());
        for bad in [
            serde_json::json!({"iss": issuer, "exp": now + 7200, "nbf": now + 3600}),
            serde_json::json!({"exp": now + 60, "nbf": now}),
            serde_json::json!({"iss": issuer, "nbf": now}),
            serde_json::json!({"iss": "https://elsewhere/", "exp": now + 60, "nbf": now}),
        ] {
            assert!(signer.verify(&with(bad.clone())).is_err(), "accepted {bad}");
        }
    }
}
