//! "Download my data": what goes into the export beside each file as stored — its
//! decrypted content, where Cairn holds the key and the content is the user's data — and
//! the manifest. Key material never goes in: an app's `.collections.keys` (it holds the
//! collections' keys and tokens) is exported only as stored, encrypted.

use super::migration::{Bucket, BucketKind};
use crate::collections::settings::{SETTINGS_PATH, Settings};
use crate::collections::{CollectionKeys, KEY_FILE_NAME};
use crate::crypto::ecies::{self, CipherObject, Plaintext};
use crate::json;
use crate::keys::keychain::Keychain;
use crate::support::encoding::to_hex;
use crate::support::json::{self as json_text, Map, Value};

/// The content of `body` (file `name` of `bucket`) decrypted for the export, or `None`
/// when Cairn cannot open it, it is not encrypted, or it is key material.
pub fn decrypted(
    keychain: &Keychain,
    index: u32,
    settings: &Settings,
    bucket: &Bucket,
    name: &str,
    body: &[u8],
) -> Option<Vec<u8>> {
    if name.rsplit('/').next() == Some(KEY_FILE_NAME) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let plain = match &bucket.kind {
        BucketKind::Identity if name == SETTINGS_PATH => {
            let key = keychain.identity(index).ok()?.key;
            let s = Settings::open(text, &key).ok()?;
            return Some(json_text::to_string_pretty(&s.to_value()).into_bytes());
        }
        BucketKind::Identity => return None,
        BucketKind::Collection { name: collection } => {
            let generation = settings.collections.get(collection)?.generation;
            let keys = CollectionKeys::derive(keychain, index, collection, generation).ok()?;
            keys.decrypt(name, text).ok()?.1
        }
        BucketKind::App { .. } => {
            let obj = CipherObject::from_json(text).ok()?;
            ecies::decrypt(&bucket.key, &obj).ok()?
        }
    };
    Some(match plain {
        Plaintext::Text(t) => t.into_bytes(),
        Plaintext::Bytes(b) => b,
    })
}

/// A path inside the archive made from hub names: `/`-separated, with empty, `.` and
/// `..` segments spelled out so no unzip tool writes outside its folder.
pub fn entry_path(parts: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    for part in parts {
        for seg in part.split('/') {
            out.push(match seg {
                "" => "%".to_string(),
                "." => "%2E".to_string(),
                ".." => "%2E%2E".to_string(),
                s => s.replace('\\', "%5C"),
            });
        }
    }
    out.join("/")
}

/// The folder of a bucket in the archive: `identity-<n>/<kind>-<name>-<address>`.
pub fn bucket_folder(index: u32, bucket: &Bucket) -> String {
    let label = match &bucket.kind {
        BucketKind::Identity => "identity".to_string(),
        BucketKind::App { origin, .. } => format!("app-{}", safe(origin)),
        BucketKind::Collection { name } => format!("collection-{}", safe(name)),
    };
    format!("identity-{}/{label}-{}", index + 1, bucket.address)
}

/// Letters, digits, `-`, `_` and `.` kept; anything else becomes `_`.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One exported file, for the manifest.
#[derive(Debug, Clone)]
pub struct ExportedFile {
    /// The name on the hub.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: [u8; 32],
    /// Its content type.
    pub content_type: String,
    /// The archive path of the stored file.
    pub stored: String,
    /// The archive path of its decrypted content, if any.
    pub decrypted: Option<String>,
}

/// One exported bucket, for the manifest.
#[derive(Debug, Clone)]
pub struct ExportedBucket {
    /// Which identity.
    pub index: u32,
    /// The bucket.
    pub kind: BucketKind,
    /// Its address.
    pub address: String,
    /// The collection's key generation (collections only).
    pub key_generation: Option<u32>,
    /// Its files.
    pub files: Vec<ExportedFile>,
}

/// `manifest.json`: the hub, the buckets (kind, app or collection, address, key
/// generation) and each file's name, size, type, hash and place in the archive.
pub fn manifest(hub_url: &str, exported_at: &str, buckets: &[ExportedBucket]) -> Value {
    let list: Vec<Value> = buckets
        .iter()
        .map(|b| {
            let mut m = Map::new();
            m.insert("identity".into(), (b.index + 1).into());
            let (kind, name) = match &b.kind {
                BucketKind::Identity => ("identity", None),
                BucketKind::App { origin, .. } => ("app", Some(origin.as_str())),
                BucketKind::Collection { name } => ("collection", Some(name.as_str())),
            };
            m.insert("kind".into(), kind.into());
            m.insert_opt("name", name);
            m.insert("address".into(), b.address.as_str().into());
            if let Some(g) = b.key_generation {
                m.insert("keyGeneration".into(), g.into());
            }
            let files: Vec<Value> = b
                .files
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name.as_str(),
                        "size": f.size,
                        "contentType": f.content_type.as_str(),
                        "sha256": to_hex(&f.sha256),
                        "stored": f.stored.as_str(),
                        "decrypted": f.decrypted.as_deref(),
                    })
                })
                .collect();
            m.insert("files".into(), Value::Array(files));
            Value::Object(m)
        })
        .collect();
    json!({
        "format": "cairn-export",
        "version": 1,
        "hub": hub_url,
        "exportedAt": exported_at,
        "buckets": list,
    })
}
