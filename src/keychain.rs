//! The master keychain: Secret Key → BIP39 seed → BIP32 tree, and every key Cairn
//! derives from it (PROTOCOL.md §a, COLLECTIONS.md §2).
//!
//! | node | path |
//! |---|---|
//! | identity keychain (salt source) | `m/888'/0'` |
//! | identity *i* | `m/888'/0'/i'` |
//! | apps node | `m/888'/0'/i'/0'` |
//! | app key | `m/888'/0'/i'/0'/hashCode(sha256(origin + salt))'` |
//! | collections node | `m/888'/0'/i'/3'` |
//! | STX key | `m/44'/5757'/0'/0/i` |

use crate::encoding::{sha256, stx_address, to_hex};
use crate::keys::{PrivateKey, PublicKey};
use crate::mnemonic::{MnemonicError, SecretKey};
use bip32::{ChildNumber, Prefix, XPrv};
use std::fmt;
use zeroize::Zeroizing;

/// Why a derivation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeychainError {
    /// The Secret Key itself is invalid.
    Mnemonic(MnemonicError),
    /// An identity index must be a whole number from 0 to 2147483647.
    IndexOutOfRange,
    /// The app domain is not an origin of the form `https://host[:port]`.
    BadAppDomain(String),
    /// A collection name does not match `[a-z][a-z0-9_-]{0,31}`.
    BadCollectionName(String),
    /// BIP32 derivation failed (astronomically unlikely: an invalid child key).
    Derivation,
}

impl fmt::Display for KeychainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeychainError::Mnemonic(e) => e.fmt(f),
            KeychainError::IndexOutOfRange => {
                f.write_str("an identity index must be a whole number from 0 to 2147483647")
            }
            KeychainError::BadAppDomain(why) => write!(f, "invalid app domain: {why}"),
            KeychainError::BadCollectionName(name) => write!(
                f,
                "invalid collection name {name:?}: use 1 to 32 characters, a lower-case letter first, then lower-case letters, digits, '_' or '-'"
            ),
            KeychainError::Derivation => f.write_str("key derivation failed"),
        }
    }
}

impl std::error::Error for KeychainError {}

impl From<MnemonicError> for KeychainError {
    fn from(e: MnemonicError) -> Self {
        KeychainError::Mnemonic(e)
    }
}

const H: u32 = 0x8000_0000;

/// Java-style `String.hashCode()` over UTF-16 code units, masked to 31 bits, as
/// `@stacks/encryption` `hashCode`.
pub fn hash_code(s: &str) -> u32 {
    let mut hash: i32 = 0;
    for unit in s.encode_utf16() {
        hash = hash.wrapping_mul(31).wrapping_add(unit as i32);
    }
    (hash as u32) & 0x7fff_ffff
}

/// Checks that `domain` is an app origin: `http` or `https`, a host, an optional port,
/// nothing else (no path, query, fragment, user info or trailing slash).
pub fn validate_app_domain(domain: &str) -> Result<(), KeychainError> {
    let bad = |why: &str| Err(KeychainError::BadAppDomain(why.to_string()));
    let rest = if let Some(r) = domain.strip_prefix("https://") {
        r
    } else if let Some(r) = domain.strip_prefix("http://") {
        r
    } else {
        return bad("it must start with https:// or http://");
    };
    if rest.is_empty() {
        return bad("it has no host name");
    }
    if rest.contains(['/', '?', '#']) {
        return bad("it must be an origin only, with no path, query or trailing slash");
    }
    if rest.contains('@') {
        return bad("it must not contain user information");
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains spaces or control characters");
    }
    match url::Url::parse(domain) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        _ => bad("it is not a valid URL"),
    }
}

/// Checks a collection name against COLLECTIONS.md §1.
pub fn validate_collection_name(name: &str) -> Result<(), KeychainError> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeychainError::BadCollectionName(name.to_string()))
    }
}

fn check_index(i: u32) -> Result<u32, KeychainError> {
    if i < H {
        Ok(i)
    } else {
        Err(KeychainError::IndexOutOfRange)
    }
}

fn hardened(i: u32) -> Result<ChildNumber, KeychainError> {
    ChildNumber::new(check_index(i)?, true).map_err(|_| KeychainError::IndexOutOfRange)
}

fn normal(i: u32) -> Result<ChildNumber, KeychainError> {
    ChildNumber::new(check_index(i)?, false).map_err(|_| KeychainError::IndexOutOfRange)
}

fn derive(node: &XPrv, path: &[ChildNumber]) -> Result<XPrv, KeychainError> {
    let mut cur = node.clone();
    for child in path {
        cur = cur
            .derive_child(*child)
            .map_err(|_| KeychainError::Derivation)?;
    }
    Ok(cur)
}

fn node_key(node: &XPrv) -> PrivateKey {
    PrivateKey::from_signing_key(node.private_key().clone())
}

/// The keys of one identity (account) `m/888'/0'/i'`.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Account index *i*.
    pub index: u32,
    /// The identity ("data") private key: signs authResponses, owns the profile bucket.
    pub key: PrivateKey,
    /// Its compressed public key.
    pub public_key: PublicKey,
    /// Its Bitcoin-style address: identity address, profile bucket.
    pub address: String,
}

impl Identity {
    /// `did:btc-addr:<address>`.
    pub fn did(&self) -> String {
        format!("did:btc-addr:{}", self.address)
    }
}

/// A user's master keychain. Holds the BIP32 root and the identity keychain node;
/// both zeroize on drop.
pub struct Keychain {
    root: XPrv,
    identity_keychain: XPrv,
    salt: String,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keychain(salt {})", self.salt)
    }
}

impl Keychain {
    /// Validates a Secret Key and derives the keychain (empty BIP39 passphrase).
    pub fn from_mnemonic(words: &str) -> Result<Self, KeychainError> {
        let secret = SecretKey::parse(words)?;
        Self::from_secret_key(&secret)
    }

    /// Derives the keychain from a validated Secret Key.
    pub fn from_secret_key(secret: &SecretKey) -> Result<Self, KeychainError> {
        let seed = secret.to_seed();
        Self::from_seed(&seed)
    }

    /// Derives the keychain from a 64-byte BIP39 seed.
    pub fn from_seed(seed: &[u8; 64]) -> Result<Self, KeychainError> {
        let root = XPrv::new(seed).map_err(|_| KeychainError::Derivation)?;
        let identity_keychain = derive(&root, &[hardened(888)?, hardened(0)?])?;
        let pubkey_hex = to_hex(&identity_keychain.public_key().to_bytes());
        // The salt hashes the *hex text* of the public key, not its bytes (PROTOCOL.md §a.3).
        let salt = to_hex(&sha256(pubkey_hex.as_bytes()));
        Ok(Keychain {
            root,
            identity_keychain,
            salt,
        })
    }

    /// The root extended private key as an `xprv…` string.
    pub fn root_xprv(&self) -> Zeroizing<String> {
        self.root.to_string(Prefix::XPRV)
    }

    /// The wallet salt: hex SHA-256 of the hex compressed public key of `m/888'/0'`.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// Compressed public key of the identity keychain node `m/888'/0'`.
    pub fn identity_keychain_public_key(&self) -> PublicKey {
        node_key(&self.identity_keychain).public_key()
    }

    fn identity_node(&self, i: u32) -> Result<XPrv, KeychainError> {
        derive(&self.identity_keychain, &[hardened(i)?])
    }

    /// The identity of index `i` (`m/888'/0'/i'`).
    pub fn identity(&self, i: u32) -> Result<Identity, KeychainError> {
        let key = node_key(&self.identity_node(i)?);
        let public_key = key.public_key();
        Ok(Identity {
            index: i,
            address: public_key.address(),
            public_key,
            key,
        })
    }

    fn apps_node(&self, i: u32) -> Result<XPrv, KeychainError> {
        derive(&self.identity_keychain, &[hardened(i)?, hardened(0)?])
    }

    /// The apps node `m/888'/0'/i'/0'` as an `xprv…` string (wallet-sdk `appsKey`).
    pub fn apps_node_xprv(&self, i: u32) -> Result<Zeroizing<String>, KeychainError> {
        Ok(self.apps_node(i)?.to_string(Prefix::XPRV))
    }

    /// The hardened child index of an app origin below the apps node.
    pub fn app_index(&self, app_domain: &str) -> Result<u32, KeychainError> {
        validate_app_domain(app_domain)?;
        Ok(self.salted_index(app_domain))
    }

    fn salted_index(&self, prefix: &str) -> u32 {
        let input = format!("{prefix}{}", self.salt);
        hash_code(&to_hex(&sha256(input.as_bytes())))
    }

    /// The app private key for `app_domain` under identity `i`: one hardened level
    /// below the apps node (the wallet-sdk = legacy derivation, never the 11-level
    /// variant).
    pub fn app_private_key(&self, i: u32, app_domain: &str) -> Result<PrivateKey, KeychainError> {
        let idx = self.app_index(app_domain)?;
        Ok(node_key(&derive(&self.apps_node(i)?, &[hardened(idx)?])?))
    }

    /// The STX key `m/44'/5757'/0'/0/i`.
    pub fn stx_key(&self, i: u32) -> Result<PrivateKey, KeychainError> {
        let path = [
            hardened(44)?,
            hardened(5757)?,
            hardened(0)?,
            normal(0)?,
            normal(i)?,
        ];
        Ok(node_key(&derive(&self.root, &path)?))
    }

    /// The STX address (c32check) of identity `i`'s STX key.
    pub fn stx_address(&self, i: u32, mainnet: bool) -> Result<String, KeychainError> {
        Ok(stx_address(
            &self.stx_key(i)?.public_key().to_compressed(),
            mainnet,
        ))
    }

    fn collections_node(&self, i: u32) -> Result<XPrv, KeychainError> {
        derive(&self.identity_keychain, &[hardened(i)?, hardened(3)?])
    }

    /// The collections node `m/888'/0'/i'/3'` as an `xprv…` string.
    pub fn collections_node_xprv(&self, i: u32) -> Result<Zeroizing<String>, KeychainError> {
        Ok(self.collections_node(i)?.to_string(Prefix::XPRV))
    }

    /// The bucket (write) key of collection `name` for identity `i`.
    pub fn collection_bucket_key(&self, i: u32, name: &str) -> Result<PrivateKey, KeychainError> {
        validate_collection_name(name)?;
        let idx = self.salted_index(&format!("{name}default"));
        Ok(node_key(&derive(
            &self.collections_node(i)?,
            &[hardened(idx)?],
        )?))
    }

    /// The encryption key of generation `generation` of collection `name`.
    pub fn collection_encryption_key(
        &self,
        i: u32,
        name: &str,
        generation: u32,
    ) -> Result<PrivateKey, KeychainError> {
        validate_collection_name(name)?;
        let idx = self.salted_index(&format!("{name}default{generation}"));
        Ok(node_key(&derive(
            &self.collections_node(i)?,
            &[hardened(idx)?],
        )?))
    }

    /// Derives a private key at an explicit hardened path below the identity keychain
    /// node, for tests that must show which path we do *not* use.
    pub fn derive_below_identity_keychain(
        &self,
        hardened_path: &[u32],
    ) -> Result<PrivateKey, KeychainError> {
        let path: Result<Vec<ChildNumber>, _> =
            hardened_path.iter().map(|i| hardened(*i)).collect();
        Ok(node_key(&derive(&self.identity_keychain, &path?)?))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn hash_code_known_values() {
        assert_eq!(hash_code(""), 0);
        assert_eq!(hash_code("a"), 97);
        assert_eq!(hash_code("abc"), 96354);
        assert_eq!(hash_code("https://example.com"), 632849614);
    }

    #[test]
    fn app_domain_rules() {
        for ok in [
            "https://example.com",
            "http://localhost:3000",
            "https://a.b.c:8443",
        ] {
            assert!(validate_app_domain(ok).is_ok(), "{ok}");
        }
        for bad in [
            "example.com",
            "https://example.com/",
            "https://example.com/path",
            "javascript:alert(1)",
            "https://user@example.com",
            "https://",
            "ftp://example.com",
            "https://exa mple.com",
        ] {
            assert!(validate_app_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn collection_name_rules() {
        for ok in ["contact", "photo_2", "a", "doc-s"] {
            assert!(validate_collection_name(ok).is_ok());
        }
        for bad in ["", "Contact", "1abc", "a.b", &"a".repeat(33)] {
            assert!(validate_collection_name(bad).is_err());
        }
    }
}
