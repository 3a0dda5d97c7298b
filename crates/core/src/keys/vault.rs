//! The encrypted vault: the Secret Key at rest, sealed with the user's password.
//!
//! password → Argon2id (parameters stored in the record) → 32-byte key →
//! AES-256-GCM over the Secret Key's text, with the record's header (version, KDF
//! parameters, salt) as associated data so that no field can be altered unnoticed.
//! The record is self-describing, versioned JSON.

use crate::crypto::bulk::{self, Bulk, BulkError};
use crate::json;
use crate::keys::mnemonic::SecretKey;
use crate::support::encoding::{from_base64, to_base64};
use crate::support::json;
use crate::support::json::{Fields, Value};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;
use zeroize::Zeroizing;

/// Current record version.
pub const VAULT_VERSION: u32 = 1;

/// Why a vault could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultError {
    /// The password does not open this vault (or the record was altered).
    WrongPassword,
    /// The password is empty.
    EmptyPassword,
    /// The record is not a vault record this version of Cairn understands.
    Format(String),
    /// The KDF parameters are outside what Cairn accepts.
    Parameters(String),
    /// The system random number generator failed.
    Randomness,
    /// AES-GCM could not run (in the browser: WebCrypto failed); the message says why.
    Cipher(String),
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::WrongPassword => f.write_str("wrong password"),
            VaultError::EmptyPassword => f.write_str("the password is empty"),
            VaultError::Format(why) => write!(f, "the stored vault is unreadable: {why}"),
            VaultError::Parameters(why) => write!(f, "unsupported vault parameters: {why}"),
            VaultError::Randomness => {
                f.write_str("the system random number generator is not available")
            }
            VaultError::Cipher(why) => write!(f, "the vault's encryption could not run: {why}"),
        }
    }
}

impl std::error::Error for VaultError {}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB (`m` in the record).
    pub memory_kib: u32,
    /// Passes (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl KdfParams {
    /// The floor Cairn enforces: 19 MiB, 2 passes, 1 lane (OWASP's Argon2id minimum).
    pub const MINIMUM: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// The parameters of new vaults: 64 MiB, 4 passes, 1 lane. In headless Chromium on
    /// the 2-core development machine the KDF takes about 190 ms and a whole unlock
    /// (worker start included) about 0.3 s, leaving room for machines three times slower
    /// to stay within a second. Existing vaults open with the parameters in their record.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 4,
        parallelism: 1,
    };

    /// `{"m":…,"t":…,"p":…}`.
    pub fn to_value(&self) -> Value {
        json!({"m": self.memory_kib, "t": self.iterations, "p": self.parallelism})
    }

    /// Reads `{"m":…,"t":…,"p":…}`.
    pub fn from_value(v: &Value) -> Result<Self, json::FieldError> {
        let f = Fields::of(v, "the vault parameters")?;
        Ok(KdfParams {
            memory_kib: f.u32("m")?,
            iterations: f.u32("t")?,
            parallelism: f.u32("p")?,
        })
    }

    fn check(&self) -> Result<Params, VaultError> {
        if self.memory_kib < Self::MINIMUM.memory_kib || self.iterations < Self::MINIMUM.iterations
        {
            return Err(VaultError::Parameters(
                "below the minimum of 19 MiB and 2 passes".into(),
            ));
        }
        if self.memory_kib > 1024 * 1024 || self.iterations > 64 || self.parallelism > 16 {
            return Err(VaultError::Parameters("unreasonably large".into()));
        }
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism.max(1),
            Some(32),
        )
        .map_err(|e| VaultError::Parameters(e.to_string()))
    }
}

/// The stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultRecord {
    /// Record version.
    pub v: u32,
    /// `"argon2id"`.
    pub kdf: String,
    /// KDF parameters.
    pub params: KdfParams,
    /// KDF salt, base64.
    pub salt: String,
    /// `"aes-256-gcm"`.
    pub cipher: String,
    /// 12-byte nonce, base64.
    pub nonce: String,
    /// Ciphertext with tag, base64.
    pub ct: String,
}

impl VaultRecord {
    /// JSON text of the record.
    pub fn to_json(&self) -> String {
        json::to_string(&json!({
            "v": self.v,
            "kdf": self.kdf.as_str(),
            "params": self.params.to_value(),
            "salt": self.salt.as_str(),
            "cipher": self.cipher.as_str(),
            "nonce": self.nonce.as_str(),
            "ct": self.ct.as_str(),
        }))
    }

    /// Parses a record's JSON text.
    pub fn from_json(text: &str) -> Result<Self, VaultError> {
        let v = json::from_str(text).map_err(|e| VaultError::Format(e.to_string()))?;
        let read = || -> Result<VaultRecord, json::FieldError> {
            let f = Fields::of(&v, "the vault record")?;
            Ok(VaultRecord {
                v: f.u32("v")?,
                kdf: f.str("kdf")?.to_string(),
                params: KdfParams::from_value(f.req("params", "an object", Some)?)?,
                salt: f.str("salt")?.to_string(),
                cipher: f.str("cipher")?.to_string(),
                nonce: f.str("nonce")?.to_string(),
                ct: f.str("ct")?.to_string(),
            })
        };
        let r = read().map_err(|e| VaultError::Format(e.to_string()))?;
        if r.v != VAULT_VERSION {
            return Err(VaultError::Format(format!("unknown version {}", r.v)));
        }
        if r.kdf != "argon2id" || r.cipher != "aes-256-gcm" {
            return Err(VaultError::Format("unknown algorithms".into()));
        }
        Ok(r)
    }

    fn aad(&self) -> String {
        format!(
            "cairn-vault|v={}|{}|m={},t={},p={}|{}|{}",
            self.v,
            self.kdf,
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            self.salt,
            self.cipher
        )
    }
}

fn derive_key(
    password: &str,
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    if password.is_empty() {
        return Err(VaultError::EmptyPassword);
    }
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.check()?);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.as_bytes(), salt, key.as_mut())
        .map_err(|e| VaultError::Parameters(e.to_string()))?;
    Ok(key)
}

/// Seals a Secret Key with a password.
pub fn seal(
    secret: &SecretKey,
    password: &str,
    params: KdfParams,
) -> Result<VaultRecord, VaultError> {
    bulk::now(|b| seal_async(b, secret, password, params))
}

/// [`seal`] with AES-GCM run by `bulk` (Argon2id always runs here).
pub async fn seal_async(
    bulk: &impl Bulk,
    secret: &SecretKey,
    password: &str,
    params: KdfParams,
) -> Result<VaultRecord, VaultError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt).map_err(|_| VaultError::Randomness)?;
    getrandom::fill(&mut nonce).map_err(|_| VaultError::Randomness)?;
    let key = derive_key(password, &salt, &params)?;
    let mut record = VaultRecord {
        v: VAULT_VERSION,
        kdf: "argon2id".into(),
        params,
        salt: to_base64(&salt),
        cipher: "aes-256-gcm".into(),
        nonce: to_base64(&nonce),
        ct: String::new(),
    };
    let aad = record.aad();
    let ct = bulk
        .gcm_encrypt(&key, &nonce, aad.as_bytes(), secret.phrase().as_bytes())
        .await
        .map_err(|e| VaultError::Cipher(e.to_string()))?;
    record.ct = to_base64(&ct);
    Ok(record)
}

/// Opens a record with a password, returning the Secret Key.
pub fn open(record: &VaultRecord, password: &str) -> Result<SecretKey, VaultError> {
    bulk::now(|b| open_async(b, record, password))
}

/// [`open`] with AES-GCM run by `bulk` (Argon2id always runs here).
pub async fn open_async(
    bulk: &impl Bulk,
    record: &VaultRecord,
    password: &str,
) -> Result<SecretKey, VaultError> {
    let bad = |what: &str| VaultError::Format(format!("bad {what}"));
    let salt = from_base64(&record.salt).map_err(|_| bad("salt"))?;
    let nonce: [u8; 12] = from_base64(&record.nonce)
        .map_err(|_| bad("nonce"))?
        .try_into()
        .map_err(|_| bad("nonce"))?;
    let ct = from_base64(&record.ct).map_err(|_| bad("ciphertext"))?;
    let key = derive_key(password, &salt, &record.params)?;
    let aad = record.aad();
    let plain = match bulk.gcm_decrypt(&key, &nonce, aad.as_bytes(), &ct).await {
        Ok(plain) => plain,
        Err(BulkError::Rejected) => return Err(VaultError::WrongPassword),
        Err(e) => return Err(VaultError::Cipher(e.to_string())),
    };
    let text = std::str::from_utf8(&plain).map_err(|_| bad("contents"))?;
    SecretKey::parse(text).map_err(|_| bad("contents"))
}

/// A rough password strength hint for the UI: 0 (weak) to 4 (strong), with advice.
pub fn password_strength(password: &str) -> (u8, &'static str) {
    let len = password.chars().count();
    // Character classes by ASCII; any other character (accented or non-Latin letters
    // too) counts as a symbol: rarer than ASCII letters, and Unicode case tables would
    // cost the page several KB for a hint.
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let distinct = {
        let mut v: Vec<char> = password.chars().collect();
        crate::support::sorting::sort_by(&mut v, |a, b| a.cmp(b));
        v.dedup();
        v.len()
    };
    if len < 8 {
        return (
            0,
            "Too short: use at least 8 characters; a few unrelated words work well.",
        );
    }
    if distinct < 5 {
        return (0, "Too repetitive: use more different characters.");
    }
    let score = match (len, classes) {
        (l, _) if l >= 20 => 4,
        (l, c) if l >= 14 && c >= 2 => 4,
        (l, c) if l >= 12 && c >= 3 => 3,
        (l, _) if l >= 12 => 2,
        (_, c) if c >= 3 => 2,
        _ => 1,
    };
    let hint = match score {
        1 => "Weak: make it longer, e.g. four unrelated words.",
        2 => "Fair: a few more characters would make it much stronger.",
        3 => "Good.",
        _ => "Strong.",
    };
    (score, hint)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn seal_open_wrong_password_and_tamper() {
        let secret = SecretKey::parse(WORDS).unwrap();
        let record = seal(&secret, "correct horse", KdfParams::DEFAULT).unwrap();
        assert!(!record.to_json().contains("abandon"));
        let back = open(
            &VaultRecord::from_json(&record.to_json()).unwrap(),
            "correct horse",
        )
        .unwrap();
        assert_eq!(back.phrase(), WORDS);
        assert_eq!(
            open(&record, "wrong").unwrap_err(),
            VaultError::WrongPassword
        );
        assert_eq!(open(&record, "").unwrap_err(), VaultError::EmptyPassword);
        // Raising a parameter changes the AAD and the key: refused, not silently accepted.
        let mut altered = record.clone();
        altered.params.iterations = 3;
        assert_eq!(
            open(&altered, "correct horse").unwrap_err(),
            VaultError::WrongPassword
        );
        // Lowering below the floor is refused outright.
        let mut weak = record.clone();
        weak.params.memory_kib = 8;
        assert!(matches!(
            open(&weak, "correct horse"),
            Err(VaultError::Parameters(_))
        ));
        assert!(matches!(
            VaultRecord::from_json(&record.to_json().replace("\"v\":1", "\"v\":9")),
            Err(VaultError::Format(_))
        ));
    }

    #[test]
    fn strength_hints() {
        assert_eq!(password_strength("abc").0, 0);
        assert_eq!(password_strength("aaaaaaaaaaaa").0, 0);
        assert!(password_strength("correct horse battery staple").0 >= 4);
        assert!(password_strength("Tr0ub4dor&3xyz").0 >= 3);
    }
}
