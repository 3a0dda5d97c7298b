//! ECIES in the Stacks format (`@stacks/encryption` `encryptECIES` / `decryptECIES`,
//! PROTOCOL.md §d): ECDH x-coordinate → SHA-512 → AES-256-CBC key ‖ HMAC-SHA256 key;
//! MAC over `iv ‖ compressed ephemeral key ‖ ciphertext`, checked in constant time
//! before decryption.

use crate::crypto::bulk::{self, Bulk, BulkError};
use crate::keys::{KeyError, PrivateKey, PublicKey};
use crate::support::encoding::{EncodingError, from_base64, from_hex, to_base64, to_hex};
use crate::support::json;
use crate::support::json::{Fields, Map, Value};
use sha2::{Digest, Sha512};
use std::fmt;
use zeroize::Zeroizing;

/// Why encryption or decryption failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EciesError {
    /// The recipient public key or the private key is invalid.
    Key(KeyError),
    /// The cipher object is not valid JSON of the expected shape.
    Format(String),
    /// A field is not valid hex or base64.
    Encoding(&'static str),
    /// The MAC does not match: wrong key, or the ciphertext was altered.
    BadMac,
    /// The ciphertext decrypted to invalid padding (only after a good MAC: a corrupt
    /// sender).
    Padding,
    /// `wasString` is true but the plaintext is not UTF-8.
    NotUtf8,
    /// The system random number generator failed.
    Randomness,
    /// The AES or HMAC implementation could not run (in the browser: WebCrypto).
    Bulk(String),
}

impl fmt::Display for EciesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EciesError::Key(e) => e.fmt(f),
            EciesError::Format(why) => write!(f, "not a valid encrypted object: {why}"),
            EciesError::Encoding(field) => write!(f, "the encrypted object's {field} is malformed"),
            EciesError::BadMac => f.write_str(
                "decryption failed: the data was not encrypted for this key, or it was altered",
            ),
            EciesError::Padding => f.write_str("decryption failed: bad padding"),
            EciesError::NotUtf8 => f.write_str("the decrypted text is not valid UTF-8"),
            EciesError::Randomness => {
                f.write_str("the system random number generator is not available")
            }
            EciesError::Bulk(why) => write!(f, "encryption could not run: {why}"),
        }
    }
}

impl std::error::Error for EciesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EciesError::Key(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeyError> for EciesError {
    fn from(e: KeyError) -> Self {
        EciesError::Key(e)
    }
}

/// How the ciphertext is written in the cipher object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CipherTextEncoding {
    /// Lower-case hex (the default; no `cipherTextEncoding` field).
    #[default]
    Hex,
    /// Standard padded base64, flagged by `"cipherTextEncoding":"base64"`.
    Base64,
}

/// The cipher object, fields in the order `@stacks/encryption` writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherObject {
    /// 16-byte IV, hex.
    pub iv: String,
    /// Compressed ephemeral public key, hex.
    pub ephemeral_pk: String,
    /// Ciphertext, hex or base64.
    pub cipher_text: String,
    /// HMAC-SHA256, hex.
    pub mac: String,
    /// Whether the plaintext was a string.
    pub was_string: bool,
    /// `"base64"` when the ciphertext is base64; absent for hex.
    pub cipher_text_encoding: Option<String>,
}

impl CipherObject {
    /// JSON text, as `JSON.stringify(cipherObject)`.
    pub fn to_json(&self) -> String {
        json::to_string(&self.to_value())
    }

    /// The cipher object as a JSON value (field names and order as `@stacks/encryption`).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("iv".into(), self.iv.as_str().into());
        m.insert("ephemeralPK".into(), self.ephemeral_pk.as_str().into());
        m.insert("cipherText".into(), self.cipher_text.as_str().into());
        m.insert("mac".into(), self.mac.as_str().into());
        m.insert("wasString".into(), self.was_string.into());
        m.insert_opt("cipherTextEncoding", self.cipher_text_encoding.as_deref());
        Value::Object(m)
    }

    /// Parses the JSON text of a cipher object.
    pub fn from_json(text: &str) -> Result<Self, EciesError> {
        let v = json::from_str(text).map_err(|e| EciesError::Format(e.to_string()))?;
        Self::from_value(&v)
    }

    /// Reads a cipher object from a JSON value.
    pub fn from_value(v: &Value) -> Result<Self, EciesError> {
        let read = || -> Result<Self, json::FieldError> {
            let f = Fields::of(v, "the cipher object")?;
            Ok(CipherObject {
                iv: f.str("iv")?.to_string(),
                ephemeral_pk: f.str("ephemeralPK")?.to_string(),
                cipher_text: f.str("cipherText")?.to_string(),
                mac: f.str("mac")?.to_string(),
                was_string: f.bool("wasString")?,
                cipher_text_encoding: f.opt_str("cipherTextEncoding")?.map(str::to_string),
            })
        };
        read().map_err(|e| EciesError::Format(e.to_string()))
    }
}

/// Plaintext recovered by [`decrypt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plaintext {
    /// The sender encrypted a string.
    Text(String),
    /// The sender encrypted bytes.
    Bytes(Vec<u8>),
}

struct DerivedKeys {
    enc: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
}

fn derive_keys(secret: &PrivateKey, public: &PublicKey) -> DerivedKeys {
    let shared = k256::ecdh::diffie_hellman(
        secret.secret_key().to_nonzero_scalar(),
        public.verifying_key().as_affine(),
    );
    let k = Zeroizing::new(Sha512::digest(shared.raw_secret_bytes()));
    let mut enc = Zeroizing::new([0u8; 32]);
    let mut mac = Zeroizing::new([0u8; 32]);
    enc.copy_from_slice(&k[..32]);
    mac.copy_from_slice(&k[32..]);
    DerivedKeys { enc, mac }
}

/// A failure of a bulk step that is not the ciphertext's fault.
fn unavailable(e: BulkError) -> EciesError {
    EciesError::Bulk(e.to_string())
}

/// A fresh ephemeral key and IV from the system CSPRNG.
fn fresh_ephemeral() -> Result<(PrivateKey, [u8; 16]), EciesError> {
    let ephemeral = PrivateKey::random().map_err(|_| EciesError::Randomness)?;
    let mut iv = [0u8; 16];
    getrandom::fill(&mut iv).map_err(|_| EciesError::Randomness)?;
    Ok((ephemeral, iv))
}

/// Encrypts `content` to `recipient` with a fresh ephemeral key and IV.
pub fn encrypt(
    recipient: &PublicKey,
    content: &[u8],
    was_string: bool,
    encoding: CipherTextEncoding,
) -> Result<CipherObject, EciesError> {
    bulk::now(|b| encrypt_async(b, recipient, content, was_string, encoding))
}

/// [`encrypt`] with the AES and HMAC steps run by `bulk`.
pub async fn encrypt_async(
    bulk: &impl Bulk,
    recipient: &PublicKey,
    content: &[u8],
    was_string: bool,
    encoding: CipherTextEncoding,
) -> Result<CipherObject, EciesError> {
    let (ephemeral, iv) = fresh_ephemeral()?;
    encrypt_with_async(
        bulk, recipient, content, was_string, encoding, &ephemeral, iv,
    )
    .await
}

/// Encrypts with an injected ephemeral key and IV (deterministic; for test vectors).
pub fn encrypt_with(
    recipient: &PublicKey,
    content: &[u8],
    was_string: bool,
    encoding: CipherTextEncoding,
    ephemeral: &PrivateKey,
    iv: [u8; 16],
) -> Result<CipherObject, EciesError> {
    bulk::now(|b| encrypt_with_async(b, recipient, content, was_string, encoding, ephemeral, iv))
}

/// [`encrypt_with`] with the AES and HMAC steps run by `bulk`.
pub async fn encrypt_with_async(
    bulk: &impl Bulk,
    recipient: &PublicKey,
    content: &[u8],
    was_string: bool,
    encoding: CipherTextEncoding,
    ephemeral: &PrivateKey,
    iv: [u8; 16],
) -> Result<CipherObject, EciesError> {
    let seal = SealParts::with(recipient, ephemeral, iv);
    let ct = bulk
        .cbc_encrypt(&seal.enc_key, &seal.iv, content)
        .await
        .map_err(unavailable)?;
    let mac = bulk
        .hmac_sha256(&seal.mac_key, &[&seal.mac_prefix()[..], &ct].concat())
        .await
        .map_err(unavailable)?;
    Ok(seal.finish(&ct, &mac, was_string, encoding))
}

/// An encryption whose curve work is done and whose bulk work is left to the caller:
/// AES-256-CBC (PKCS#7 padding) of the content with `enc_key` and `iv`, then
/// HMAC-SHA256 with `mac_key` over [`SealParts::mac_prefix`] ‖ ciphertext.
/// [`encrypt_with_async`] runs that part through a [`Bulk`] implementation.
pub struct SealParts {
    /// AES-256-CBC key.
    pub enc_key: Zeroizing<[u8; 32]>,
    /// HMAC-SHA256 key.
    pub mac_key: Zeroizing<[u8; 32]>,
    /// The IV.
    pub iv: [u8; 16],
    /// The compressed ephemeral public key.
    pub ephemeral_pk: [u8; 33],
}

impl SealParts {
    /// Starts an encryption with an injected ephemeral key and IV.
    pub fn with(recipient: &PublicKey, ephemeral: &PrivateKey, iv: [u8; 16]) -> Self {
        let keys = derive_keys(ephemeral, recipient);
        SealParts {
            enc_key: keys.enc,
            mac_key: keys.mac,
            iv,
            ephemeral_pk: ephemeral.public_key().to_compressed(),
        }
    }

    /// What the MAC covers before the ciphertext: `iv ‖ ephemeral public key`.
    pub fn mac_prefix(&self) -> Vec<u8> {
        [&self.iv[..], &self.ephemeral_pk[..]].concat()
    }

    /// The cipher object for ciphertext `ct` and its MAC.
    pub fn finish(
        &self,
        ct: &[u8],
        mac: &[u8; 32],
        was_string: bool,
        encoding: CipherTextEncoding,
    ) -> CipherObject {
        let (cipher_text, cipher_text_encoding) = match encoding {
            CipherTextEncoding::Hex => (to_hex(ct), None),
            CipherTextEncoding::Base64 => (to_base64(ct), Some("base64".to_string())),
        };
        CipherObject {
            iv: to_hex(&self.iv),
            ephemeral_pk: to_hex(&self.ephemeral_pk),
            cipher_text,
            mac: to_hex(mac),
            was_string,
            cipher_text_encoding,
        }
    }
}

/// A decryption whose parsing and curve work are done: check `mac` (HMAC-SHA256 with
/// `mac_key` over `mac_input`) in constant time, then AES-256-CBC-decrypt `ciphertext()`
/// with `enc_key` and `iv`, then [`OpenParts::finish`]. [`decrypt_async`] runs the MAC
/// check and AES through a [`Bulk`] implementation.
pub struct OpenParts {
    /// AES-256-CBC key.
    pub enc_key: Zeroizing<[u8; 32]>,
    /// HMAC-SHA256 key.
    pub mac_key: Zeroizing<[u8; 32]>,
    /// The IV.
    pub iv: [u8; 16],
    /// `iv ‖ ephemeral key bytes as sent ‖ ciphertext`: what the MAC covers.
    pub mac_input: Vec<u8>,
    /// The MAC as sent.
    pub mac: Vec<u8>,
    ct_start: usize,
    was_string: bool,
}

impl OpenParts {
    /// Parses the cipher object's fields and derives the keys with `key`.
    pub fn new(key: &PrivateKey, obj: &CipherObject) -> Result<Self, EciesError> {
        let enc = |_: EncodingError, f| EciesError::Encoding(f);
        let iv = from_hex(&obj.iv).map_err(|e| enc(e, "iv"))?;
        let iv: [u8; 16] = iv.try_into().map_err(|_| EciesError::Encoding("iv"))?;
        let eph_bytes = from_hex(&obj.ephemeral_pk).map_err(|e| enc(e, "ephemeralPK"))?;
        let eph = PublicKey::from_sec1(&eph_bytes)?;
        let ct = match obj.cipher_text_encoding.as_deref() {
            None | Some("hex") => from_hex(&obj.cipher_text).map_err(|e| enc(e, "cipherText"))?,
            Some("base64") => from_base64(&obj.cipher_text).map_err(|e| enc(e, "cipherText"))?,
            Some(_) => return Err(EciesError::Encoding("cipherTextEncoding")),
        };
        let mac = from_hex(&obj.mac).map_err(|e| enc(e, "mac"))?;
        let keys = derive_keys(key, &eph);
        // The MAC covers the ephemeral key bytes exactly as sent (hex-decoded).
        let mac_input = [&iv[..], &eph_bytes, &ct].concat();
        Ok(OpenParts {
            enc_key: keys.enc,
            mac_key: keys.mac,
            iv,
            ct_start: 16 + eph_bytes.len(),
            mac_input,
            mac,
            was_string: obj.was_string,
        })
    }

    /// The ciphertext (the end of `mac_input`).
    pub fn ciphertext(&self) -> &[u8] {
        &self.mac_input[self.ct_start..]
    }

    /// The plaintext from the decrypted bytes, as the sender gave it (text or bytes).
    pub fn finish(&self, pt: Vec<u8>) -> Result<Plaintext, EciesError> {
        if self.was_string {
            String::from_utf8(pt)
                .map(Plaintext::Text)
                .map_err(|_| EciesError::NotUtf8)
        } else {
            Ok(Plaintext::Bytes(pt))
        }
    }
}

/// Decrypts a cipher object with the recipient's private key.
pub fn decrypt(key: &PrivateKey, obj: &CipherObject) -> Result<Plaintext, EciesError> {
    bulk::now(|b| decrypt_async(b, key, obj))
}

/// [`decrypt`] with the MAC check and AES run by `bulk`.
pub async fn decrypt_async(
    bulk: &impl Bulk,
    key: &PrivateKey,
    obj: &CipherObject,
) -> Result<Plaintext, EciesError> {
    let open = OpenParts::new(key, obj)?;
    let good = bulk
        .hmac_sha256_verify(&open.mac_key, &open.mac_input, &open.mac)
        .await
        .map_err(unavailable)?;
    if !good {
        return Err(EciesError::BadMac);
    }
    let pt = match bulk
        .cbc_decrypt(&open.enc_key, &open.iv, open.ciphertext())
        .await
    {
        Ok(pt) => pt,
        Err(BulkError::Rejected) => return Err(EciesError::Padding),
        Err(e) => return Err(unavailable(e)),
    };
    open.finish(pt.to_vec())
}

/// `encryptPrivateKey` (PROTOCOL.md §d.2): the app key's 64 hex characters encrypted to
/// the transit key, the cipher object's JSON hex-encoded again.
pub fn encrypt_private_key(
    transit: &PublicKey,
    app_key: &PrivateKey,
) -> Result<String, EciesError> {
    let (ephemeral, iv) = fresh_ephemeral()?;
    encrypt_private_key_with(transit, app_key, &ephemeral, iv)
}

/// `encryptPrivateKey` with injected randomness.
pub fn encrypt_private_key_with(
    transit: &PublicKey,
    app_key: &PrivateKey,
    ephemeral: &PrivateKey,
    iv: [u8; 16],
) -> Result<String, EciesError> {
    bulk::now(|b| encrypt_private_key_with_async(b, transit, app_key, ephemeral, iv))
}

/// [`encrypt_private_key_with`] with the AES and HMAC steps run by `bulk`.
pub async fn encrypt_private_key_with_async(
    bulk: &impl Bulk,
    transit: &PublicKey,
    app_key: &PrivateKey,
    ephemeral: &PrivateKey,
    iv: [u8; 16],
) -> Result<String, EciesError> {
    let hex = app_key.to_hex();
    let obj = encrypt_with_async(
        bulk,
        transit,
        hex.as_bytes(),
        true,
        CipherTextEncoding::Hex,
        ephemeral,
        iv,
    )
    .await?;
    Ok(to_hex(obj.to_json().as_bytes()))
}

/// `decryptPrivateKey`: hex → JSON cipher object → decrypt → must be a string of 64 hex
/// characters (a private key).
pub fn decrypt_private_key(transit: &PrivateKey, field: &str) -> Result<PrivateKey, EciesError> {
    let json = from_hex(field).map_err(|_| EciesError::Encoding("private_key"))?;
    let json = String::from_utf8(json).map_err(|_| EciesError::Encoding("private_key"))?;
    let obj = CipherObject::from_json(&json)?;
    match decrypt(transit, &obj)? {
        Plaintext::Text(t) => {
            let t = Zeroizing::new(t);
            Ok(PrivateKey::from_hex(&t)?)
        }
        Plaintext::Bytes(_) => Err(EciesError::Format(
            "the app key was not encrypted as a string".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn round_trip_both_encodings_and_tamper() {
        let k = PrivateKey::random().unwrap();
        for enc in [CipherTextEncoding::Hex, CipherTextEncoding::Base64] {
            let obj = encrypt(&k.public_key(), b"hello", true, enc).unwrap();
            assert_eq!(decrypt(&k, &obj).unwrap(), Plaintext::Text("hello".into()));
            let mut bad = obj.clone();
            bad.mac = "00".repeat(32);
            assert_eq!(decrypt(&k, &bad), Err(EciesError::BadMac));
        }
        let other = PrivateKey::random().unwrap();
        let obj = encrypt(&k.public_key(), &[0, 1, 2], false, CipherTextEncoding::Hex).unwrap();
        assert_eq!(decrypt(&other, &obj), Err(EciesError::BadMac));
        assert_eq!(decrypt(&k, &obj).unwrap(), Plaintext::Bytes(vec![0, 1, 2]));
    }

    #[test]
    fn rejects_malformed_objects() {
        let k = PrivateKey::random().unwrap();
        assert!(matches!(
            CipherObject::from_json("{}"),
            Err(EciesError::Format(_))
        ));
        let mut obj = encrypt(&k.public_key(), b"x", true, CipherTextEncoding::Hex).unwrap();
        obj.iv = "zz".into();
        assert_eq!(decrypt(&k, &obj), Err(EciesError::Encoding("iv")));
    }
}
