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

use crate::keys::mnemonic::{MnemonicError, SecretKey};
use crate::keys::{PrivateKey, PublicKey};
use crate::support::encoding::{base58check_encode, hash160, sha256, stx_address, to_hex};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use std::fmt;
use std::sync::{Mutex, MutexGuard, OnceLock};
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
    /// The app domain is an origin, but not written as browsers write it.
    NonCanonicalAppDomain {
        /// The domain as given.
        domain: String,
        /// The same origin in canonical form.
        canonical: String,
    },
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
            KeychainError::NonCanonicalAppDomain { domain, canonical } => write!(
                f,
                "invalid app domain {}: write it as {canonical} (lower-case host, no default port, no trailing dot)",
                crate::support::encoding::quoted(domain)
            ),
            KeychainError::BadCollectionName(name) => write!(
                f,
                "invalid collection name {}: use 1 to 32 characters, a lower-case letter first, then lower-case letters, digits, '_' or '-'",
                crate::support::encoding::quoted(name)
            ),
            KeychainError::Derivation => f.write_str("key derivation failed"),
        }
    }
}

impl std::error::Error for KeychainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeychainError::Mnemonic(e) => Some(e),
            _ => None,
        }
    }
}

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
/// nothing else (no path, query, fragment, user info or trailing slash), written in its
/// canonical form (see [`canonical_app_domain`]): the app key is derived from these
/// exact characters, so one site written two ways would get two app keys.
pub fn validate_app_domain(domain: &str) -> Result<(), KeychainError> {
    let canonical = canonical_app_domain(domain)?;
    if canonical == domain {
        Ok(())
    } else {
        Err(KeychainError::NonCanonicalAppDomain {
            domain: domain.to_string(),
            canonical,
        })
    }
}

/// The canonical form of an app origin, as browsers write `location.origin`: scheme
/// and host in lower case, no default port (`:443` for https, `:80` for http), no
/// trailing dot after the host, IPv4 addresses as four decimal numbers. Refuses what is
/// not an origin at all (see [`validate_app_domain`]).
pub fn canonical_app_domain(domain: &str) -> Result<String, KeychainError> {
    let bad = |why: &str| Err(KeychainError::BadAppDomain(why.to_string()));
    let scheme_len = ["https://", "http://"]
        .iter()
        .find(|p| {
            domain
                .get(..p.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(p))
        })
        .map(|p| p.len());
    let Some(scheme_len) = scheme_len else {
        return bad("it must start with https:// or http://");
    };
    let rest = &domain[scheme_len..];
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
    let url = match crate::support::http_url::HttpUrl::parse(domain) {
        Ok(u) => u,
        Err(e) => return bad(&e.to_string()),
    };
    let host = url.host();
    let host = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        match inner.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => format!("[{}]", ipv6_text(&ip)),
            Err(_) => return bad("its host is not a valid IPv6 address"),
        }
    } else {
        let name = host.strip_suffix('.').unwrap_or(host);
        if name.is_empty() {
            return bad("it has no host name");
        }
        match ipv4_host(name) {
            Some(Ok(ip)) => ip,
            Some(Err(())) => return bad("its host ends in a number but is not an IPv4 address"),
            None => name.to_string(),
        }
    };
    Ok(match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// An IPv6 address as browsers serialise it (WHATWG URL): lower-case hex without
/// leading zeros, the first longest run of two or more zero pieces written `::`, and no
/// dotted IPv4 tail.
fn ipv6_text(ip: &std::net::Ipv6Addr) -> String {
    let pieces = ip.segments();
    let (mut best, mut best_len, mut run, mut run_len) = (None, 1, 0, 0);
    for (i, p) in pieces.iter().enumerate() {
        if *p == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                best = Some(run);
                best_len = run_len;
            }
        } else {
            run_len = 0;
        }
    }
    let hex = |ps: &[u16]| {
        ps.iter()
            .map(|p| format!("{p:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    match best {
        Some(start) => format!(
            "{}::{}",
            hex(&pieces[..start]),
            hex(&pieces[start + best_len..])
        ),
        None => hex(&pieces),
    }
}

/// A host that ends in a number is an IPv4 address to browsers (WHATWG URL, "IPv4
/// parser": one to four parts, each decimal, octal with a leading `0` or hex with `0x`):
/// `Some(Ok(dotted quad))`, or `Some(Err(()))` when browsers refuse it; `None` for a
/// domain name.
fn ipv4_host(host: &str) -> Option<Result<String, ()>> {
    let last = host.rsplit('.').next().unwrap_or(host);
    let decimal = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
    let hex = last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
        && last[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let numeric = decimal || hex;
    if !numeric {
        return None;
    }
    let part = |p: &str| -> Result<u64, ()> {
        let (digits, radix) = match p.get(..2) {
            Some(x) if x.eq_ignore_ascii_case("0x") => (&p[2..], 16),
            _ if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
            _ => (p, 10),
        };
        if digits.is_empty() {
            return Ok(0);
        }
        if digits.len() > 12 {
            return Err(());
        }
        u64::from_str_radix(digits, radix).map_err(|_| ())
    };
    let parsed = (|| {
        let parts: Vec<u64> = host.split('.').map(part).collect::<Result<_, _>>()?;
        let (last, init) = parts.split_last().ok_or(())?;
        if parts.len() > 4 || init.iter().any(|p| *p > 255) {
            return Err(());
        }
        if *last >= 256u64.pow(5 - parts.len() as u32) {
            return Err(());
        }
        let mut ip = *last;
        for (i, p) in init.iter().enumerate() {
            ip += p << (8 * (3 - i));
        }
        let b = (ip as u32).to_be_bytes();
        Ok(format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
    })();
    Some(parsed)
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

/// A BIP32 child number: the index, with bit 31 set for a hardened child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChildNumber(u32);

fn hardened(i: u32) -> Result<ChildNumber, KeychainError> {
    Ok(ChildNumber(check_index(i)? | H))
}

fn normal(i: u32) -> Result<ChildNumber, KeychainError> {
    Ok(ChildNumber(check_index(i)?))
}

type HmacSha512 = Hmac<Sha512>;

/// An extended private key (BIP32 node): key and chain code. Unlike `bip32::XPrv`, a
/// derivation step costs one HMAC-SHA512 and a scalar addition; the node's public key
/// (an elliptic-curve multiplication) is computed only when something needs it — a
/// non-hardened child, an address, a fingerprint — and then kept.
#[derive(Clone)]
struct Node {
    key: PrivateKey,
    chain_code: Zeroizing<[u8; 32]>,
    depth: u8,
    child_number: u32,
}

impl Node {
    /// The master node of a BIP39 seed (`HMAC-SHA512("Bitcoin seed", seed)`).
    fn master(seed: &[u8]) -> Result<Node, KeychainError> {
        let mut mac = <HmacSha512 as KeyInit>::new_from_slice(b"Bitcoin seed")
            .expect("HMAC takes any key length");
        mac.update(seed);
        Self::from_hmac(mac, 0, 0, None)
    }

    fn from_hmac(
        mac: HmacSha512,
        depth: u8,
        child_number: u32,
        parent: Option<&PrivateKey>,
    ) -> Result<Node, KeychainError> {
        let out = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
        let mut chain_code = Zeroizing::new([0u8; 32]);
        chain_code.copy_from_slice(&out[32..]);
        // IL must be a valid scalar (below the curve order, and not zero for the master).
        let il = k256::SecretKey::from_slice(&out[..32]).map_err(|_| KeychainError::Derivation)?;
        let secret = match parent {
            None => il,
            Some(parent) => {
                let sum = *il.to_nonzero_scalar() + *parent.secret_key().to_nonzero_scalar();
                let sum = Option::<k256::NonZeroScalar>::from(k256::NonZeroScalar::new(sum))
                    .ok_or(KeychainError::Derivation)?;
                k256::SecretKey::from(sum)
            }
        };
        Ok(Node {
            key: PrivateKey::from_secret(secret),
            chain_code,
            depth,
            child_number,
        })
    }

    /// CKDpriv (BIP32).
    fn child(&self, child: ChildNumber) -> Result<Node, KeychainError> {
        let depth = self.depth.checked_add(1).ok_or(KeychainError::Derivation)?;
        let mut mac = <HmacSha512 as KeyInit>::new_from_slice(self.chain_code.as_ref())
            .expect("HMAC takes any key length");
        if child.0 & H != 0 {
            mac.update(&[0]);
            mac.update(self.key.to_bytes().as_ref());
        } else {
            mac.update(&self.key.public_key().to_compressed());
        }
        mac.update(&child.0.to_be_bytes());
        Self::from_hmac(mac, depth, child.0, Some(&self.key))
    }

    fn derive(&self, path: &[ChildNumber]) -> Result<Node, KeychainError> {
        let mut cur = self.clone();
        for child in path {
            cur = cur.child(*child)?;
        }
        Ok(cur)
    }

    /// The `xprv…` serialisation; `parent` is the node this one was derived from (its
    /// public key gives the fingerprint), `None` for the master.
    fn to_xprv(&self, parent: Option<&Node>) -> Zeroizing<String> {
        let mut payload = Zeroizing::new(Vec::with_capacity(77));
        payload.extend_from_slice(&[0x88, 0xad, 0xe4]); // version 0x0488ade4, after 0x04
        payload.push(self.depth);
        match parent {
            Some(p) => {
                payload.extend_from_slice(&hash160(&p.key.public_key().to_compressed())[..4])
            }
            None => payload.extend_from_slice(&[0; 4]),
        }
        payload.extend_from_slice(&self.child_number.to_be_bytes());
        payload.extend_from_slice(self.chain_code.as_ref());
        payload.push(0);
        payload.extend_from_slice(self.key.to_bytes().as_ref());
        Zeroizing::new(base58check_encode(0x04, &payload))
    }
}

/// Nodes of one identity, derived on first use and kept for the keychain's lifetime.
struct IdentityNodes {
    index: u32,
    /// `m/888'/0'/i'`.
    node: Node,
    /// `m/888'/0'/i'/0'`.
    apps: OnceLock<Node>,
    /// `m/888'/0'/i'/3'`.
    collections: OnceLock<Node>,
    /// `m/44'/5757'/0'/0/i`.
    stx: OnceLock<PrivateKey>,
}

/// How many identities' nodes a keychain keeps (the most recently used).
const IDENTITY_CACHE: usize = 8;

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

/// A user's master keychain. Holds the BIP32 root, the identity keychain node and the
/// nodes derived for recently used identities (identity, apps, collections and STX
/// keys, with their public keys once computed); all zeroize on drop.
pub struct Keychain {
    root: Node,
    identity_keychain: Node,
    /// `m/44'/5757'/0'/0`, derived on first use.
    stx_chain: OnceLock<Node>,
    identities: Mutex<Vec<IdentityNodes>>,
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
        let root = Node::master(seed)?;
        let identity_keychain = root.derive(&[hardened(888)?, hardened(0)?])?;
        let pubkey_hex = identity_keychain.key.public_key().to_hex();
        // The salt hashes the *hex text* of the public key, not its bytes (PROTOCOL.md §a.3).
        let salt = to_hex(&sha256(pubkey_hex.as_bytes()));
        Ok(Keychain {
            root,
            identity_keychain,
            stx_chain: OnceLock::new(),
            identities: Mutex::new(Vec::new()),
            salt,
        })
    }

    fn lock_identities(&self) -> MutexGuard<'_, Vec<IdentityNodes>> {
        // A panic while holding the lock cannot leave the cache inconsistent (entries are
        // only ever added whole), so a poisoned lock is still usable.
        self.identities
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the cached nodes of identity `i`, deriving `m/888'/0'/i'` first if
    /// needed (and evicting the least recently used identity beyond the cache size).
    fn with_identity<R>(
        &self,
        i: u32,
        f: impl FnOnce(&IdentityNodes) -> Result<R, KeychainError>,
    ) -> Result<R, KeychainError> {
        let child = hardened(i)?;
        let mut cache = self.lock_identities();
        match cache.iter().position(|e| e.index == i) {
            Some(pos) => {
                let entry = cache.remove(pos);
                cache.push(entry);
            }
            None => {
                let node = self.identity_keychain.child(child)?;
                if cache.len() >= IDENTITY_CACHE {
                    cache.remove(0);
                }
                cache.push(IdentityNodes {
                    index: i,
                    node,
                    apps: OnceLock::new(),
                    collections: OnceLock::new(),
                    stx: OnceLock::new(),
                });
            }
        }
        f(cache.last().expect("just pushed"))
    }

    /// The root extended private key as an `xprv…` string.
    pub fn root_xprv(&self) -> Zeroizing<String> {
        self.root.to_xprv(None)
    }

    /// The wallet salt: hex SHA-256 of the hex compressed public key of `m/888'/0'`.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// Compressed public key of the identity keychain node `m/888'/0'`.
    pub fn identity_keychain_public_key(&self) -> PublicKey {
        self.identity_keychain.key.public_key()
    }

    /// The identity of index `i` (`m/888'/0'/i'`).
    pub fn identity(&self, i: u32) -> Result<Identity, KeychainError> {
        self.with_identity(i, |e| {
            let public_key = e.node.key.public_key();
            Ok(Identity {
                index: i,
                address: public_key.address(),
                public_key,
                key: e.node.key.clone(),
            })
        })
    }

    fn apps_node_of(e: &IdentityNodes) -> Result<&Node, KeychainError> {
        if let Some(n) = e.apps.get() {
            return Ok(n);
        }
        let n = e.node.child(hardened(0)?)?;
        Ok(e.apps.get_or_init(|| n))
    }

    fn collections_node_of(e: &IdentityNodes) -> Result<&Node, KeychainError> {
        if let Some(n) = e.collections.get() {
            return Ok(n);
        }
        let n = e.node.child(hardened(3)?)?;
        Ok(e.collections.get_or_init(|| n))
    }

    /// The apps node `m/888'/0'/i'/0'` as an `xprv…` string (wallet-sdk `appsKey`).
    pub fn apps_node_xprv(&self, i: u32) -> Result<Zeroizing<String>, KeychainError> {
        self.with_identity(i, |e| Ok(Self::apps_node_of(e)?.to_xprv(Some(&e.node))))
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
        let idx = hardened(self.app_index(app_domain)?)?;
        self.with_identity(i, |e| Ok(Self::apps_node_of(e)?.child(idx)?.key))
    }

    fn stx_chain(&self) -> Result<&Node, KeychainError> {
        if let Some(n) = self.stx_chain.get() {
            return Ok(n);
        }
        let n = self
            .root
            .derive(&[hardened(44)?, hardened(5757)?, hardened(0)?, normal(0)?])?;
        Ok(self.stx_chain.get_or_init(|| n))
    }

    fn stx_key_of(&self, e: &IdentityNodes) -> Result<PrivateKey, KeychainError> {
        if let Some(k) = e.stx.get() {
            return Ok(k.clone());
        }
        let k = self.stx_chain()?.child(normal(e.index)?)?.key;
        Ok(e.stx.get_or_init(|| k).clone())
    }

    /// The STX key `m/44'/5757'/0'/0/i`.
    pub fn stx_key(&self, i: u32) -> Result<PrivateKey, KeychainError> {
        self.with_identity(i, |e| self.stx_key_of(e))
    }

    /// The STX address (c32check) of identity `i`'s STX key.
    pub fn stx_address(&self, i: u32, mainnet: bool) -> Result<String, KeychainError> {
        self.with_identity(i, |e| {
            self.stx_key_of(e)?;
            let key = e.stx.get().expect("just derived");
            Ok(stx_address(&key.public_key().to_compressed(), mainnet))
        })
    }

    /// The collections node `m/888'/0'/i'/3'` as an `xprv…` string.
    pub fn collections_node_xprv(&self, i: u32) -> Result<Zeroizing<String>, KeychainError> {
        self.with_identity(i, |e| {
            Ok(Self::collections_node_of(e)?.to_xprv(Some(&e.node)))
        })
    }

    /// The bucket (write) key of collection `name` for identity `i`.
    pub fn collection_bucket_key(&self, i: u32, name: &str) -> Result<PrivateKey, KeychainError> {
        validate_collection_name(name)?;
        let idx = hardened(self.salted_index(&format!("{name}default")))?;
        self.with_identity(i, |e| Ok(Self::collections_node_of(e)?.child(idx)?.key))
    }

    /// The encryption key of generation `generation` of collection `name`.
    pub fn collection_encryption_key(
        &self,
        i: u32,
        name: &str,
        generation: u32,
    ) -> Result<PrivateKey, KeychainError> {
        validate_collection_name(name)?;
        let idx = hardened(self.salted_index(&format!("{name}default{generation}")))?;
        self.with_identity(i, |e| Ok(Self::collections_node_of(e)?.child(idx)?.key))
    }

    /// Derives a private key at an explicit hardened path below the identity keychain
    /// node, for tests that must show which path we do *not* use.
    pub fn derive_below_identity_keychain(
        &self,
        hardened_path: &[u32],
    ) -> Result<PrivateKey, KeychainError> {
        let path: Result<Vec<ChildNumber>, _> =
            hardened_path.iter().map(|i| hardened(*i)).collect();
        Ok(self.identity_keychain.derive(&path?)?.key)
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
    fn app_domain_must_be_canonical() {
        // Numeric IPv4 spellings other than dotted decimal are no host at all (browsers
        // read them as 127.0.0.1, other parsers as names): refused outright.
        for given in [
            "http://127.1:8080",
            "http://0x7f.0.0.1",
            "http://2130706433",
        ] {
            assert!(
                matches!(
                    validate_app_domain(given),
                    Err(KeychainError::BadAppDomain(_))
                ),
                "{given}"
            );
        }
        // One site, one spelling: anything else is refused with the canonical form named.
        for (given, canonical) in [
            ("HTTP://Example.com:80", "http://example.com"),
            ("HTTPS://Example.com:443", "https://example.com"),
            ("https://example.com.", "https://example.com"),
            ("https://EXAMPLE.com", "https://example.com"),
            ("https://example.com:443", "https://example.com"),
            ("https://example.com:", "https://example.com"),
            ("http://localhost:03000", "http://localhost:3000"),
            ("http://[::ABCD]", "http://[::abcd]"),
            ("http://[0:0::1]:8080", "http://[::1]:8080"),
            ("http://[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]"),
            ("http://[1:0:0:2:0:0:0:3]", "http://[1:0:0:2::3]"),
            (
                "http://[2001:db8:0:0:1:0:0:1]",
                "http://[2001:db8::1:0:0:1]",
            ),
        ] {
            let err = validate_app_domain(given).unwrap_err();
            assert_eq!(
                err,
                KeychainError::NonCanonicalAppDomain {
                    domain: given.into(),
                    canonical: canonical.into()
                },
                "{given}"
            );
            assert!(err.to_string().contains(canonical), "{err}");
            assert_eq!(canonical_app_domain(given).unwrap(), canonical);
            assert!(validate_app_domain(canonical).is_ok(), "{canonical}");
        }
        for bad in [
            "http://1.2.3.4.5",
            "http://example.123",
            "http://256.0.0.1",
            "http://[1::2::3]",
        ] {
            assert!(
                matches!(
                    validate_app_domain(bad),
                    Err(KeychainError::BadAppDomain(_))
                ),
                "{bad}"
            );
        }
        for ok in [
            "http://127.0.0.1:8888",
            "https://a-b.example",
            "http://[::1]:3000",
        ] {
            assert!(validate_app_domain(ok).is_ok(), "{ok}");
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
