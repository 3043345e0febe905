//! What a JWT says, read without checking its signature: for asserting on issued tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// The claims (payload) of a JWT.
pub fn claims_of(jwt: &str) -> Value {
    part(jwt, 1)
}

/// The header of a JWT (`alg`, `kid`, `typ`).
pub fn header_of(jwt: &str) -> Value {
    part(jwt, 0)
}

fn part(jwt: &str, index: usize) -> Value {
    let encoded = jwt
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {jwt}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {jwt}"))
}
