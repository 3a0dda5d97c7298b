//! The identity's settings file (COLLECTIONS.md §3): connected apps, collection
//! generations and grants, an append-only log, and the journal of unfinished
//! multi-step operations. Stored in the identity's own bucket, ECIES-encrypted to the
//! identity key, written with `If-Match` (on 412: re-read, re-apply, retry).
//!
//! The encryption alone proves nothing: it is made to the identity's *public* key, so
//! anyone who can write the bucket (the hub operator, for one) can make a file Cairn
//! would open. The file is therefore also signed with the identity's private key, in
//! the layout `@stacks/storage` uses for signed, encrypted files:
//! `{"signature": DER hex, "publicKey": hex, "cipherText": "<cipher object JSON>"}`,
//! the signature being ECDSA over SHA-256 of the `cipherText` string. [`Settings::open`]
//! believes only such a file signed by the identity; a bare cipher object (as Cairn
//! wrote before signing) is [`SettingsError::Unsigned`] and is read only through
//! [`Settings::open_unsigned`] once the user has confirmed it (docs/SECURITY.md).

use crate::crypto::bulk::{self, Bulk};
use crate::crypto::ecies::{self, CipherObject, CipherTextEncoding, EciesError, Plaintext};
use crate::jobs::Journal;
use crate::json;
use crate::keys::{PrivateKey, PublicKey};
use crate::support::encoding::{ecdsa_der_decode, ecdsa_der_encode, from_hex, sha256, to_hex};
use crate::support::json;
use crate::support::json::{FieldError, Fields, Map, Value};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use std::collections::BTreeMap;
use std::fmt;

/// Path of the settings file in the identity bucket.
pub const SETTINGS_PATH: &str = "cairn/settings.json";

/// Current settings format version.
pub const SETTINGS_VERSION: u32 = 1;

/// Why settings could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file is not encrypted for this identity, or was altered.
    Decrypt(EciesError),
    /// The decrypted text is not a settings document Cairn understands.
    Format(String),
    /// The file is encrypted but not signed: an earlier Cairn wrote it, or someone who
    /// can write the bucket forged it. Believed only after the user confirms.
    Unsigned,
    /// The signature is missing, malformed or not the identity's: someone other than
    /// the user changed the file.
    BadSignature(&'static str),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Decrypt(e) => write!(f, "the settings file cannot be decrypted: {e}"),
            SettingsError::Format(why) => write!(f, "the settings file is unreadable: {why}"),
            SettingsError::Unsigned => write!(
                f,
                "the settings file is not signed: an earlier version of Cairn wrote it, or someone else did"
            ),
            SettingsError::BadSignature(why) => write!(
                f,
                "the settings file failed its signature check ({why}): someone other than you changed it"
            ),
        }
    }
}

impl std::error::Error for SettingsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SettingsError::Decrypt(e) => Some(e),
            _ => None,
        }
    }
}

/// An app the user signed into with this identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    /// The app's origin.
    pub origin: String,
    /// Its name from the manifest or request, if known.
    pub name: Option<String>,
    /// Its icon URL, if known.
    pub icon: Option<String>,
    /// First sign-in, ms since the epoch.
    pub first_sign_in: i64,
    /// Most recent sign-in, ms since the epoch.
    pub last_sign_in: i64,
    /// Scopes granted at the most recent sign-in.
    pub scopes: Vec<String>,
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

impl ConnectedApp {
    /// The stored form (camelCase keys).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("origin".into(), self.origin.as_str().into());
        m.insert_opt("name", self.name.as_deref());
        m.insert_opt("icon", self.icon.as_deref());
        m.insert("firstSignIn".into(), self.first_sign_in.into());
        m.insert("lastSignIn".into(), self.last_sign_in.into());
        m.insert("scopes".into(), self.scopes.clone().into());
        Value::Object(m)
    }

    /// Reads the stored form.
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a connected app")?;
        Ok(ConnectedApp {
            origin: f.str("origin")?.to_string(),
            // Names recorded before sign-in cleaned them are cleaned on the way in.
            name: f
                .opt_str("name")?
                .and_then(crate::protocol::signin::clean_text),
            icon: owned(f.opt_str("icon")?),
            first_sign_in: f.i64("firstSignIn")?,
            last_sign_in: f.i64("lastSignIn")?,
            scopes: f.list("scopes", "a list of strings", |v| {
                v.as_str().map(str::to_string)
            })?,
        })
    }

    /// The name to show: the app's name, else its origin.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.origin)
    }
}

/// Read-and-write or read-only access to a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    /// `collection.<name>`.
    ReadWrite,
    /// `collection.<name>.read`.
    Read,
}

impl AccessMode {
    /// `"rw"` or `"read"`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWrite => "rw",
            AccessMode::Read => "read",
        }
    }

    /// Reads the mode stored in `field` of a record.
    pub fn read(f: &Fields<'_>, field: &str) -> Result<AccessMode, FieldError> {
        f.req(field, "\"rw\" or \"read\"", AccessMode::from_value)
    }

    /// Reads `"rw"` or `"read"`.
    pub fn from_value(v: &Value) -> Option<AccessMode> {
        match v.as_str()? {
            "rw" => Some(AccessMode::ReadWrite),
            "read" => Some(AccessMode::Read),
            _ => None,
        }
    }

    /// Plain-language label.
    pub fn label(self) -> &'static str {
        match self {
            AccessMode::ReadWrite => "read and write",
            AccessMode::Read => "read only",
        }
    }
}

/// One app's access to one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The app's origin.
    pub app: String,
    /// Its access mode.
    pub mode: AccessMode,
    /// When access was granted, ms since the epoch.
    pub granted_at: i64,
    /// The salt of the collection token minted for it (hex).
    pub token_salt: String,
    /// The `iat` of that token, seconds.
    pub token_iat: i64,
}

impl Grant {
    /// The stored form.
    pub fn to_value(&self) -> Value {
        json!({
            "app": self.app.as_str(),
            "mode": self.mode.as_str(),
            "grantedAt": self.granted_at,
            "tokenSalt": self.token_salt.as_str(),
            "tokenIat": self.token_iat,
        })
    }

    /// Reads the stored form (`tokenIat` defaults to 0).
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a collection grant")?;
        Ok(Grant {
            app: f.str("app")?.to_string(),
            mode: AccessMode::read(&f, "mode")?,
            granted_at: f.i64("grantedAt")?,
            token_salt: f.str("tokenSalt")?.to_string(),
            token_iat: f
                .opt("tokenIat", "a whole number", Value::as_i64)?
                .unwrap_or(0),
        })
    }
}

/// A collection's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CollectionState {
    /// Current encryption-key generation.
    pub generation: u32,
    /// Apps with access.
    pub grants: Vec<Grant>,
    /// The bucket's revoke-all timestamp (seconds): tokens need an `iat` at or after it.
    pub revoked_before: i64,
    /// Every token salt an app was ever given for this collection (salt → app origin),
    /// kept after re-grants and revocations so that the hub's recorded writer of an old
    /// version still names its app. Filled in by [`Settings::seal`].
    pub past_writers: BTreeMap<String, String>,
}

impl CollectionState {
    /// The stored form (`pastWriters` left out when empty).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("generation".into(), self.generation.into());
        m.insert(
            "grants".into(),
            Value::Array(self.grants.iter().map(Grant::to_value).collect()),
        );
        m.insert("revokedBefore".into(), self.revoked_before.into());
        if !self.past_writers.is_empty() {
            m.insert("pastWriters".into(), (&self.past_writers).into());
        }
        Value::Object(m)
    }

    /// Reads the stored form.
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a collection's state")?;
        Ok(CollectionState {
            generation: f.u32("generation")?,
            grants: f
                .array("grants")?
                .iter()
                .map(Grant::from_value)
                .collect::<Result<_, _>>()?,
            revoked_before: f
                .opt("revokedBefore", "a whole number", Value::as_i64)?
                .unwrap_or(0),
            past_writers: f.string_map("pastWriters")?,
        })
    }

    /// Remembers the salts of the current grants in [`CollectionState::past_writers`].
    pub fn remember_writers(&mut self) {
        for g in &self.grants {
            if !g.token_salt.is_empty() {
                self.past_writers
                    .insert(g.token_salt.clone(), g.app.clone());
            }
        }
    }

    /// The origin of the app whose token had this salt (current or past grant).
    pub fn writer_app(&self, salt: &str) -> Option<&str> {
        if salt.is_empty() {
            return None;
        }
        self.grants
            .iter()
            .find(|g| g.token_salt == salt)
            .map(|g| g.app.as_str())
            .or_else(|| self.past_writers.get(salt).map(String::as_str))
    }

    /// Every salt an app's tokens ever had for this collection.
    pub fn salts_of(&self, origin: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .past_writers
            .iter()
            .filter(|(_, app)| app.as_str() == origin)
            .map(|(salt, _)| salt.clone())
            .collect();
        for g in &self.grants {
            if g.app == origin && !g.token_salt.is_empty() && !out.contains(&g.token_salt) {
                out.push(g.token_salt.clone());
            }
        }
        out
    }

    /// Apps that have or had a grant: current grants first, then past writers.
    pub fn writer_apps(&self) -> Vec<String> {
        let mut out: Vec<String> = self.grants.iter().map(|g| g.app.clone()).collect();
        for app in self.past_writers.values() {
            if !out.contains(app) {
                out.push(app.clone());
            }
        }
        out
    }
}

/// An entry of the append-only log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When, ms since the epoch.
    pub at: i64,
    /// What: `sign_in`, `grant`, `revoke`, `downgrade`, `rollback`, `undo` …
    pub event: String,
    /// The collection concerned, if any.
    pub collection: Option<String>,
    /// The app concerned, if any.
    pub app: Option<String>,
    /// Free-form detail.
    pub detail: Option<String>,
}

impl LogEntry {
    /// The stored form (absent fields left out).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("at".into(), self.at.into());
        m.insert("event".into(), self.event.as_str().into());
        m.insert_opt("collection", self.collection.as_deref());
        m.insert_opt("app", self.app.as_deref());
        m.insert_opt("detail", self.detail.as_deref());
        Value::Object(m)
    }

    /// Reads the stored form.
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a log entry")?;
        Ok(LogEntry {
            at: f.i64("at")?,
            event: f.str("event")?.to_string(),
            collection: owned(f.opt_str("collection")?),
            app: owned(f.opt_str("app")?),
            detail: owned(f.opt_str("detail")?),
        })
    }
}

/// The whole settings document.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Format version.
    pub v: u32,
    /// Connected apps, in first-sign-in order.
    pub apps: Vec<ConnectedApp>,
    /// Collections by name.
    pub collections: BTreeMap<String, CollectionState>,
    /// Append-only history of permission changes.
    pub log: Vec<LogEntry>,
    /// Unfinished multi-step jobs with their progress.
    pub journal: Journal,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            v: SETTINGS_VERSION,
            apps: Vec::new(),
            collections: BTreeMap::new(),
            log: Vec::new(),
            journal: Journal::default(),
        }
    }
}

impl Settings {
    /// The document as JSON.
    pub fn to_value(&self) -> Value {
        let collections: Map = self
            .collections
            .iter()
            .map(|(k, c)| (k.as_str(), c.to_value()))
            .collect();
        json!({
            "v": self.v,
            "apps": Value::Array(self.apps.iter().map(ConnectedApp::to_value).collect()),
            "collections": collections,
            "log": Value::Array(self.log.iter().map(LogEntry::to_value).collect()),
            "journal": self.journal.to_value(),
        })
    }

    /// Reads the document (missing lists and maps are empty).
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "the settings document")?;
        let mut collections = BTreeMap::new();
        if let Some(obj) = f.opt("collections", "an object", Value::as_object)? {
            for (name, c) in obj.iter() {
                collections.insert(name.clone(), CollectionState::from_value(c)?);
            }
        }
        Ok(Settings {
            v: f.u32("v")?,
            apps: f
                .opt_array("apps")?
                .iter()
                .map(ConnectedApp::from_value)
                .collect::<Result<_, _>>()?,
            collections,
            log: f
                .opt_array("log")?
                .iter()
                .map(LogEntry::from_value)
                .collect::<Result<_, _>>()?,
            journal: Journal::from_values(f.opt_array("journal")?),
        })
    }

    /// Records a sign-in: adds the app or updates its name, icon, scopes and time.
    pub fn record_sign_in(
        &mut self,
        origin: &str,
        name: Option<&str>,
        icon: Option<&str>,
        scopes: &[String],
        now_ms: i64,
    ) {
        match self.apps.iter_mut().find(|a| a.origin == origin) {
            Some(app) => {
                if name.is_some() {
                    app.name = name.map(str::to_string);
                }
                if icon.is_some() {
                    app.icon = icon.map(str::to_string);
                }
                app.last_sign_in = now_ms;
                app.scopes = scopes.to_vec();
            }
            None => self.apps.push(ConnectedApp {
                origin: origin.to_string(),
                name: name.map(str::to_string),
                icon: icon.map(str::to_string),
                first_sign_in: now_ms,
                last_sign_in: now_ms,
                scopes: scopes.to_vec(),
            }),
        }
        self.log.push(LogEntry {
            at: now_ms,
            event: "sign_in".into(),
            collection: None,
            app: Some(origin.to_string()),
            detail: None,
        });
    }

    /// The connected app with this origin.
    pub fn app(&self, origin: &str) -> Option<&ConnectedApp> {
        self.apps.iter().find(|a| a.origin == origin)
    }

    /// Serialises, encrypts to the identity's public key and signs with its private
    /// key. Every grant's token salt is remembered in its collection's `pastWriters` on
    /// the way.
    pub fn seal(&self, identity: &PrivateKey) -> Result<String, SettingsError> {
        bulk::now(|b| self.seal_async(b, identity))
    }

    /// [`Settings::seal`] with the encryption's AES and HMAC run by `bulk`.
    pub async fn seal_async(
        &self,
        bulk: &impl Bulk,
        identity: &PrivateKey,
    ) -> Result<String, SettingsError> {
        let mut doc = self.clone();
        for c in doc.collections.values_mut() {
            c.remember_writers();
        }
        let text = json::to_string(&doc.to_value());
        let cipher = ecies::encrypt_async(
            bulk,
            &identity.public_key(),
            text.as_bytes(),
            true,
            CipherTextEncoding::Hex,
        )
        .await
        .map_err(SettingsError::Decrypt)?
        .to_json();
        let rs: [u8; 64] = identity
            .sign_prehash(&sha256(cipher.as_bytes()))
            .to_bytes()
            .into();
        Ok(json::to_string(&json!({
            "signature": to_hex(&ecdsa_der_encode(&rs)),
            "publicKey": identity.public_key().to_hex(),
            "cipherText": cipher,
        })))
    }

    /// Checks the signature, then decrypts and parses a settings file body.
    pub fn open(body: &str, identity: &PrivateKey) -> Result<Settings, SettingsError> {
        bulk::now(|b| Settings::open_async(b, body, identity))
    }

    /// [`Settings::open`] with the decryption's MAC check and AES run by `bulk`.
    pub async fn open_async(
        bulk: &impl Bulk,
        body: &str,
        identity: &PrivateKey,
    ) -> Result<Settings, SettingsError> {
        let cipher = verified_cipher_text(body, &identity.public_key())?;
        let obj = CipherObject::from_json(&cipher).map_err(SettingsError::Decrypt)?;
        Self::decrypt_async(bulk, &obj, identity).await
    }

    /// Opens a file Cairn wrote before settings were signed (a bare cipher object).
    /// Only for the migration the user confirmed: nothing proves who wrote it.
    pub fn open_unsigned(body: &str, identity: &PrivateKey) -> Result<Settings, SettingsError> {
        bulk::now(|b| Settings::open_unsigned_async(b, body, identity))
    }

    /// [`Settings::open_unsigned`] with the decryption run by `bulk`.
    pub async fn open_unsigned_async(
        bulk: &impl Bulk,
        body: &str,
        identity: &PrivateKey,
    ) -> Result<Settings, SettingsError> {
        let obj = CipherObject::from_json(body).map_err(SettingsError::Decrypt)?;
        Self::decrypt_async(bulk, &obj, identity).await
    }

    async fn decrypt_async(
        bulk: &impl Bulk,
        obj: &CipherObject,
        identity: &PrivateKey,
    ) -> Result<Settings, SettingsError> {
        let plain = ecies::decrypt_async(bulk, identity, obj).await;
        let text = match plain.map_err(SettingsError::Decrypt)? {
            Plaintext::Text(t) => t,
            Plaintext::Bytes(_) => return Err(SettingsError::Format("not text".into())),
        };
        let v = json::from_str(&text).map_err(|e| SettingsError::Format(e.to_string()))?;
        let s = Settings::from_value(&v).map_err(|e| SettingsError::Format(e.to_string()))?;
        if s.v != SETTINGS_VERSION {
            return Err(SettingsError::Format(format!("unknown version {}", s.v)));
        }
        Ok(s)
    }
}

/// The `cipherText` of a signed settings file, once its signature is checked against
/// `identity`. A bare cipher object is [`SettingsError::Unsigned`].
fn verified_cipher_text(body: &str, identity: &PublicKey) -> Result<String, SettingsError> {
    let v = json::from_str(body).map_err(|e| SettingsError::Format(e.to_string()))?;
    let Some(obj) = v.as_object() else {
        return Err(SettingsError::Format("not a JSON object".into()));
    };
    if obj.get("signature").is_none() && obj.get("ephemeralPK").is_some() {
        return Err(SettingsError::Unsigned);
    }
    let field = |name: &'static str| obj.get(name).and_then(Value::as_str);
    let signature = field("signature").ok_or(SettingsError::BadSignature("no signature"))?;
    let public_key = field("publicKey").ok_or(SettingsError::BadSignature("no public key"))?;
    let cipher = field("cipherText").ok_or(SettingsError::BadSignature("no cipherText"))?;
    // Compared as keys, not text: upper-case hex of the same key is the same signer.
    if PublicKey::from_hex(public_key).ok() != Some(*identity) {
        return Err(SettingsError::BadSignature("signed by another key"));
    }
    let malformed = SettingsError::BadSignature("malformed signature");
    let der = from_hex(signature).map_err(|_| malformed.clone())?;
    let rs = ecdsa_der_decode(&der).ok_or(malformed.clone())?;
    let sig = k256::ecdsa::Signature::from_slice(&rs).map_err(|_| malformed)?;
    identity
        .verifying_key()
        .verify_prehash(&sha256(cipher.as_bytes()), &sig.normalize_s())
        .map_err(|_| SettingsError::BadSignature("the signature does not match the content"))?;
    Ok(cipher.to_string())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn sign_ins_are_recorded_and_sealed() {
        let mut s = Settings::default();
        s.record_sign_in(
            "https://a.example",
            Some("A"),
            None,
            &["store_write".into()],
            1,
        );
        s.record_sign_in(
            "https://a.example",
            None,
            Some("https://a.example/i.png"),
            &[],
            5,
        );
        assert_eq!(s.apps.len(), 1);
        let app = s.app("https://a.example").unwrap();
        assert_eq!((app.first_sign_in, app.last_sign_in), (1, 5));
        assert_eq!(app.display_name(), "A");
        assert_eq!(s.log.len(), 2);
        let key = PrivateKey::random().unwrap();
        let body = s.seal(&key).unwrap();
        assert!(!body.contains("a.example"));
        assert_eq!(Settings::open(&body, &key).unwrap(), s);
        let other = PrivateKey::random().unwrap();
        assert_eq!(
            Settings::open(&body, &other),
            Err(SettingsError::BadSignature("signed by another key"))
        );
    }

    /// What someone who can write the bucket (but has no identity key) can make.
    fn forged(s: &Settings, identity: &PublicKey) -> String {
        let text = json::to_string(&s.to_value());
        ecies::encrypt(identity, text.as_bytes(), true, CipherTextEncoding::Hex)
            .unwrap()
            .to_json()
    }

    #[test]
    fn only_files_signed_by_the_identity_are_believed() {
        let key = PrivateKey::random().unwrap();
        let mut s = Settings::default();
        s.record_sign_in("https://a.example", Some("A"), None, &[], 1);
        let genuine = s.seal(&key).unwrap();
        // The signature is the one @stacks/storage writes: DER over SHA-256 of the
        // cipherText string, verifiable with the public key alone.
        let v = json::from_str(&genuine).unwrap();
        let der = from_hex(v["signature"].as_str().unwrap()).unwrap();
        let sig = k256::ecdsa::Signature::from_slice(&ecdsa_der_decode(&der).unwrap()).unwrap();
        let cipher = v["cipherText"].as_str().unwrap();
        assert!(
            key.public_key()
                .verifying_key()
                .verify_prehash(&sha256(cipher.as_bytes()), &sig)
                .is_ok()
        );

        // Encrypted to the public key but not signed: what a forger (or Cairn before
        // signing) writes. Not believed, though it decrypts.
        let mut evil = s.clone();
        evil.record_sign_in("https://evil.example", Some("Evil"), None, &[], 2);
        let unsigned = forged(&evil, &key.public_key());
        assert_eq!(
            Settings::open(&unsigned, &key),
            Err(SettingsError::Unsigned)
        );
        assert_eq!(Settings::open_unsigned(&unsigned, &key).unwrap(), evil);

        // A forged file in the signed layout: the forger's own key, or the identity's
        // public key with a signature copied from the genuine file.
        let forger = PrivateKey::random().unwrap();
        let mut wrapped = evil.seal(&forger).unwrap();
        let own_key = forger.public_key().to_hex();
        assert_eq!(
            Settings::open(&wrapped, &key),
            Err(SettingsError::BadSignature("signed by another key"))
        );
        wrapped = wrapped.replace(&own_key, &key.public_key().to_hex());
        assert!(matches!(
            Settings::open(&wrapped, &key),
            Err(SettingsError::BadSignature(_))
        ));
        let copied = json::to_string(&json!({
            "signature": v["signature"].clone(),
            "publicKey": key.public_key().to_hex(),
            "cipherText": unsigned,
        }));
        assert_eq!(
            Settings::open(&copied, &key),
            Err(SettingsError::BadSignature(
                "the signature does not match the content"
            ))
        );
        // Missing pieces are named.
        for (body, why) in [
            (r#"{"publicKey":"02","cipherText":"{}"}"#, "no signature"),
            (r#"{"signature":"00","cipherText":"{}"}"#, "no public key"),
            (r#"{"signature":"00","publicKey":"02"}"#, "no cipherText"),
        ] {
            assert_eq!(
                Settings::open(body, &key),
                Err(SettingsError::BadSignature(why))
            );
        }
        assert!(Settings::open("[]", &key).is_err());
        assert_eq!(Settings::open(&genuine, &key).unwrap(), s);
    }

    #[test]
    fn stored_app_names_are_cleaned_when_read() {
        let v = json!({"origin": "https://a.example", "name": "Safe\u{202e}gnp.exe\u{7}",
            "firstSignIn": 1, "lastSignIn": 1, "scopes": []});
        let app = ConnectedApp::from_value(&v).unwrap();
        assert_eq!(app.display_name(), "Safegnp.exe");
        let v = json!({"origin": "https://a.example", "name": "\u{200f} ",
            "firstSignIn": 1, "lastSignIn": 1, "scopes": []});
        assert_eq!(
            ConnectedApp::from_value(&v).unwrap().display_name(),
            "https://a.example"
        );
    }

    #[test]
    fn past_token_salts_stay_attributed() {
        let grant = |app: &str, salt: &str| Grant {
            app: app.into(),
            mode: AccessMode::ReadWrite,
            granted_at: 0,
            token_salt: salt.into(),
            token_iat: 0,
        };
        let key = PrivateKey::random().unwrap();
        // A file of before this field: no pastWriters, still readable.
        let old =
            r#"{"v":1,"collections":{"contact":{"generation":0,"grants":[],"revokedBefore":0}}}"#;
        let s = Settings::from_value(&crate::support::json::from_str(old).unwrap()).unwrap();
        assert!(s.collections["contact"].past_writers.is_empty());
        let mut s = Settings::default();
        let c = s.collections.entry("contact".into()).or_default();
        c.grants.push(grant("https://a.example", "a1"));
        c.grants.push(grant("https://b.example", "b1"));
        let mut s = Settings::open(&s.seal(&key).unwrap(), &key).unwrap();
        // A signs in again (new salt), B is revoked, C gets a read-only grant (no salt).
        let c = s.collections.get_mut("contact").unwrap();
        c.grants[0].token_salt = "a2".into();
        c.grants.remove(1);
        c.grants.push(grant("https://c.example", ""));
        let s = Settings::open(&s.seal(&key).unwrap(), &key).unwrap();
        let c = &s.collections["contact"];
        assert_eq!(c.writer_app("a1"), Some("https://a.example"));
        assert_eq!(c.writer_app("a2"), Some("https://a.example"));
        assert_eq!(c.writer_app("b1"), Some("https://b.example"));
        assert_eq!(c.writer_app(""), None);
        assert_eq!(c.writer_app("zz"), None);
        let mut a = c.salts_of("https://a.example");
        crate::support::sorting::sort_by(&mut a, |x, y| x.cmp(y));
        assert_eq!(a, ["a1", "a2"]);
        assert_eq!(c.salts_of("https://b.example"), ["b1"]);
        assert!(c.salts_of("https://c.example").is_empty());
        assert_eq!(
            c.writer_apps(),
            [
                "https://a.example",
                "https://c.example",
                "https://b.example"
            ]
        );
    }
}
