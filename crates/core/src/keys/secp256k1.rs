//! secp256k1 key wrappers: a zeroizing private key and compressed public keys in the
//! textual forms the Stacks libraries use (64-hex private keys, 66-hex compressed
//! public keys, Bitcoin-style addresses).

use crate::support::encoding::{btc_address, from_hex, to_hex};
use k256::ecdsa::VerifyingKey;
use std::fmt;
use std::sync::OnceLock;
use zeroize::{Zeroize, Zeroizing};

/// Why a key given as text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// A private key was not 64 hex characters (optionally followed by `01`).
    PrivateKeyFormat,
    /// A private key was zero or not below the curve order.
    PrivateKeyRange,
    /// A public key was not 66 (compressed) or 130 (uncompressed) hex characters.
    PublicKeyFormat,
    /// A public key's bytes do not describe a point on secp256k1.
    PublicKeyNotOnCurve,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::PrivateKeyFormat => {
                "a private key must be 64 hexadecimal characters (optionally followed by 01)"
            }
            KeyError::PrivateKeyRange => "the private key is zero or larger than the curve order",
            KeyError::PublicKeyFormat => {
                "a public key must be 66 (compressed) or 130 (uncompressed) hexadecimal characters"
            }
            KeyError::PublicKeyNotOnCurve => "the public key is not a point on the secp256k1 curve",
        })
    }
}

impl std::error::Error for KeyError {}

/// A secp256k1 private key. The scalar is zeroized when the value is dropped
/// (k256's `SecretKey` zeroizes itself); it never appears in `Debug`
/// output.
///
/// The public key (a scalar multiplication, the costly part) is computed on first use
/// and kept: deriving a key that is only ever exported or used for a hardened child
/// never pays for it.
#[derive(Clone)]
pub struct PrivateKey {
    secret: k256::SecretKey,
    public: OnceLock<PublicKey>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(public {})", self.public_key().to_hex())
    }
}

impl PrivateKey {
    /// Parses 64 hex characters, or 66 ending in the legacy `01` "compressed" flag.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let core = match text.len() {
            64 => text,
            66 if text.ends_with("01") => &text[..64],
            _ => return Err(KeyError::PrivateKeyFormat),
        };
        let bytes = Zeroizing::new(from_hex(core).map_err(|_| KeyError::PrivateKeyFormat)?);
        Self::from_bytes(&bytes)
    }

    /// Builds a key from 32 big-endian bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != 32 {
            return Err(KeyError::PrivateKeyFormat);
        }
        k256::SecretKey::from_slice(bytes)
            .map(Self::from_secret)
            .map_err(|_| KeyError::PrivateKeyRange)
    }

    /// Wraps a k256 secret key (its public key is computed when first needed).
    pub fn from_secret(secret: k256::SecretKey) -> Self {
        PrivateKey {
            secret,
            public: OnceLock::new(),
        }
    }

    /// A fresh random key from the operating system's (or browser's) CSPRNG.
    pub fn random() -> Result<Self, getrandom::Error> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut())?;
            if let Ok(key) = Self::from_bytes(bytes.as_ref()) {
                return Ok(key);
            }
        }
    }

    /// The 32 secret bytes, in a buffer that is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes().into())
    }

    /// 64 lower-case hex characters, in a string that is wiped on drop.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(to_hex(self.to_bytes().as_ref()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        *self
            .public
            .get_or_init(|| PublicKey(VerifyingKey::from(self.secret.public_key())))
    }

    /// Signs a 32-byte digest: ECDSA over secp256k1 with an RFC 6979 nonce, low-S.
    pub fn sign_prehash(&self, digest: &[u8; 32]) -> k256::ecdsa::Signature {
        self.sign_with_recovery(digest).0
    }

    /// Signs a 32-byte digest recoverably, as Stacks wallets sign messages and
    /// structured data: 65 bytes `r ‖ s ‖ v`, low-S, `v` the recovery id (0 or 1).
    pub fn sign_prehash_recoverable(&self, digest: &[u8; 32]) -> [u8; 65] {
        let (signature, recovery) = self.sign_with_recovery(digest);
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = recovery.to_byte();
        out
    }

    fn sign_with_recovery(
        &self,
        digest: &[u8; 32],
    ) -> (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) {
        // Straight from the scalar: a k256 `SigningKey` would first compute the public
        // key, a second scalar multiplication that signing does not need.
        let mut scalar = self.secret.to_nonzero_scalar();
        let out = ecdsa::hazmat::sign_prehashed_rfc6979::<k256::Secp256k1, sha2::Sha256>(
            &scalar,
            digest,
            &[],
        );
        scalar.zeroize();
        out
    }

    /// The k256 secret scalar as a `SecretKey`, for ECDH.
    pub fn secret_key(&self) -> k256::SecretKey {
        self.secret.clone()
    }
}

/// A secp256k1 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl From<VerifyingKey> for PublicKey {
    /// A key k256 already holds as a curve point (e.g. one recovered from a signature):
    /// no encoding and decompression round trip.
    fn from(key: VerifyingKey) -> Self {
        PublicKey(key)
    }
}

impl PublicKey {
    /// Parses a compressed (66 hex) or uncompressed (130 hex) SEC1 public key.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.len() != 66 && text.len() != 130 {
            return Err(KeyError::PublicKeyFormat);
        }
        let bytes = from_hex(text).map_err(|_| KeyError::PublicKeyFormat)?;
        Self::from_sec1(&bytes)
    }

    /// Parses SEC1 bytes (33 or 65 bytes).
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        match (bytes.len(), bytes.first()) {
            (33, Some(2 | 3)) | (65, Some(4)) => VerifyingKey::from_sec1_bytes(bytes)
                .map(PublicKey)
                .map_err(|_| KeyError::PublicKeyNotOnCurve),
            _ => Err(KeyError::PublicKeyFormat),
        }
    }

    /// The 33-byte compressed SEC1 encoding.
    pub fn to_compressed(&self) -> [u8; 33] {
        let point = self.0.to_sec1_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// 66 lower-case hex characters of the compressed key.
    pub fn to_hex(&self) -> String {
        to_hex(&self.to_compressed())
    }

    /// Bitcoin-style (version 0x00) address of the compressed key: identity address,
    /// Gaia bucket address.
    pub fn address(&self) -> String {
        btc_address(&self.to_compressed())
    }

    /// The k256 verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn private_key_accepts_legacy_suffix_and_rejects_junk() {
        let k = "6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690";
        let a = PrivateKey::from_hex(k).unwrap();
        let b = PrivateKey::from_hex(&format!("{k}01")).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(*a.to_hex(), k);
        assert_eq!(
            PrivateKey::from_hex("00").unwrap_err(),
            KeyError::PrivateKeyFormat
        );
        assert_eq!(
            PrivateKey::from_hex(&"0".repeat(64)).unwrap_err(),
            KeyError::PrivateKeyRange
        );
        assert_eq!(
            PrivateKey::from_hex(&"f".repeat(64)).unwrap_err(),
            KeyError::PrivateKeyRange
        );
        assert_eq!(
            PublicKey::from_hex(&format!("05{}", "1".repeat(64))).unwrap_err(),
            KeyError::PublicKeyFormat
        );
        assert!(!format!("{a:?}").contains(k));
    }
}
