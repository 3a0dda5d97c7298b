//! The identity's settings file (COLLECTIONS.md §3): connected apps, collection
//! generations and grants, an append-only log, and the journal of unfinished
//! multi-step operations. Stored in the identity's own bucket, ECIES-encrypted to the
//! identity key, written with `If-Match` (on 412: re-read, re-apply, retry).

use crate::ecies::{self, CipherObject, CipherTextEncoding, EciesError, Plaintext};
use crate::keys::{PrivateKey, PublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedApp {
    /// The app's origin.
    pub origin: String,
    /// Its name from the manifest or request, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its icon URL, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// First sign-in, ms since the epoch.
    pub first_sign_in: i64,
    /// Most recent sign-in, ms since the epoch.
    pub last_sign_in: i64,
    /// Scopes granted at the most recent sign-in.
    pub scopes: Vec<String>,
}

impl ConnectedApp {
    /// The name to show: the app's name, else its origin.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.origin)
    }
}

/// Read-and-write or read-only access to a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    /// `collection.<name>`.
    #[serde(rename = "rw")]
    ReadWrite,
    /// `collection.<name>.read`.
    #[serde(rename = "read")]
    Read,
}

impl AccessMode {
    /// Plain-language label.
    pub fn label(self) -> &'static str {
        match self {
            AccessMode::ReadWrite => "read and write",
            AccessMode::Read => "read only",
        }
    }
}

/// One app's access to one collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(default)]
    pub token_iat: i64,
}

/// A collection's state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CollectionState {
    /// Current encryption-key generation.
    pub generation: u32,
    /// Apps with access.
    pub grants: Vec<Grant>,
    /// The bucket's revoke-all timestamp (seconds): tokens need an `iat` at or after it.
    #[serde(default, rename = "revokedBefore")]
    pub revoked_before: i64,
    /// Every token salt an app was ever given for this collection (salt → app origin),
    /// kept after re-grants and revocations so that the hub's recorded writer of an old
    /// version still names its app. Filled in by [`Settings::seal`].
    #[serde(
        default,
        rename = "pastWriters",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub past_writers: BTreeMap<String, String>,
}

impl CollectionState {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When, ms since the epoch.
    pub at: i64,
    /// What: `sign_in`, `grant`, `revoke`, `downgrade`, `rollback`, `undo` …
    pub event: String,
    /// The collection concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// The app concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Free-form detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The whole settings document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Format version.
    pub v: u32,
    /// Connected apps, in first-sign-in order.
    #[serde(default)]
    pub apps: Vec<ConnectedApp>,
    /// Collections by name.
    #[serde(default)]
    pub collections: BTreeMap<String, CollectionState>,
    /// Append-only history of permission changes.
    #[serde(default)]
    pub log: Vec<LogEntry>,
    /// Unfinished multi-step operations (plans with progress), opaque here.
    #[serde(default)]
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
        let mut doc = self.clone();
        for c in doc.collections.values_mut() {
            c.remember_writers();
        }
        let text = serde_json::to_string(&doc).map_err(|e| SettingsError::Format(e.to_string()))?;
        ecies::encrypt(identity, text.as_bytes(), true, CipherTextEncoding::Hex)
            .map(|o| o.to_json())
            .map_err(SettingsError::Decrypt)
    }

    /// Decrypts and parses a settings file body.
    pub fn open(body: &str, identity: &PrivateKey) -> Result<Settings, SettingsError> {
        let obj = CipherObject::from_json(body).map_err(SettingsError::Decrypt)?;
        let text = match ecies::decrypt(identity, &obj).map_err(SettingsError::Decrypt)? {
            Plaintext::Text(t) => t,
            Plaintext::Bytes(_) => return Err(SettingsError::Format("not text".into())),
        };
        let s: Settings =
            serde_json::from_str(&text).map_err(|e| SettingsError::Format(e.to_string()))?;
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
        let s: Settings = serde_json::from_str(old).unwrap();
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
