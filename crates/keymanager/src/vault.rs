//! The token-signing private keys at rest: AES-256-GCM under a key derived (argon2id, a fresh
//! salt per stored key) from the keystore password — `[keystore.primary] password`,
//! `TOLLGATE_KEYSTORE_PASSWORD`, or a random one written to the data folder on first start. A
//! database dump alone is then not enough to forge tokens.
//!
//! Stored form: `tollgate-enc-v1$<salt>$<nonce>$<ciphertext>` (base64url), the key's `kid` bound
//! in as associated data. Rows written before encryption existed, and rows encrypted under
//! `previous_password`, are re-encrypted under the current password at start.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::KeyManagerError;

const PREFIX: &str = "tollgate-enc-v1$";
const SALT_LEN: usize = 16;

/// The keystore password(s) this node knows.
#[derive(Clone)]
pub struct Vault {
    password: String,
    previous: Option<String>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

/// What opening a stored private key found.
pub(crate) enum Opened {
    /// Encrypted under the current password.
    Current(String),
    /// Plain text, or under the previous password: to be re-encrypted.
    Stale(String),
}

impl Vault {
    pub fn new(password: String, previous: Option<String>) -> Vault {
        Vault { password, previous }
    }

    /// Encrypts a PEM private key for storage.
    pub(crate) fn seal(&self, kid: &str, pem: &str) -> Result<String, KeyManagerError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt)
            .and_then(|_| rng.fill(&mut nonce))
            .map_err(|_| crypto("no randomness for the key encryption"))?;
        let key = derive(&self.password, &salt)?;
        let mut sealed = pem.as_bytes().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kid.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| crypto("cannot encrypt the signing key"))?;
        Ok(format!(
            "{PREFIX}{}${}${}",
            URL_SAFE_NO_PAD.encode(salt),
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// The PEM of a stored private key (for tools that sign outside a key manager, such as the
    /// benchmark's token generator).
    pub fn open_pem(&self, kid: &str, stored: &str) -> Result<String, KeyManagerError> {
        Ok(match self.open(kid, stored)? {
            Opened::Current(pem) | Opened::Stale(pem) => pem,
        })
    }

    /// Decrypts a stored private key.
    pub(crate) fn open(&self, kid: &str, stored: &str) -> Result<Opened, KeyManagerError> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
            // Written before keys were encrypted.
            return Ok(Opened::Stale(stored.to_string()));
        };
        if let Some(pem) = open_with(&self.password, kid, sealed)? {
            return Ok(Opened::Current(pem));
        }
        if let Some(previous) = &self.previous {
            if let Some(pem) = open_with(previous, kid, sealed)? {
                return Ok(Opened::Stale(pem));
            }
        }
        Err(KeyManagerError::Crypto(format!(
            "the signing key {kid} is encrypted with another keystore password: set [keystore.primary] password (the same on every control-plane node), and previous_password while changing it"
        )))
    }
}

fn open_with(password: &str, kid: &str, sealed: &str) -> Result<Option<String>, KeyManagerError> {
    let mut parts = sealed.split('$');
    let (Some(salt), Some(nonce), Some(ciphertext), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(crypto("a stored signing key is malformed"));
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| crypto("a stored signing key is malformed"))
    };
    let (salt, nonce, mut ciphertext) = (decode(salt)?, decode(nonce)?, decode(ciphertext)?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce)
        .map_err(|_| crypto("a stored signing key is malformed"))?;
    let key = derive(password, &salt)?;
    match key.open_in_place(nonce, Aad::from(kid.as_bytes()), &mut ciphertext) {
        Ok(plain) => String::from_utf8(plain.to_vec())
            .map(Some)
            .map_err(|_| crypto("a stored signing key is not text")),
        Err(_) => Ok(None),
    }
}

/// The AES key for a stored key's salt. argon2 costs tens of milliseconds and 19 MiB by design;
/// the same key set is opened again whenever it is reloaded (a rotation elsewhere, every
/// start of a key manager in one process), so derived keys are remembered, by a digest of
/// password and salt, for the life of the process (a handful: one per stored key).
fn derive(password: &str, salt: &[u8]) -> Result<LessSafeKey, KeyManagerError> {
    static DERIVED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<[u8; 32], [u8; 32]>>,
    > = std::sync::OnceLock::new();
    const REMEMBERED: usize = 64;
    let mut input = ring::digest::Context::new(&ring::digest::SHA256);
    input.update(&(password.len() as u64).to_be_bytes());
    input.update(password.as_bytes());
    input.update(salt);
    let mut id = [0u8; 32];
    id.copy_from_slice(input.finish().as_ref());
    let derived = DERIVED.get_or_init(Default::default);
    let remembered = tollgate_guard::lock(derived).get(&id).copied();
    let key = match remembered {
        Some(key) => key,
        None => {
            let mut key = [0u8; 32];
            argon2::Argon2::default()
                .hash_password_into(password.as_bytes(), salt, &mut key)
                .map_err(|e| crypto(&e.to_string()))?;
            let mut memo = tollgate_guard::lock(derived);
            if memo.len() >= REMEMBERED {
                memo.clear();
            }
            memo.insert(id, key);
            key
        }
    };
    let key = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| crypto("bad key length"))?;
    Ok(LessSafeKey::new(key))
}

fn crypto(why: &str) -> KeyManagerError {
    KeyManagerError::Crypto(why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_password_and_kid() {
        let vault = Vault::new("first password".into(), None);
        let sealed = vault
            .seal("k1", "-----BEGIN RSA PRIVATE KEY-----\nabc")
            .unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("PRIVATE KEY"));
        assert!(
            matches!(vault.open("k1", &sealed), Ok(Opened::Current(pem)) if pem.ends_with("abc"))
        );
        // Another kid (a row copied over another) does not open.
        assert!(vault.open("k2", &sealed).is_err());
        // A new password with the old one as previous: opens, and asks to be re-sealed.
        let rotated = Vault::new("second password".into(), Some("first password".into()));
        assert!(matches!(rotated.open("k1", &sealed), Ok(Opened::Stale(_))));
        let wrong = Vault::new("second password".into(), None);
        assert!(wrong.open("k1", &sealed).is_err());
        // Plain text from before encryption is stale.
        assert!(matches!(
            vault.open("k1", "-----BEGIN"),
            Ok(Opened::Stale(_))
        ));
    }
}
