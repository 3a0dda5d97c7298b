//! Collections (COLLECTIONS.md): the key file handed to apps (`.collections.keys`), the
//! tokens apps and the authenticator use on a collection bucket, re-encryption of
//! collection files, and the revocation plan.
//!
//! Everything is pure: the browser runner fetches and stores; this module decides what
//! to write.

pub mod files;
pub mod history;
pub mod settings;

use crate::collections::settings::{AccessMode, Grant, LogEntry, Settings};
use crate::crypto::bulk::{self, Bulk};
use crate::crypto::ecies::{self, CipherObject, CipherTextEncoding, EciesError, Plaintext};
use crate::json;
use crate::keys::keychain::{Keychain, KeychainError};
use crate::keys::{PrivateKey, PublicKey};
use crate::protocol::gaia::{HubConfig, Scope, V1TokenOptions, make_v1_token};
use crate::support::encoding::to_hex;
use crate::support::json;
use crate::support::json::{FieldError, Fields, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The key file's name in each app's bucket (the alpha's name).
pub const KEY_FILE_NAME: &str = ".collections.keys";

/// Items live under `collection/` in a collection bucket (the alpha writes
/// `collection/<identifier>`).
pub const ITEM_PREFIX: &str = "collection";

/// The `putFileArchivalPrefix` domain of collection tokens: [`ITEM_PREFIX`] and a slash.
/// Hubs match scope prefixes as plain string prefixes, so without the slash a token
/// would also allow `collectionX/…` and `collection.json` beside the collection.
pub const ITEM_SCOPE: &str = "collection/";

/// Why a collections operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectionError {
    /// Key derivation failed (bad identity index or collection name).
    Keychain(KeychainError),
    /// The existing key file cannot be decrypted with the app key.
    KeyFile(EciesError),
    /// A file is not a cipher object any generation's key can open.
    Undecryptable(String),
    /// The collection is unknown or the app holds no grant to it.
    NoSuchGrant {
        /// Collection name.
        collection: String,
        /// App origin.
        app: String,
    },
    /// The file is malformed.
    Format(String),
}

impl fmt::Display for CollectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectionError::Keychain(e) => e.fmt(f),
            CollectionError::KeyFile(e) => write!(f, "the app's key file cannot be read: {e}"),
            CollectionError::Undecryptable(path) => write!(
                f,
                "{path} cannot be decrypted with any key of its collection; it was left as it is"
            ),
            CollectionError::NoSuchGrant { collection, app } => {
                write!(f, "{app} has no access to the {collection} collection")
            }
            CollectionError::Format(why) => write!(f, "malformed collection data: {why}"),
        }
    }
}

impl std::error::Error for CollectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CollectionError::Keychain(e) => Some(e),
            CollectionError::KeyFile(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeychainError> for CollectionError {
    fn from(e: KeychainError) -> Self {
        CollectionError::Keychain(e)
    }
}

/// What the runner learned from the hub (`/hub_info`) and where it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubContext {
    /// Hub write URL.
    pub hub_url: String,
    /// `read_url_prefix`.
    pub read_url_prefix: String,
    /// `challenge_text`.
    pub challenge_text: String,
}

/// The token an app gets for a collection bucket: signed by the bucket key, scoped to
/// archival writes under `collection` (every overwrite keeps a history copy), with an
/// `iat` so a later revoke-all kills it, and a per-app salt.
pub fn app_collection_token(
    bucket_key: &PrivateKey,
    hub: &HubContext,
    iat: u64,
    salt: [u8; 16],
) -> String {
    make_v1_token(
        bucket_key,
        &hub.challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub.hub_url.clone()),
            scopes: vec![Scope::new("putFileArchivalPrefix", ITEM_SCOPE)],
            iat: Some(iat),
            salt: Some(salt),
            ..Default::default()
        },
    )
}

/// The authenticator's own token for a bucket: unscoped (it may rewrite in place and see
/// history files), with an `iat`.
pub fn owner_token(key: &PrivateKey, hub: &HubContext, iat: u64) -> String {
    make_v1_token(
        key,
        &hub.challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub.hub_url.clone()),
            iat: Some(iat),
            ..Default::default()
        },
    )
}

/// The authenticator's archival token for a bucket (rollback, restore, undo): every
/// write it makes keeps the replaced version as history.
pub fn owner_archival_token(key: &PrivateKey, hub: &HubContext, iat: u64) -> String {
    make_v1_token(
        key,
        &hub.challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub.hub_url.clone()),
            scopes: vec![Scope::new("putFileArchivalPrefix", ITEM_SCOPE)],
            iat: Some(iat),
            ..Default::default()
        },
    )
}

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

/// A random 16-byte token salt.
pub fn random_salt() -> [u8; 16] {
    let mut s = [0u8; 16];
    // Salts are not secret; a failing RNG leaves zeros, still a valid token.
    let _ = getrandom::fill(&mut s);
    s
}

/// Records a grant in the settings (new or changed mode), returning the token salt and
/// `iat` to mint the app's token with.
pub fn record_grant(
    settings: &mut Settings,
    collection: &str,
    app: &str,
    mode: AccessMode,
    now_ms: i64,
    salt: [u8; 16],
) -> Grant {
    let state = settings
        .collections
        .entry(collection.to_string())
        .or_default();
    let iat = now_ms.div_euclid(1000).max(state.revoked_before);
    let grant = Grant {
        app: app.to_string(),
        mode,
        granted_at: now_ms,
        token_salt: to_hex(&salt),
        token_iat: iat,
    };
    let event = match state.grants.iter_mut().find(|g| g.app == app) {
        Some(existing) => {
            let changed = existing.mode != mode;
            existing.mode = mode;
            existing.token_salt = grant.token_salt.clone();
            existing.token_iat = iat;
            if changed {
                "mode_change"
            } else {
                "grant_refresh"
            }
        }
        None => {
            state.grants.push(grant.clone());
            "grant"
        }
    };
    settings.log.push(LogEntry {
        at: now_ms,
        event: event.into(),
        collection: Some(collection.to_string()),
        app: Some(app.to_string()),
        detail: Some(mode.label().to_string()),
    });
    grant
}

/// A revocation in progress: one app loses access to one collection (COLLECTIONS.md §6).
/// Stored in the settings journal; every step is safe to repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Always `"revoke"` (journal entries are tagged).
    pub op: String,
    /// Collection name.
    pub collection: String,
    /// The app losing access.
    pub app: String,
    /// Its mode before revocation.
    pub mode: AccessMode,
    /// Generation before.
    pub from_generation: u32,
    /// Generation after.
    pub to_generation: u32,
    /// `oldestValidTimestamp` for revoke-all; fresh tokens use it as `iat`.
    pub oldest_valid: i64,
    /// Re-encrypt current files (default true).
    pub reencrypt_current: bool,
    /// Re-encrypt history files too.
    pub reencrypt_history: bool,
    /// Steps completed (see [`RevocationStep`]), in order.
    pub done: Vec<String>,
    /// Files re-encrypted so far (for the progress bar; not needed to resume).
    pub files_done: u64,
    /// Files to look at, once listed.
    pub files_total: u64,
    /// When it started, ms.
    pub started_at: i64,
    /// A downgrade to read-only rather than a revocation: the app keeps a read-only
    /// entry (current key, empty token) instead of losing its entry.
    pub downgrade: bool,
    /// Token salts (hex) minted for the apps that keep write access, by origin, so
    /// that a resumed run records the salts of the tokens it actually handed out.
    pub new_salts: BTreeMap<String, String>,
}

/// The fixed steps of a revocation (file re-encryption is one step with its own
/// progress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStep {
    /// `POST /revoke-all` on the collection bucket.
    RevokeAll,
    /// Mint a fresh token and rewrite the key file of each remaining app.
    RewriteKeyFiles,
    /// Remove the collection from the revoked app's key file.
    RemoveRevokedEntry,
    /// Re-encrypt files to the new generation.
    ReEncrypt,
    /// Clear the journal entry and log the revocation.
    Finish,
}

impl RevocationStep {
    /// All steps in order.
    pub const ALL: [RevocationStep; 5] = [
        RevocationStep::RevokeAll,
        RevocationStep::RewriteKeyFiles,
        RevocationStep::RemoveRevokedEntry,
        RevocationStep::ReEncrypt,
        RevocationStep::Finish,
    ];

    /// Journal name of the step.
    pub fn name(&self) -> &'static str {
        match self {
            RevocationStep::RevokeAll => "revoke_all",
            RevocationStep::RewriteKeyFiles => "rewrite_key_files",
            RevocationStep::RemoveRevokedEntry => "remove_revoked_entry",
            RevocationStep::ReEncrypt => "reencrypt",
            RevocationStep::Finish => "finish",
        }
    }
}

impl Revocation {
    /// Starts a revocation: bumps the collection's generation and removes the grant in
    /// `settings`, and returns the journal entry to store with them (step 1 of §6).
    /// `oldest_valid` lies past every `iat` handed out for this bucket so far.
    pub fn start(
        settings: &mut Settings,
        collection: &str,
        app: &str,
        now_ms: i64,
        reencrypt_current: bool,
        reencrypt_history: bool,
    ) -> Result<Revocation, CollectionError> {
        Self::begin(
            settings,
            collection,
            app,
            now_ms,
            reencrypt_current,
            reencrypt_history,
            false,
        )
    }

    /// Starts a downgrade of `app` from read-and-write to read-only: the same rotation
    /// as a revocation (its write token must die), but the app keeps a read-only grant
    /// and gets the new key with an empty token.
    pub fn start_downgrade(
        settings: &mut Settings,
        collection: &str,
        app: &str,
        now_ms: i64,
        reencrypt_current: bool,
        reencrypt_history: bool,
    ) -> Result<Revocation, CollectionError> {
        Self::begin(
            settings,
            collection,
            app,
            now_ms,
            reencrypt_current,
            reencrypt_history,
            true,
        )
    }

    fn begin(
        settings: &mut Settings,
        collection: &str,
        app: &str,
        now_ms: i64,
        reencrypt_current: bool,
        reencrypt_history: bool,
        downgrade: bool,
    ) -> Result<Revocation, CollectionError> {
        let no_grant = || CollectionError::NoSuchGrant {
            collection: collection.to_string(),
            app: app.to_string(),
        };
        let state = settings
            .collections
            .get_mut(collection)
            .ok_or_else(no_grant)?;
        let pos = state
            .grants
            .iter()
            .position(|g| g.app == app)
            .ok_or_else(no_grant)?;
        if downgrade && state.grants[pos].mode == AccessMode::Read {
            return Err(CollectionError::Format(format!(
                "{app} already has read-only access to {collection}"
            )));
        }
        let newest_iat = state
            .grants
            .iter()
            .map(|g| g.token_iat)
            .chain([state.revoked_before])
            .max()
            .unwrap_or(0);
        let removed = if downgrade {
            let g = &mut state.grants[pos];
            let before = g.clone();
            g.mode = AccessMode::Read;
            g.token_salt = String::new();
            before
        } else {
            state.grants.remove(pos)
        };
        let oldest_valid = (now_ms.div_euclid(1000)).max(newest_iat + 1);
        let from = state.generation;
        state.generation = from + 1;
        state.revoked_before = oldest_valid;
        let r = Revocation {
            op: "revoke".into(),
            collection: collection.to_string(),
            app: app.to_string(),
            mode: removed.mode,
            from_generation: from,
            to_generation: from + 1,
            oldest_valid,
            reencrypt_current,
            reencrypt_history,
            done: Vec::new(),
            files_done: 0,
            files_total: 0,
            started_at: now_ms,
            downgrade,
            new_salts: BTreeMap::new(),
        };
        settings.journal.push(r.to_value());
        Ok(r)
    }

    /// The journal form.
    pub fn to_value(&self) -> Value {
        json!({
            "op": self.op.as_str(),
            "collection": self.collection.as_str(),
            "app": self.app.as_str(),
            "mode": self.mode.as_str(),
            "fromGeneration": self.from_generation,
            "toGeneration": self.to_generation,
            "oldestValid": self.oldest_valid,
            "reencryptCurrent": self.reencrypt_current,
            "reencryptHistory": self.reencrypt_history,
            "done": self.done.clone(),
            "filesDone": self.files_done,
            "filesTotal": self.files_total,
            "startedAt": self.started_at,
            "downgrade": self.downgrade,
            "newSalts": &self.new_salts,
        })
    }

    /// Reads the journal form.
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a revocation")?;
        Ok(Revocation {
            op: f.str("op")?.to_string(),
            collection: f.str("collection")?.to_string(),
            app: f.str("app")?.to_string(),
            mode: AccessMode::read(&f, "mode")?,
            from_generation: f.u32("fromGeneration")?,
            to_generation: f.u32("toGeneration")?,
            oldest_valid: f.i64("oldestValid")?,
            reencrypt_current: f.bool("reencryptCurrent")?,
            reencrypt_history: f.bool("reencryptHistory")?,
            done: f.list("done", "a list of strings", |v| {
                v.as_str().map(str::to_string)
            })?,
            files_done: f.u64("filesDone")?,
            files_total: f.u64("filesTotal")?,
            started_at: f.i64("startedAt")?,
            downgrade: f
                .opt("downgrade", "true or false", Value::as_bool)?
                .unwrap_or(false),
            new_salts: f.string_map("newSalts")?,
        })
    }

    /// Revocations found in a settings journal (to resume on unlock).
    pub fn pending(settings: &Settings) -> Vec<Revocation> {
        settings
            .journal
            .iter()
            .filter(|v| v.get("op").and_then(Value::as_str) == Some("revoke"))
            .filter_map(|v| Revocation::from_value(v).ok())
            .collect()
    }

    /// The next step not yet done, or `None` when finished.
    pub fn next_step(&self) -> Option<RevocationStep> {
        RevocationStep::ALL
            .into_iter()
            .find(|s| !self.done.iter().any(|d| d == s.name()))
    }

    /// Marks a step done.
    pub fn complete(&mut self, step: &RevocationStep) {
        if !self.done.iter().any(|d| d == step.name()) {
            self.done.push(step.name().to_string());
        }
    }

    /// Whether a listed file needs re-encryption under this revocation's options.
    pub fn wants_file(&self, path: &str) -> bool {
        if !path.starts_with(&format!("{ITEM_PREFIX}/")) {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with(".history.") {
            self.reencrypt_history
        } else {
            self.reencrypt_current
        }
    }

    /// Writes this revocation's progress into the settings journal.
    pub fn save_progress(&self, settings: &mut Settings) {
        let v = self.to_value();
        match settings.journal.iter_mut().find(|e| self.same_entry(e)) {
            Some(e) => *e = v,
            None => settings.journal.push(v),
        }
    }

    fn same_entry(&self, e: &Value) -> bool {
        e.get("op").and_then(Value::as_str) == Some("revoke")
            && e.get("collection").and_then(Value::as_str) == Some(&self.collection)
            && e.get("app").and_then(Value::as_str) == Some(&self.app)
            && e.get("toGeneration").and_then(Value::as_u64) == Some(self.to_generation as u64)
    }

    /// Finishes: removes the journal entry, refreshes the remaining grants' token salts
    /// and `iat`, and logs the revocation.
    pub fn finish(
        &self,
        settings: &mut Settings,
        new_salts: &BTreeMap<String, String>,
        now_ms: i64,
    ) {
        settings.journal.retain(|e| !self.same_entry(e));
        if let Some(state) = settings.collections.get_mut(&self.collection) {
            for g in state.grants.iter_mut() {
                if let Some(s) = new_salts.get(&g.app).or_else(|| self.new_salts.get(&g.app)) {
                    g.token_salt = s.clone();
                    g.token_iat = self.oldest_valid;
                }
            }
        }
        settings.log.push(LogEntry {
            at: now_ms,
            event: if self.downgrade {
                "downgrade"
            } else {
                "revoke"
            }
            .into(),
            collection: Some(self.collection.clone()),
            app: Some(self.app.clone()),
            detail: Some(format!(
                "key generation {} → {}; {} file(s) on the new key",
                self.from_generation, self.to_generation, self.files_done
            )),
        });
    }
}

impl Revocation {
    /// What the UI calls this operation: "Revocation" or "Downgrade".
    pub fn kind(&self) -> &'static str {
        if self.downgrade {
            "Making read-only"
        } else {
            "Revocation"
        }
    }

    /// The apps whose key file gets the new generation (step 3): every grant left in
    /// the settings, each with its mode (a downgraded app is among them, read-only).
    pub fn key_file_targets(&self, settings: &Settings) -> Vec<(String, AccessMode)> {
        settings
            .collections
            .get(&self.collection)
            .map(|s| s.grants.iter().map(|g| (g.app.clone(), g.mode)).collect())
            .unwrap_or_default()
    }

    /// The salt of the fresh token for `app`: the one already chosen (a resumed run
    /// reuses it), else `fresh`, remembered in [`Revocation::new_salts`].
    pub fn salt_for(&mut self, app: &str, fresh: [u8; 16]) -> [u8; 16] {
        if let Some(hex) = self.new_salts.get(app)
            && let Ok(bytes) = crate::support::encoding::from_hex(hex)
            && let Ok(salt) = <[u8; 16]>::try_from(bytes.as_slice())
        {
            return salt;
        }
        self.new_salts.insert(app.to_string(), to_hex(&fresh));
        fresh
    }

    /// Progress as (done, total) for the progress bar.
    pub fn progress(&self) -> (u64, u64) {
        (self.files_done.min(self.files_total), self.files_total)
    }

    /// The line the UI shows while it runs; `resumed` says so plainly.
    pub fn status_line(&self, app_name: &str, resumed: bool) -> String {
        let what = if self.downgrade {
            format!("making {app_name} read-only on {}", self.collection)
        } else {
            format!("revocation of {app_name} from {}", self.collection)
        };
        if resumed {
            format!("Resuming {what}…")
        } else {
            let mut s = what;
            if let Some(first) = s.get(..1) {
                let up = first.to_ascii_uppercase();
                s.replace_range(..1, &up);
            }
            format!("{s}…")
        }
    }
}

/// The `iat` of the authenticator's own tokens for a collection bucket: now, but never
/// before the bucket's revoke-all timestamp.
pub fn owner_iat(settings: &Settings, collection: &str, now_ms: i64) -> u64 {
    let revoked = settings
        .collections
        .get(collection)
        .map(|s| s.revoked_before)
        .unwrap_or(0);
    now_ms.div_euclid(1000).max(revoked).max(0) as u64
}

/// One collection handed to an app at sign-in or by "Grant …": what the key file gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOff {
    /// Collection name.
    pub collection: String,
    /// The generation current in the settings.
    pub generation: u32,
    /// The grant as recorded (mode, salt, iat).
    pub grant: Grant,
}

impl HandOff {
    /// The key-file entry of this hand-off: keys of its generation and, for a
    /// read-and-write grant, a fresh archival token with the recorded salt and `iat`.
    pub fn entry(
        &self,
        keychain: &Keychain,
        identity: u32,
        hub: &HubContext,
    ) -> Result<KeyFileEntry, CollectionError> {
        let keys = CollectionKeys::derive(keychain, identity, &self.collection, self.generation)?;
        let token = match self.grant.mode {
            AccessMode::ReadWrite => {
                let salt = crate::support::encoding::from_hex(&self.grant.token_salt)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| CollectionError::Format("bad token salt".into()))?;
                app_collection_token(
                    &keys.bucket_key,
                    hub,
                    self.grant.token_iat.max(0) as u64,
                    salt,
                )
            }
            AccessMode::Read => String::new(),
        };
        Ok(keys.key_file_entry(hub, self.grant.mode, &token))
    }
}

/// Grants `app` each of `collections` in `settings` (sign-in or "Grant … to …") and
/// returns the hand-offs to write into its key file. An app that already has
/// read-and-write access and now asks for read-only keeps read-and-write (taking
/// write away is a downgrade, which needs a rotation: see
/// [`Revocation::start_downgrade`]).
pub fn grant_collections(
    settings: &mut Settings,
    app: &str,
    collections: &[(String, AccessMode)],
    now_ms: i64,
    mut salt: impl FnMut() -> [u8; 16],
) -> Vec<HandOff> {
    collections
        .iter()
        .map(|(name, asked)| {
            let existing = settings
                .collections
                .get(name)
                .and_then(|s| s.grants.iter().find(|g| g.app == app))
                .map(|g| g.mode);
            let mode = match (existing, asked) {
                (Some(AccessMode::ReadWrite), AccessMode::Read) => AccessMode::ReadWrite,
                _ => *asked,
            };
            let grant = record_grant(settings, name, app, mode, now_ms, salt());
            let grant = settings
                .collections
                .get(name)
                .and_then(|s| s.grants.iter().find(|g| g.app == app))
                .cloned()
                .unwrap_or(grant);
            HandOff {
                collection: name.clone(),
                generation: settings
                    .collections
                    .get(name)
                    .map(|s| s.generation)
                    .unwrap_or(0),
                grant,
            }
        })
        .collect()
}

/// One row of the permission manager: an app with access to a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// App origin.
    pub origin: String,
    /// Name to show.
    pub name: String,
    /// Its mode.
    pub mode: AccessMode,
    /// Granted when (ms).
    pub granted_at: i64,
    /// Last sign-in (ms), if it is a connected app.
    pub last_sign_in: Option<i64>,
}

/// One collection section of the permission manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionView {
    /// Collection name.
    pub name: String,
    /// Current key generation.
    pub generation: u32,
    /// Apps with access.
    pub rows: Vec<GrantRow>,
}

/// One connected app in the permission manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppView {
    /// Origin.
    pub origin: String,
    /// Name to show.
    pub name: String,
    /// Scopes granted at its last sign-in.
    pub scopes: Vec<String>,
    /// Collections it can use, with mode.
    pub collections: Vec<(String, AccessMode)>,
    /// Known collections it could be granted.
    pub grantable: Vec<String>,
}

/// The permission manager's model, computed from the settings.
pub fn permission_view(settings: &Settings) -> (Vec<CollectionView>, Vec<AppView>) {
    let name_of = |origin: &str| {
        settings
            .app(origin)
            .map(|a| a.display_name().to_string())
            .unwrap_or_else(|| origin.to_string())
    };
    let collections = settings
        .collections
        .iter()
        .map(|(name, state)| CollectionView {
            name: name.clone(),
            generation: state.generation,
            rows: state
                .grants
                .iter()
                .map(|g| GrantRow {
                    origin: g.app.clone(),
                    name: name_of(&g.app),
                    mode: g.mode,
                    granted_at: g.granted_at,
                    last_sign_in: settings.app(&g.app).map(|a| a.last_sign_in),
                })
                .collect(),
        })
        .collect();
    let apps = settings
        .apps
        .iter()
        .map(|a| {
            let have: Vec<(String, AccessMode)> = settings
                .collections
                .iter()
                .filter_map(|(n, s)| {
                    s.grants
                        .iter()
                        .find(|g| g.app == a.origin)
                        .map(|g| (n.clone(), g.mode))
                })
                .collect();
            AppView {
                origin: a.origin.clone(),
                name: a.display_name().to_string(),
                scopes: a.scopes.clone(),
                grantable: settings
                    .collections
                    .keys()
                    .filter(|n| !have.iter().any(|(h, _)| h == *n))
                    .cloned()
                    .collect(),
                collections: have,
            }
        })
        .collect();
    (collections, apps)
}

/// Checks a public key against the current generation (used by tests and the runner to
/// confirm an app's key file is current).
pub fn is_current_key(keys: &CollectionKeys, public_key: &PublicKey) -> bool {
    keys.current().public_key() == *public_key
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn hub() -> HubContext {
        HubContext {
            hub_url: "http://127.0.0.1:4000".into(),
            read_url_prefix: "http://127.0.0.1:4000/read/".into(),
            challenge_text: crate::protocol::gaia::challenge_text("localhost"),
        }
    }

    #[test]
    fn key_file_entries_follow_the_alpha_format_and_modes() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let keys = CollectionKeys::derive(&kc, 0, "contact", 2).unwrap();
        assert_eq!(keys.address, "1AKsY2se4vQqgGrPZ3ttvT2PMyMzVxYWWf");
        let token = app_collection_token(&keys.bucket_key, &hub(), 100, [1; 16]);
        let rw = keys.key_file_entry(&hub(), AccessMode::ReadWrite, &token);
        assert_eq!(rw.key_generation, 2);
        assert_eq!(rw.previous_keys.len(), 2);
        assert_eq!(
            rw.previous_keys["0"],
            *kc.collection_encryption_key(0, "contact", 0)
                .unwrap()
                .to_hex()
        );
        assert_eq!(rw.hub_config.token, token);
        let ro = keys.key_file_entry(&hub(), AccessMode::Read, &token);
        assert_eq!(ro.hub_config.token, "");
        let v = rw.to_value();
        let keys_in_order: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys_in_order,
            [
                "encryptionKey",
                "hubConfig",
                "keyGeneration",
                "previousKeys",
                "mode"
            ]
        );
        let d = crate::protocol::jwt::decode(token.strip_prefix("v1:").unwrap()).unwrap();
        assert_eq!(d.payload["scopes"][0]["scope"], "putFileArchivalPrefix");
        assert_eq!(d.payload["iat"], 100);
    }

    #[test]
    fn collection_tokens_cover_only_the_collection_folder() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let key = kc.collection_bucket_key(0, "contact").unwrap();
        for token in [
            app_collection_token(&key, &hub(), 100, [7; 16]),
            owner_archival_token(&key, &hub(), 100),
        ] {
            let d = crate::protocol::jwt::decode(token.strip_prefix("v1:").unwrap()).unwrap();
            let scopes = d.payload["scopes"].as_array().unwrap();
            assert_eq!(scopes.len(), 1);
            assert_eq!(scopes[0]["scope"], "putFileArchivalPrefix");
            let domain = scopes[0]["domain"].as_str().unwrap();
            assert_eq!(domain, "collection/");
            // Gaia hubs grant a prefix scope to every path that starts with its domain.
            let granted = |path: &str| path.starts_with(domain);
            // What blockstack-collections writes: `collection/<identifier>`.
            assert!(granted("collection/Ada Lovelace"));
            assert!(granted("collection/.history.1.x"));
            for outside in [
                "collectionX/a",
                "collection.json",
                "collections/a",
                "collection",
            ] {
                assert!(!granted(outside), "{outside}");
            }
        }
    }

    #[test]
    fn key_file_update_keeps_other_entries() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let app = kc.app_private_key(0, "https://a.example").unwrap();
        let c = CollectionKeys::derive(&kc, 0, "contact", 0).unwrap();
        let p = CollectionKeys::derive(&kc, 0, "photo", 0).unwrap();
        let ec = c.key_file_entry(&hub(), AccessMode::ReadWrite, "v1:x");
        let ep = p.key_file_entry(&hub(), AccessMode::Read, "");
        let body =
            update_key_file(None, &app, &[("contact", Some(&ec)), ("photo", Some(&ep))]).unwrap();
        let body = update_key_file(Some(&body), &app, &[("contact", None)]).unwrap();
        let read = read_key_file(&body, &app).unwrap();
        assert_eq!(read.keys().collect::<Vec<_>>(), ["photo"]);
        let other = kc.app_private_key(0, "https://b.example").unwrap();
        assert!(matches!(
            update_key_file(Some(&body), &other, &[]),
            Err(CollectionError::KeyFile(_))
        ));
    }

    #[test]
    fn reencrypt_moves_old_generations_and_skips_current() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let old = CollectionKeys::derive(&kc, 0, "contact", 0).unwrap();
        let new = CollectionKeys::derive(&kc, 0, "contact", 1).unwrap();
        let body = ecies::encrypt(
            &old.current().public_key(),
            b"{\"a\":1}",
            true,
            CipherTextEncoding::Hex,
        )
        .unwrap()
        .to_json();
        let moved = new.reencrypt("collection/a", &body).unwrap().unwrap();
        assert!(ecies::decrypt(old.current(), &CipherObject::from_json(&moved).unwrap()).is_err());
        assert_eq!(new.decrypt("collection/a", &moved).unwrap().0, 1);
        assert_eq!(new.reencrypt("collection/a", &moved).unwrap(), None);
        assert!(matches!(
            new.reencrypt("collection/x", "not json"),
            Err(CollectionError::Undecryptable(_))
        ));
    }

    #[test]
    fn revocation_bumps_generation_and_resumes_from_journal() {
        let mut s = Settings::default();
        record_grant(
            &mut s,
            "contact",
            "https://a.example",
            AccessMode::ReadWrite,
            5_000_000,
            [1; 16],
        );
        record_grant(
            &mut s,
            "contact",
            "https://b.example",
            AccessMode::Read,
            5_000_000,
            [2; 16],
        );
        let mut r = Revocation::start(
            &mut s,
            "contact",
            "https://a.example",
            5_000_000,
            true,
            false,
        )
        .unwrap();
        assert_eq!((r.from_generation, r.to_generation), (0, 1));
        // Past every iat handed out (5000), even at the same second.
        assert_eq!(r.oldest_valid, 5001);
        assert_eq!(s.collections["contact"].generation, 1);
        assert_eq!(s.collections["contact"].grants.len(), 1);
        assert_eq!(r.next_step(), Some(RevocationStep::RevokeAll));
        r.complete(&RevocationStep::RevokeAll);
        r.save_progress(&mut s);
        // A reload finds it and continues where it stopped.
        let resumed = Revocation::pending(&s);
        assert_eq!(resumed.len(), 1);
        assert_eq!(
            resumed[0].next_step(),
            Some(RevocationStep::RewriteKeyFiles)
        );
        assert!(r.wants_file("collection/x"));
        assert!(!r.wants_file("collection/.history.1.abc.x"));
        assert!(!r.wants_file("other/x"));
        let mut salts = BTreeMap::new();
        salts.insert("https://b.example".to_string(), "ff".to_string());
        r.finish(&mut s, &salts, 6_000_000);
        assert!(Revocation::pending(&s).is_empty());
        assert_eq!(s.collections["contact"].grants[0].token_iat, 5001);
        assert_eq!(s.log.last().unwrap().event, "revoke");
        // A grant after the revocation gets an iat the revoke-all accepts.
        let g = record_grant(
            &mut s,
            "contact",
            "https://c.example",
            AccessMode::ReadWrite,
            1_000,
            [3; 16],
        );
        assert_eq!(g.token_iat, 5001);
        assert!(matches!(
            Revocation::start(&mut s, "contact", "https://zzz.example", 1, true, true),
            Err(CollectionError::NoSuchGrant { .. })
        ));
    }

    #[test]
    fn downgrade_rotates_and_keeps_a_read_only_grant() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let mut s = Settings::default();
        s.record_sign_in("https://a.example", Some("A"), None, &[], 1);
        let h = grant_collections(
            &mut s,
            "https://a.example",
            &[("contact".into(), AccessMode::ReadWrite)],
            5_000_000,
            || [1; 16],
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].generation, 0);
        let e = h[0].entry(&kc, 0, &hub()).unwrap();
        assert!(e.hub_config.token.starts_with("v1:"));
        // Asking for read-only later keeps read-and-write (taking it away is a downgrade).
        let h = grant_collections(
            &mut s,
            "https://a.example",
            &[("contact".into(), AccessMode::Read)],
            5_001_000,
            || [3; 16],
        );
        assert_eq!(h[0].grant.mode, AccessMode::ReadWrite);
        assert_eq!(h[0].grant.token_salt, to_hex(&[3; 16]));

        let mut r = Revocation::start_downgrade(
            &mut s,
            "contact",
            "https://a.example",
            5_001_000,
            true,
            false,
        )
        .unwrap();
        assert!(r.downgrade);
        assert_eq!(r.oldest_valid, 5002);
        assert_eq!(s.collections["contact"].grants[0].mode, AccessMode::Read);
        assert_eq!(
            r.key_file_targets(&s),
            [("https://a.example".to_string(), AccessMode::Read)]
        );
        // A salt chosen once is reused on resume.
        let first = r.salt_for("https://b.example", [9; 16]);
        assert_eq!(r.salt_for("https://b.example", [8; 16]), first);
        r.save_progress(&mut s);
        let back = Revocation::pending(&s);
        assert_eq!(back[0].new_salts.len(), 1);
        assert!(
            back[0]
                .status_line("A", true)
                .starts_with("Resuming making A read-only")
        );
        assert_eq!(r.status_line("A", false), "Making A read-only on contact…");
        assert!(matches!(
            Revocation::start_downgrade(&mut s, "contact", "https://a.example", 1, true, false),
            Err(CollectionError::Format(_))
        ));
        r.finish(&mut s, &BTreeMap::new(), 6_000_000);
        assert_eq!(s.log.last().unwrap().event, "downgrade");
        assert!(s.journal.is_empty());
        // The authenticator's tokens for the bucket are never older than the revoke-all.
        assert_eq!(owner_iat(&s, "contact", 1_000), 5002);
        assert_eq!(owner_iat(&s, "contact", 9_000_000), 9000);
        assert_eq!(owner_iat(&s, "photo", 9_000_000), 9000);
        // The read-only entry has the new key and no token.
        let hand = HandOff {
            collection: "contact".into(),
            generation: 1,
            grant: s.collections["contact"].grants[0].clone(),
        };
        let e = hand.entry(&kc, 0, &hub()).unwrap();
        assert_eq!(e.hub_config.token, "");
        assert_eq!(e.key_generation, 1);
    }

    #[test]
    fn permission_view_lists_collections_and_apps() {
        let mut s = Settings::default();
        s.record_sign_in(
            "https://a.example",
            Some("A"),
            None,
            &["store_write".into()],
            10,
        );
        s.record_sign_in(
            "https://b.example",
            None,
            None,
            &["collection.contact".into()],
            20,
        );
        grant_collections(
            &mut s,
            "https://b.example",
            &[("contact".into(), AccessMode::ReadWrite)],
            20,
            || [1; 16],
        );
        let (cols, apps) = permission_view(&s);
        assert_eq!(cols.len(), 1);
        assert_eq!(cols[0].name, "contact");
        assert_eq!(cols[0].rows[0].name, "https://b.example");
        assert_eq!(cols[0].rows[0].last_sign_in, Some(20));
        assert_eq!(apps[0].name, "A");
        assert_eq!(apps[0].grantable, ["contact"]);
        assert!(apps[1].grantable.is_empty());
        assert_eq!(
            apps[1].collections,
            [("contact".to_string(), AccessMode::ReadWrite)]
        );
    }

    /// The runner's loop over the core's plan, against an in-memory "hub"; `budget`
    /// file writes before it "crashes" (`None`: no crash). Returns whether it finished.
    fn drive(
        kc: &Keychain,
        s: &mut Settings,
        files: &mut BTreeMap<String, String>,
        key_files: &mut BTreeMap<String, String>,
        mut budget: Option<usize>,
    ) -> bool {
        let mut r = Revocation::pending(s).remove(0);
        let keys = CollectionKeys::derive(kc, 0, &r.collection, r.to_generation).unwrap();
        while let Some(step) = r.next_step() {
            match step {
                RevocationStep::RevokeAll | RevocationStep::Finish => {}
                RevocationStep::RewriteKeyFiles => {
                    for (app, mode) in r.key_file_targets(s) {
                        let salt = match mode {
                            AccessMode::ReadWrite => to_hex(&r.salt_for(&app, random_salt())),
                            AccessMode::Read => String::new(),
                        };
                        r.save_progress(s);
                        let h = HandOff {
                            collection: r.collection.clone(),
                            generation: r.to_generation,
                            grant: Grant {
                                app: app.clone(),
                                mode,
                                granted_at: 0,
                                token_salt: salt,
                                token_iat: r.oldest_valid,
                            },
                        };
                        let app_key = kc.app_private_key(0, &app).unwrap();
                        let e = h.entry(kc, 0, &hub()).unwrap();
                        let body = update_key_file(
                            key_files.get(&app).map(String::as_str),
                            &app_key,
                            &[(r.collection.as_str(), Some(&e))],
                        )
                        .unwrap();
                        key_files.insert(app, body);
                    }
                }
                RevocationStep::RemoveRevokedEntry => {
                    let app_key = kc.app_private_key(0, &r.app).unwrap();
                    if let Some(old) = key_files.get(&r.app).cloned() {
                        let body =
                            update_key_file(Some(&old), &app_key, &[(r.collection.as_str(), None)])
                                .unwrap();
                        key_files.insert(r.app.clone(), body);
                    }
                }
                RevocationStep::ReEncrypt => {
                    let wanted: Vec<String> =
                        files.keys().filter(|p| r.wants_file(p)).cloned().collect();
                    r.files_total = wanted.len() as u64;
                    r.files_done = 0;
                    for p in wanted {
                        if let Ok(Some(new)) = keys.reencrypt(&p, &files[&p]) {
                            if let Some(b) = budget.as_mut() {
                                if *b == 0 {
                                    r.save_progress(s);
                                    return false;
                                }
                                *b -= 1;
                            }
                            files.insert(p, new);
                        }
                        r.files_done += 1;
                    }
                }
            }
            if step == RevocationStep::Finish {
                r.finish(s, &BTreeMap::new(), 9_000_000);
                return true;
            }
            r.complete(&step);
            r.save_progress(s);
        }
        true
    }

    #[test]
    fn an_interrupted_revocation_resumes_to_the_same_end() {
        let kc = Keychain::from_mnemonic(WORDS).unwrap();
        let (a, b) = ("https://a.example", "https://b.example");
        let mut s = Settings::default();
        let mut key_files = BTreeMap::new();
        for app in [a, b] {
            s.record_sign_in(app, None, None, &[], 1);
            let h = grant_collections(
                &mut s,
                app,
                &[("contact".into(), AccessMode::ReadWrite)],
                5_000_000,
                random_salt,
            );
            let e = h[0].entry(&kc, 0, &hub()).unwrap();
            let app_key = kc.app_private_key(0, app).unwrap();
            key_files.insert(
                app.to_string(),
                update_key_file(None, &app_key, &[("contact", Some(&e))]).unwrap(),
            );
        }
        let gen0 = CollectionKeys::derive(&kc, 0, "contact", 0).unwrap();
        let mut files = BTreeMap::new();
        for i in 0..30 {
            let body = ecies::encrypt(
                &gen0.current().public_key(),
                format!("{{\"n\":{i}}}").as_bytes(),
                true,
                CipherTextEncoding::Hex,
            )
            .unwrap()
            .to_json();
            files.insert(format!("collection/item {i}"), body);
        }
        let history = files["collection/item 0"].clone();
        files.insert(
            "collection/.history.1.abcdefghij.item 0".into(),
            history.clone(),
        );
        files.insert("collection/garbage".into(), "not a cipher object".into());

        Revocation::start(&mut s, "contact", a, 5_000_000, true, false).unwrap();
        // Crash after 7 writes, then after 11 more, then finish.
        assert!(!drive(&kc, &mut s, &mut files, &mut key_files, Some(7)));
        let mid = Revocation::pending(&s).remove(0);
        assert_eq!(mid.next_step(), Some(RevocationStep::ReEncrypt));
        let salt_b = mid.new_salts[b].clone();
        assert!(!drive(&kc, &mut s, &mut files, &mut key_files, Some(11)));
        assert!(drive(&kc, &mut s, &mut files, &mut key_files, None));
        assert!(Revocation::pending(&s).is_empty());

        let gen1 = CollectionKeys::derive(&kc, 0, "contact", 1).unwrap();
        for i in 0..30 {
            let (g, _) = gen1
                .decrypt("x", &files[&format!("collection/item {i}")])
                .unwrap();
            assert_eq!(g, 1, "item {i}");
            let obj = CipherObject::from_json(&files[&format!("collection/item {i}")]).unwrap();
            assert!(ecies::decrypt(gen0.current(), &obj).is_err());
        }
        // History was not asked for; the garbage file is left as it is.
        assert_eq!(files["collection/.history.1.abcdefghij.item 0"], history);
        assert_eq!(files["collection/garbage"], "not a cipher object");
        // B has the new key and a token with the salt chosen before the crash; A has none.
        let kb = read_key_file(&key_files[b], &kc.app_private_key(0, b).unwrap()).unwrap();
        assert_eq!(kb["contact"]["keyGeneration"], 1);
        let t = kb["contact"]["hubConfig"]["token"].as_str().unwrap();
        let d = crate::protocol::jwt::decode(t.strip_prefix("v1:").unwrap()).unwrap();
        assert_eq!(d.payload["salt"], salt_b.as_str());
        assert_eq!(d.payload["iat"], 5001);
        let grant_b = &s.collections["contact"].grants[0];
        assert_eq!(
            (grant_b.token_salt.as_str(), grant_b.token_iat),
            (salt_b.as_str(), 5001)
        );
        let ka = read_key_file(&key_files[a], &kc.app_private_key(0, a).unwrap()).unwrap();
        assert!(ka.is_empty());
    }
}
