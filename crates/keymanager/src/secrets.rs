//! Client secrets, refresh tokens, authorization codes and opaque access tokens are random
//! values of 168 bits or more, stored only as hashes. A fast hash suffices for values that
//! cannot be guessed (unlike passwords, which go through argon2); comparisons of stored hashes
//! are constant-time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const PREFIX: &str = "sha256:";

/// A fresh random value of `bytes` bytes, base64url without padding (WSO2's key shape).
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a secret or token.
pub fn hash_secret(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(digest))
}

/// Whether `presented` is the secret whose stored form is `stored`.
pub fn secret_matches(stored: &str, presented: &str) -> bool {
    tollgate_guard::constant_time_eq(stored.as_bytes(), hash_secret(presented).as_bytes())
}

/// Whether a stored value is a hash already (rows written before hashing hold the secret).
pub(crate) fn is_hashed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_only_their_secret() {
        let secret = random_token(21);
        let stored = hash_secret(&secret);
        assert!(is_hashed(&stored));
        assert!(secret_matches(&stored, &secret));
        assert!(!secret_matches(&stored, &random_token(21)));
        assert!(!secret_matches(&stored, ""));
        assert!(
            !secret_matches(&secret, &secret),
            "a plain stored value never matches"
        );
    }
}
