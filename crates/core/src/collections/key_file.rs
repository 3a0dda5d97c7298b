//! The key file handed to apps (`.collections.keys`): its entries, the key material of
//! a collection, writing and reading the encrypted file.

use super::CollectionError;
use super::HubContext;
use crate::collections::settings::AccessMode;
use crate::crypto::bulk::{self, Bulk};
use crate::crypto::ecies::{self, CipherObject, CipherTextEncoding, Plaintext};
use crate::json;
use crate::keys::keychain::Keychain;
use crate::keys::{PrivateKey, PublicKey};
use crate::protocol::gaia::HubConfig;
use crate::support::json;
use crate::support::json::{FieldError, Fields, Map, Value};
use std::collections::BTreeMap;

/// One collection's entry in an app's key file: the alpha's `encryptionKey` and
/// `hubConfig`, plus Cairn's `keyGeneration`, `previousKeys` and `mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileEntry {
    /// Hex private key of the current generation.
    pub encryption_key: String,
    /// Where and how to write (token empty for read-only grants).
    pub hub_config: HubConfig,
    /// The generation of `encryptionKey`.
    pub key_generation: u32,
    /// Older generations' keys, by generation number, to read files not yet
    /// re-encrypted.
    pub previous_keys: BTreeMap<String, String>,
    /// `"rw"` or `"read"`.
    pub mode: AccessMode,
}

impl KeyFileEntry {
    /// The entry as apps read it: `{encryptionKey, hubConfig, keyGeneration,
    /// previousKeys, mode}`.
    pub fn to_value(&self) -> Value {
        json!({
            "encryptionKey": self.encryption_key.as_str(),
            "hubConfig": self.hub_config.to_value(),
            "keyGeneration": self.key_generation,
            "previousKeys": &self.previous_keys,
            "mode": self.mode.as_str(),
        })
    }

    /// Reads an entry.
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a key file entry")?;
        Ok(KeyFileEntry {
            encryption_key: f.str("encryptionKey")?.to_string(),
            hub_config: HubConfig::from_value(f.req("hubConfig", "an object", Some)?)?,
            key_generation: f.u32("keyGeneration")?,
            previous_keys: f.string_map("previousKeys")?,
            mode: AccessMode::read(&f, "mode")?,
        })
    }
}

/// The key material of one collection for one identity.
pub struct CollectionKeys {
    /// Collection name.
    pub name: String,
    /// The bucket key (never given to apps).
    pub bucket_key: PrivateKey,
    /// Bucket address.
    pub address: String,
    /// Encryption keys of generations 0..=current, index = generation.
    pub generations: Vec<PrivateKey>,
}

impl CollectionKeys {
    /// Derives the bucket key and every encryption key up to `generation`.
    pub fn derive(
        keychain: &Keychain,
        identity: u32,
        name: &str,
        generation: u32,
    ) -> Result<Self, CollectionError> {
        let bucket_key = keychain.collection_bucket_key(identity, name)?;
        let generations = (0..=generation)
            .map(|g| keychain.collection_encryption_key(identity, name, g))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CollectionKeys {
            name: name.to_string(),
            address: bucket_key.public_key().address(),
            bucket_key,
            generations,
        })
    }

    /// The current generation number.
    pub fn generation(&self) -> u32 {
        (self.generations.len() as u32).saturating_sub(1)
    }

    /// The current encryption key.
    pub fn current(&self) -> &PrivateKey {
        // `derive` always yields at least generation 0.
        &self.generations[self.generations.len() - 1]
    }

    /// The key-file entry for an app with `mode`; `token` is the app's collection token
    /// (ignored for read-only grants, which get an empty token).
    pub fn key_file_entry(&self, hub: &HubContext, mode: AccessMode, token: &str) -> KeyFileEntry {
        let g = self.generation();
        // Inserted one by one: collecting into a BTreeMap would bring in another sort.
        let mut previous_keys = BTreeMap::new();
        for (i, k) in self.generations[..g as usize].iter().enumerate() {
            previous_keys.insert(i.to_string(), k.to_hex().to_string());
        }
        KeyFileEntry {
            encryption_key: self.current().to_hex().to_string(),
            hub_config: HubConfig {
                url_prefix: hub.read_url_prefix.clone(),
                address: self.address.clone(),
                token: match mode {
                    AccessMode::ReadWrite => token.to_string(),
                    AccessMode::Read => String::new(),
                },
                server: hub.hub_url.clone(),
            },
            key_generation: g,
            previous_keys,
            mode,
        }
    }

    /// Re-encrypts a collection file body to the current generation. `Ok(None)` when it
    /// already is (so a resumed re-encryption skips it); the new body otherwise.
    pub fn reencrypt(&self, path: &str, body: &str) -> Result<Option<String>, CollectionError> {
        bulk::now(|b| self.reencrypt_async(b, path, body))
    }

    /// [`CollectionKeys::reencrypt`] with the AES and HMAC steps run by `bulk`.
    pub async fn reencrypt_async(
        &self,
        bulk: &impl Bulk,
        path: &str,
        body: &str,
    ) -> Result<Option<String>, CollectionError> {
        let obj = CipherObject::from_json(body)
            .map_err(|_| CollectionError::Undecryptable(path.to_string()))?;
        let current = self.current();
        if ecies::decrypt_async(bulk, current, &obj).await.is_ok() {
            return Ok(None);
        }
        for key in self.generations.iter().rev().skip(1) {
            if let Ok(plain) = ecies::decrypt_async(bulk, key, &obj).await {
                let (bytes, was_string) = match plain {
                    Plaintext::Text(t) => (t.into_bytes(), true),
                    Plaintext::Bytes(b) => (b, false),
                };
                let encoding = if obj.cipher_text_encoding.as_deref() == Some("base64") {
                    CipherTextEncoding::Base64
                } else {
                    CipherTextEncoding::Hex
                };
                let new =
                    ecies::encrypt_async(bulk, &current.public_key(), &bytes, was_string, encoding)
                        .await
                        .map_err(|e| CollectionError::Format(e.to_string()))?;
                return Ok(Some(new.to_json()));
            }
        }
        Err(CollectionError::Undecryptable(path.to_string()))
    }

    /// Decrypts a collection file with whichever generation opens it.
    pub fn decrypt(&self, path: &str, body: &str) -> Result<(u32, Plaintext), CollectionError> {
        let obj = CipherObject::from_json(body)
            .map_err(|_| CollectionError::Undecryptable(path.to_string()))?;
        for (g, key) in self.generations.iter().enumerate().rev() {
            if let Ok(p) = ecies::decrypt(key, &obj) {
                return Ok((g as u32, p));
            }
        }
        Err(CollectionError::Undecryptable(path.to_string()))
    }
}

/// Sets (`Some`) or removes (`None`) collection entries in an app's key file and returns
/// the new encrypted body. `existing` is the current body, if the file exists; entries
/// for other collections are kept as they are.
pub fn update_key_file(
    existing: Option<&str>,
    app_key: &PrivateKey,
    changes: &[(&str, Option<&KeyFileEntry>)],
) -> Result<String, CollectionError> {
    bulk::now(|b| update_key_file_async(b, existing, app_key, changes))
}

/// [`update_key_file`] with the AES and HMAC steps run by `bulk`.
pub async fn update_key_file_async(
    bulk: &impl Bulk,
    existing: Option<&str>,
    app_key: &PrivateKey,
    changes: &[(&str, Option<&KeyFileEntry>)],
) -> Result<String, CollectionError> {
    let mut file: Map<String, Value> = match existing {
        None => Map::new(),
        Some(body) => {
            let obj = CipherObject::from_json(body).map_err(CollectionError::KeyFile)?;
            let plain = ecies::decrypt_async(bulk, app_key, &obj).await;
            match plain.map_err(CollectionError::KeyFile)? {
                Plaintext::Text(t) => match crate::support::json::from_str(&t) {
                    Ok(Value::Object(m)) => m,
                    _ => return Err(CollectionError::Format("key file is not an object".into())),
                },
                Plaintext::Bytes(_) => {
                    return Err(CollectionError::Format("key file is not text".into()));
                }
            }
        }
    };
    for (name, entry) in changes {
        match entry {
            Some(e) => {
                file.insert((*name).to_string(), e.to_value());
            }
            None => {
                file.remove(name);
            }
        }
    }
    let text = json::to_string(&Value::Object(file));
    ecies::encrypt_async(
        bulk,
        &app_key.public_key(),
        text.as_bytes(),
        true,
        CipherTextEncoding::Hex,
    )
    .await
    .map(|o| o.to_json())
    .map_err(|e| CollectionError::Format(e.to_string()))
}

/// Reads an app's key file (as the app would) into its entries.
pub fn read_key_file(
    body: &str,
    app_key: &PrivateKey,
) -> Result<BTreeMap<String, Value>, CollectionError> {
    let obj = CipherObject::from_json(body).map_err(CollectionError::KeyFile)?;
    match ecies::decrypt(app_key, &obj).map_err(CollectionError::KeyFile)? {
        Plaintext::Text(t) => match json::from_str(&t) {
            Ok(Value::Object(m)) => {
                let mut entries = BTreeMap::new();
                for (k, v) in m {
                    entries.insert(k, v);
                }
                Ok(entries)
            }
            Ok(_) => Err(CollectionError::Format("key file is not an object".into())),
            Err(e) => Err(CollectionError::Format(e.to_string())),
        },
        Plaintext::Bytes(_) => Err(CollectionError::Format("key file is not text".into())),
    }
}

/// Checks a public key against the current generation (used by tests and the runner to
/// confirm an app's key file is current).
pub fn is_current_key(keys: &CollectionKeys, public_key: &PublicKey) -> bool {
    keys.current().public_key() == *public_key
}
