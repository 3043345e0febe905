//! The one verifier of the JWTs Tollgate accepts, shared by gateways (API traffic) and the control
//! plane (REST API tokens), so the two can never disagree on what a valid token is:
//!
//! - the header names its signing key (`kid`), and the key is one this node trusts;
//! - RS256 for Tollgate's own keys; other issuers' keys (from their JWKS, see [`remote`]) with
//!   the one asymmetric algorithm each key states or implies — never `none`, never HMAC (so a
//!   public key can never serve as an HMAC secret);
//! - `exp` and `iss` are required, `iss` must be the key's issuer, `nbf` (when present) must
//!   have passed — each with the same small leeway for clocks that drift
//!   ([`TokenRules::leeway_secs`]).

pub mod remote;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;

/// Clock leeway when none is configured: small, since nodes are expected to run NTP.
/// (WSO2's `[oauth] timestamp_skew` defaults to 300 s.)
pub const DEFAULT_LEEWAY_SECS: u64 = 30;
/// The largest leeway a configuration may ask for.
pub const MAX_LEEWAY_SECS: u64 = 600;

/// How strictly tokens are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRules {
    /// Seconds by which `exp` may have passed and `nbf` may lie ahead.
    pub leeway_secs: u64,
    /// Refuse tokens whose header `typ` is not `at+jwt` (RFC 9068's JWT access tokens), so that
    /// an ID token or another JWT of the same issuer is never taken for an access token.
    pub require_at_jwt: bool,
}

impl Default for TokenRules {
    fn default() -> Self {
        TokenRules {
            leeway_secs: DEFAULT_LEEWAY_SECS,
            require_at_jwt: false,
        }
    }
}

/// RFC 9068's media type of JWT access tokens, as the `typ` header names it.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("token has no kid")]
    NoKeyId,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet (nbf)")]
    NotYetValid,
    #[error("token has no '{0}' claim")]
    MissingClaim(String),
    #[error("token was issued by another issuer")]
    WrongIssuer,
    #[error("token is meant for another audience")]
    WrongAudience,
    #[error("invalid signature")]
    BadSignature,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("unusable key: {0}")]
    BadKey(String),
    #[error("token is not a JWT access token (typ must be at+jwt)")]
    NotAnAccessToken,
    #[error("cannot fetch the key set: {0}")]
    Fetch(String),
}

impl From<jsonwebtoken::errors::Error> for JwtError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match err.kind() {
            ErrorKind::ExpiredSignature => JwtError::Expired,
            ErrorKind::ImmatureSignature => JwtError::NotYetValid,
            ErrorKind::MissingRequiredClaim(claim) => JwtError::MissingClaim(claim.clone()),
            ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
            ErrorKind::InvalidSignature => JwtError::BadSignature,
            ErrorKind::InvalidAudience => JwtError::WrongAudience,
            ErrorKind::InvalidAlgorithm => {
                JwtError::Invalid("algorithm not accepted for this key".into())
            }
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => JwtError::Malformed(err.to_string()),
            _ => JwtError::Invalid(err.to_string()),
        }
    }
}

/// The `kid` a token's header names.
pub fn key_id(token: &str) -> Result<String, JwtError> {
    jsonwebtoken::decode_header(token)
        .map_err(|e| JwtError::Malformed(e.to_string()))?
        .kid
        .ok_or(JwtError::NoKeyId)
}

/// A trusted signing key with its checks prepared once.
pub struct VerifyingKey {
    key: DecodingKey,
    validation: Validation,
    require_at_jwt: bool,
}

impl VerifyingKey {
    /// An RS256 key from its JWK components (base64url `n` and `e`) and the issuer whose tokens
    /// it signs.
    pub fn rs256(n: &str, e: &str, issuer: &str, rules: TokenRules) -> Result<Self, JwtError> {
        let key = DecodingKey::from_rsa_components(n, e)
            .map_err(|err| JwtError::BadKey(err.to_string()))?;
        Ok(VerifyingKey::new(key, Algorithm::RS256, issuer, rules))
    }

    /// A key of another issuer's JWKS. Its algorithm is the one `alg` names, or else the one
    /// its type implies (RSA → RS256, EC P-256 → ES256, P-384 → ES384, OKP → EdDSA); symmetric
    /// keys and encryption keys are refused.
    pub fn from_jwk(jwk: &Jwk, issuer: &str, rules: TokenRules) -> Result<Self, JwtError> {
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            return Err(JwtError::BadKey("not a signing key (use ≠ sig)".into()));
        }
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return Err(JwtError::BadKey("unsupported curve".into())),
            },
            AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            AlgorithmParameters::OctetKey(_) => {
                return Err(JwtError::BadKey("symmetric keys are not accepted".into()))
            }
        };
        let algorithm = match jwk.common.key_algorithm {
            None => implied,
            Some(named) => {
                let named = match named {
                    KeyAlgorithm::RS256 => Algorithm::RS256,
                    KeyAlgorithm::RS384 => Algorithm::RS384,
                    KeyAlgorithm::RS512 => Algorithm::RS512,
                    KeyAlgorithm::PS256 => Algorithm::PS256,
                    KeyAlgorithm::PS384 => Algorithm::PS384,
                    KeyAlgorithm::PS512 => Algorithm::PS512,
                    KeyAlgorithm::ES256 => Algorithm::ES256,
                    KeyAlgorithm::ES384 => Algorithm::ES384,
                    KeyAlgorithm::EdDSA => Algorithm::EdDSA,
                    other => {
                        return Err(JwtError::BadKey(format!(
                            "algorithm {other:?} not accepted"
                        )))
                    }
                };
                // The key's type must fit the algorithm it names.
                let same_family = matches!(
                    (implied, named),
                    (
                        Algorithm::RS256,
                        Algorithm::RS256
                            | Algorithm::RS384
                            | Algorithm::RS512
                            | Algorithm::PS256
                            | Algorithm::PS384
                            | Algorithm::PS512
                    )
                ) || implied == named;
                if !same_family {
                    return Err(JwtError::BadKey(format!(
                        "algorithm {named:?} does not fit the key type"
                    )));
                }
                named
            }
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|err| JwtError::BadKey(err.to_string()))?;
        Ok(VerifyingKey::new(key, algorithm, issuer, rules))
    }

    fn new(key: DecodingKey, algorithm: Algorithm, issuer: &str, rules: TokenRules) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = rules.leeway_secs;
        VerifyingKey {
            key,
            validation,
            require_at_jwt: rules.require_at_jwt,
        }
    }

    /// Checks the token's audience too: `aud` must name one of `audiences`.
    pub fn verify_for_audience<C: DeserializeOwned>(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<C, JwtError> {
        let mut validation = self.validation.clone();
        validation.set_audience(audiences);
        validation.validate_aud = true;
        // Without this, a token with no `aud` at all would pass.
        validation.required_spec_claims.insert("aud".into());
        let data = jsonwebtoken::decode::<C>(token, &self.key, &validation)?;
        if self.require_at_jwt && !is_access_token_typ(data.header.typ.as_deref()) {
            return Err(JwtError::NotAnAccessToken);
        }
        Ok(data.claims)
    }

    /// Checks a JWT of this issuer that is not an access token (an API key) as strictly as
    /// [`verify`](Self::verify), but without asking for `typ` `at+jwt`: the caller tells the
    /// kinds apart by their claims.
    pub fn verify_not_access_token<C: DeserializeOwned>(&self, token: &str) -> Result<C, JwtError> {
        Ok(jsonwebtoken::decode::<C>(token, &self.key, &self.validation)?.claims)
    }

    /// Checks `token`'s signature and claims and returns its claims as `C`.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, JwtError> {
        let data = jsonwebtoken::decode::<C>(token, &self.key, &self.validation)?;
        if self.require_at_jwt && !is_access_token_typ(data.header.typ.as_deref()) {
            return Err(JwtError::NotAnAccessToken);
        }
        Ok(data.claims)
    }
}

/// The `iss` a token claims, read without verifying anything: what selects the issuer (and so
/// the keys) to verify it with.
pub fn unverified_issuer(token: &str) -> Result<String, JwtError> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: String,
    }
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| JwtError::Malformed("not a JWT".into()))?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| JwtError::Malformed(e.to_string()))?;
    serde_json::from_slice::<Issuer>(&json)
        .map(|claims| claims.iss)
        .map_err(|_| JwtError::MissingClaim("iss".into()))
}

/// `at+jwt` or its full media type `application/at+jwt`, in any case (RFC 9068 §4).
fn is_access_token_typ(typ: Option<&str>) -> bool {
    typ.is_some_and(|t| {
        let t = t.strip_prefix("application/").unwrap_or(t);
        t.eq_ignore_ascii_case(ACCESS_TOKEN_TYP)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use serde_json::{json, Value};

    const ISSUER: &str = "https://localhost:9443/oauth2/token";

    struct Keys {
        encoding: EncodingKey,
        verifying: VerifyingKey,
    }

    fn keys() -> Keys {
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let der = private.to_pkcs1_der().unwrap();
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        Keys {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            verifying: VerifyingKey::rs256(&n, &e, ISSUER, TokenRules::default()).unwrap(),
        }
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn sign(keys: &Keys, claims: Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &keys.encoding).unwrap()
    }

    #[test]
    fn claims_are_enforced() {
        let keys = keys();
        let t = now();
        let good = sign(
            &keys,
            json!({"iss": ISSUER, "exp": t + 60, "nbf": t, "sub": "a"}),
        );
        assert_eq!(key_id(&good).unwrap(), "k1");
        let claims: Value = keys.verifying.verify(&good).unwrap();
        assert_eq!(claims["sub"], "a");

        let verify = |claims: Value| keys.verifying.verify::<Value>(&sign(&keys, claims));
        assert_eq!(
            verify(json!({"iss": ISSUER, "exp": t + 60, "nbf": t + 3600})),
            Err(JwtError::NotYetValid)
        );
        assert_eq!(
            verify(json!({"exp": t + 60})),
            Err(JwtError::MissingClaim("iss".into()))
        );
        assert_eq!(
            verify(json!({"iss": ISSUER})),
            Err(JwtError::MissingClaim("exp".into()))
        );
        assert_eq!(
            verify(json!({"iss": "https://evil/", "exp": t + 60})),
            Err(JwtError::WrongIssuer)
        );
        assert_eq!(
            verify(json!({"iss": ISSUER, "exp": t - 3600})),
            Err(JwtError::Expired)
        );
        // Within the leeway: a clock a few seconds behind or ahead is tolerated.
        assert!(verify(json!({"iss": ISSUER, "exp": t - 5, "nbf": t + 5})).is_ok());

        // Another key's signature, and an unsigned token, are refused.
        let other = keys_other();
        let forged = sign(&other, json!({"iss": ISSUER, "exp": t + 60}));
        assert_eq!(
            keys.verifying.verify::<Value>(&forged),
            Err(JwtError::BadSignature)
        );
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k1"}"#);
        let body = URL_SAFE_NO_PAD.encode(json!({"iss": ISSUER, "exp": t + 60}).to_string());
        assert!(keys
            .verifying
            .verify::<Value>(&format!("{header}.{body}."))
            .is_err());
    }

    fn keys_other() -> Keys {
        keys()
    }

    fn jwk(value: Value) -> Jwk {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn remote_keys_are_asymmetric_signing_keys_of_one_algorithm() {
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let rules = TokenRules::default();
        let rsa = |extra: Value| {
            let mut key = json!({"kty": "RSA", "kid": "r", "n": n, "e": e});
            for (k, v) in extra.as_object().unwrap() {
                key[k] = v.clone();
            }
            VerifyingKey::from_jwk(&jwk(key), ISSUER, rules)
        };
        assert!(rsa(json!({})).is_ok());
        assert!(rsa(json!({"alg": "PS256", "use": "sig"})).is_ok());
        assert!(matches!(
            rsa(json!({"use": "enc"})),
            Err(JwtError::BadKey(_))
        ));
        assert!(matches!(
            rsa(json!({"alg": "ES256"})),
            Err(JwtError::BadKey(_))
        ));
        // A symmetric key, even one naming an HMAC algorithm, is never trusted.
        let secret = jwk(json!({"kty": "oct", "kid": "s", "alg": "HS256", "k": "c2VjcmV0"}));
        assert!(matches!(
            VerifyingKey::from_jwk(&secret, ISSUER, rules),
            Err(JwtError::BadKey(_))
        ));

        // The key verifies RS256 tokens only: an HS256 token "signed" with its public key fails.
        let key = rsa(json!({})).unwrap();
        let t = now();
        let encoding = EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes());
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("r".into());
        let good = jsonwebtoken::encode(&header, &json!({"iss": ISSUER, "exp": t + 60}), &encoding)
            .unwrap();
        assert!(key.verify::<Value>(&good).is_ok());
        let mut hmac = Header::new(Algorithm::HS256);
        hmac.kid = Some("r".into());
        let forged = jsonwebtoken::encode(
            &hmac,
            &json!({"iss": ISSUER, "exp": t + 60}),
            &EncodingKey::from_secret(n.as_bytes()),
        )
        .unwrap();
        assert!(key.verify::<Value>(&forged).is_err());
        // The audience, when asked for.
        assert_eq!(
            key.verify_for_audience::<Value>(&good, &["api".to_string()]),
            Err(JwtError::MissingClaim("aud".into()))
        );
    }

    #[test]
    fn the_claimed_issuer_is_read_without_verification() {
        let body = URL_SAFE_NO_PAD.encode(json!({"iss": "https://idp/"}).to_string());
        assert_eq!(
            unverified_issuer(&format!("h.{body}.s")).unwrap(),
            "https://idp/"
        );
        assert!(unverified_issuer("opaque").is_err());
        let none = URL_SAFE_NO_PAD.encode(json!({"sub": "a"}).to_string());
        assert!(unverified_issuer(&format!("h.{none}.s")).is_err());
    }
}
