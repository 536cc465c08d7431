//! Secrets at rest: OAuth tokens and PKCE verifiers sealed with AES-256-GCM under the
//! key of `EMPLA_SECRETS_KEY`, a fresh random nonce per value, stored as
//! `v1:<key id>:<base64 of nonce and ciphertext>`. The key id (a few bytes of a hash of
//! the key) tells a value sealed under another key from a value that was tampered with.
//! Nothing here logs or returns a secret in an error.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

/// The environment variable holding the key.
pub const KEY_VAR: &str = "EMPLA_SECRETS_KEY";
const VERSION: &str = "v1";
const MAKE_ONE: &str = "make one with `openssl rand -hex 32` and set it in EMPLA_SECRETS_KEY \
                        (keep it: tokens stored under it cannot be read without it)";

/// Why the key cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeyError {
    /// `EMPLA_SECRETS_KEY` is not set.
    #[error(
        "EMPLA_SECRETS_KEY is not set: connections keep their tokens encrypted with it; {MAKE_ONE}"
    )]
    Missing,
    /// It is set but is not 32 bytes in hex or base64.
    #[error(
        "EMPLA_SECRETS_KEY must be 32 bytes written as 64 hex digits or in base64 (44 characters); {0}; {MAKE_ONE}"
    )]
    Malformed(String),
}

/// Why a sealed value cannot be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenError {
    /// It was sealed under another key.
    #[error(
        "the stored tokens were encrypted with another key than this EMPLA_SECRETS_KEY; start the node with the key they were stored with, or connect again"
    )]
    WrongKey,
    /// It is not a sealed value, or was changed after sealing.
    #[error("a stored token is damaged (changed after it was encrypted); connect again")]
    Damaged,
}

/// The key tokens are sealed with.
pub struct SecretKey {
    key: LessSafeKey,
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    /// Reads the key from the value of `EMPLA_SECRETS_KEY` (None: unset).
    pub fn from_var(value: Option<&str>) -> Result<SecretKey, KeyError> {
        let text = value.map(str::trim).filter(|v| !v.is_empty());
        Self::parse(text.ok_or(KeyError::Missing)?)
    }

    /// Reads a key written as 64 hex digits or as base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<SecretKey, KeyError> {
        // 64 hex digits are 32 bytes; base64 of 32 bytes always has a character that
        // is not a hex digit, so a key of hex digits only is read as hex.
        let bytes = if text.chars().all(|c| c.is_ascii_hexdigit()) {
            if text.len() != 64 {
                return Err(KeyError::Malformed(format!(
                    "read as hex it has {} digits, not 64",
                    text.len()
                )));
            }
            hex::decode(text).map_err(|_| KeyError::Malformed("it is not hex".into()))?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE.decode(text))
                .map_err(|_| KeyError::Malformed("it is neither hex nor base64".into()))?
        };
        if bytes.len() != 32 {
            return Err(KeyError::Malformed(format!(
                "read as base64 it holds {} bytes, not 32",
                bytes.len()
            )));
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| KeyError::Malformed("it is not an AES-256 key".into()))?;
        let digest = Sha256::new()
            .chain_update(b"empla secrets key id\0")
            .chain_update(&bytes)
            .finalize();
        Ok(SecretKey {
            key: LessSafeKey::new(key),
            id: hex::encode(&digest[..4]),
        })
    }

    /// Seals `plain`, bound to `context` (what the value is, e.g. whose token): a value
    /// moved to another context does not open.
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM seals any value shorter than 64 GiB");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        format!("{VERSION}:{}:{}", self.id, STANDARD.encode(out))
    }

    /// Opens a value sealed by [`SecretKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, OpenError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Damaged);
        };
        if id != self.id {
            return Err(OpenError::WrongKey);
        }
        let raw = STANDARD.decode(body).map_err(|_| OpenError::Damaged)?;
        if raw.len() < NONCE_LEN {
            return Err(OpenError::Damaged);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Damaged)?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| OpenError::Damaged)?;
        String::from_utf8(plain.to_vec()).map_err(|_| OpenError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_token_opens_again_and_is_not_in_clear() {
        let key = SecretKey::parse(HEX).unwrap();
        let sealed = key.seal("xoxb-secret-token", "acme/e1/slack/access");
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains("xoxb"), "{sealed}");
        assert_ne!(
            sealed,
            key.seal("xoxb-secret-token", "acme/e1/slack/access")
        );
        assert_eq!(
            key.open(&sealed, "acme/e1/slack/access").unwrap(),
            "xoxb-secret-token"
        );
    }

    #[test]
    fn the_same_key_in_base64_opens_what_hex_sealed() {
        let bytes = hex::decode(HEX).unwrap();
        let b64 = STANDARD.encode(&bytes);
        let sealed = SecretKey::parse(HEX).unwrap().seal("t", "c");
        assert_eq!(
            SecretKey::parse(&b64).unwrap().open(&sealed, "c").unwrap(),
            "t"
        );
    }

    #[test]
    fn another_key_is_told_apart_from_tampering() {
        let key = SecretKey::parse(HEX).unwrap();
        let other = SecretKey::parse(&"ab".repeat(32)).unwrap();
        let sealed = key.seal("refresh", "c");
        assert_eq!(other.open(&sealed, "c"), Err(OpenError::WrongKey));
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(key.open(&tampered, "c"), Err(OpenError::Damaged));
        let moved = key.seal("refresh", "acme/e1/slack/refresh");
        assert_eq!(
            key.open(&moved, "acme/e2/slack/refresh"),
            Err(OpenError::Damaged)
        );
        assert_eq!(key.open("xoxb-in-clear", "c"), Err(OpenError::Damaged));
    }

    #[test]
    fn a_missing_or_malformed_key_says_how_to_make_one() {
        let missing = SecretKey::from_var(None).unwrap_err().to_string();
        assert!(
            missing.contains("EMPLA_SECRETS_KEY is not set")
                && missing.contains("openssl rand -hex 32"),
            "{missing}"
        );
        let short = SecretKey::parse("abcd").unwrap_err().to_string();
        assert!(short.contains("read as hex it has 4 digits"), "{short}");
        let b64 = SecretKey::parse(&STANDARD.encode([1u8; 16]))
            .unwrap_err()
            .to_string();
        assert!(b64.contains("read as base64 it holds 16 bytes"), "{b64}");
        let junk = SecretKey::parse("not a key!").unwrap_err().to_string();
        assert!(junk.contains("neither hex nor base64"), "{junk}");
    }
}
