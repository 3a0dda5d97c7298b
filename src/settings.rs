//! The identity's settings file (COLLECTIONS.md §3): connected apps, collection
//! generations and grants, an append-only log, and the journal of unfinished
//! multi-step operations. Stored in the identity's own bucket, ECIES-encrypted to the
//! identity key, written with `If-Match` (on 412: re-read, re-apply, retry).

use crate::bulk::{self, Bulk};
use crate::ecies::{self, CipherObject, CipherTextEncoding, EciesError, Plaintext};
use crate::json;
use crate::json::{FieldError, Fields, Map, Value};
use crate::keys::{PrivateKey, PublicKey};
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
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Decrypt(e) => write!(f, "the settings file cannot be decrypted: {e}"),
            SettingsError::Format(why) => write!(f, "the settings file is unreadable: {why}"),
        }
    }
}

impl std::error::Error for SettingsError {}

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
            name: owned(f.opt_str("name")?),
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
    /// Unfinished multi-step operations (plans with progress), opaque here.
    pub journal: Vec<Value>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            v: SETTINGS_VERSION,
            apps: Vec::new(),
            collections: BTreeMap::new(),
            log: Vec::new(),
            journal: Vec::new(),
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
            "journal": self.journal.clone(),
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
            journal: f.opt_array("journal")?.to_vec(),
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

    /// Serialises and encrypts the document to the identity's public key. Every grant's
    /// token salt is remembered in its collection's `pastWriters` on the way.
    pub fn seal(&self, identity: &PublicKey) -> Result<String, SettingsError> {
        bulk::now(|b| self.seal_async(b, identity))
    }

    /// [`Settings::seal`] with the encryption's AES and HMAC run by `bulk`.
    pub async fn seal_async(
        &self,
        bulk: &impl Bulk,
        identity: &PublicKey,
    ) -> Result<String, SettingsError> {
        let mut doc = self.clone();
        for c in doc.collections.values_mut() {
            c.remember_writers();
        }
        let text = json::to_string(&doc.to_value());
        ecies::encrypt_async(
            bulk,
            identity,
            text.as_bytes(),
            true,
            CipherTextEncoding::Hex,
        )
        .await
        .map(|o| o.to_json())
        .map_err(SettingsError::Decrypt)
    }

    /// Decrypts and parses a settings file body.
    pub fn open(body: &str, identity: &PrivateKey) -> Result<Settings, SettingsError> {
        bulk::now(|b| Settings::open_async(b, body, identity))
    }

    /// [`Settings::open`] with the decryption's MAC check and AES run by `bulk`.
    pub async fn open_async(
        bulk: &impl Bulk,
        body: &str,
        identity: &PrivateKey,
    ) -> Result<Settings, SettingsError> {
        let obj = CipherObject::from_json(body).map_err(SettingsError::Decrypt)?;
        let plain = ecies::decrypt_async(bulk, identity, &obj).await;
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
        let body = s.seal(&key.public_key()).unwrap();
        assert!(!body.contains("a.example"));
        assert_eq!(Settings::open(&body, &key).unwrap(), s);
        let other = PrivateKey::random().unwrap();
        assert!(matches!(
            Settings::open(&body, &other),
            Err(SettingsError::Decrypt(_))
        ));
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
        let s = Settings::from_value(&crate::json::from_str(old).unwrap()).unwrap();
        assert!(s.collections["contact"].past_writers.is_empty());
        let mut s = Settings::default();
        let c = s.collections.entry("contact".into()).or_default();
        c.grants.push(grant("https://a.example", "a1"));
        c.grants.push(grant("https://b.example", "b1"));
        let mut s = Settings::open(&s.seal(&key.public_key()).unwrap(), &key).unwrap();
        // A signs in again (new salt), B is revoked, C gets a read-only grant (no salt).
        let c = s.collections.get_mut("contact").unwrap();
        c.grants[0].token_salt = "a2".into();
        c.grants.remove(1);
        c.grants.push(grant("https://c.example", ""));
        let s = Settings::open(&s.seal(&key.public_key()).unwrap(), &key).unwrap();
        let c = &s.collections["contact"];
        assert_eq!(c.writer_app("a1"), Some("https://a.example"));
        assert_eq!(c.writer_app("a2"), Some("https://a.example"));
        assert_eq!(c.writer_app("b1"), Some("https://b.example"));
        assert_eq!(c.writer_app(""), None);
        assert_eq!(c.writer_app("zz"), None);
        let mut a = c.salts_of("https://a.example");
        a.sort();
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
