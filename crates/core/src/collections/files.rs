//! The file browser's pure core (docs/FILES_UI.md): parsing `list-files` pages, opening
//! file bodies with the right key (collection generations, app keys, signed wrappers),
//! classifying previews (JSON, text, image, binary), the rows shown for a listing
//! (deleted files, filter, the visible window of a long list), and the journaled
//! "undo changes since" job (COLLECTIONS.md §7).
//!
//! The browser runner (`app::browser`) fetches and stores; this module decides.

use crate::collections::history::{Change, FileHistory, is_history_file};
use crate::collections::settings::{LogEntry, Settings};
use crate::crypto::bulk::{self, Bulk};
use crate::crypto::ecies::{self, CipherObject, Plaintext};
use crate::jobs::Job;
use crate::keys::PrivateKey;
use crate::protocol::gaia::ListFilesPage;
use crate::support::encoding::to_hex;
use crate::support::json::{FieldError, Fields, Value};
use base64ct::{Base64, Encoding};

/// Entries per `list-files` page on the real hub and cairn-hub.
pub const PAGE_SIZE: usize = 100;

/// One parsed `list-files` page: the hub answer's one type,
/// [`crate::protocol::gaia::ListFilesPage`].
pub type ListPage = ListFilesPage;

/// Parses a `list-files` answer (`stat: true` or plain) with
/// [`ListFilesPage::from_json`]: `null` entries (what the hub sends for a page emptied
/// by history filtering) are skipped, but keep the listing going; an empty page ends
/// it, whatever `page` says (GAIA_HUB.md §3).
pub fn parse_list_page(body: &str) -> Result<ListPage, String> {
    ListFilesPage::from_json(body).map_err(|e| e.to_string())
}

/// How a file body was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The plaintext.
    pub plain: Plaintext,
    /// Index into the keys given that opened it; `None` for a file stored in the clear.
    pub key_index: Option<usize>,
    /// Whether the body was a signed wrapper (`{signature, publicKey, cipherText}`).
    pub signed: bool,
}

/// Why a body could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// Encrypted, but none of the keys opens it.
    NoKey,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this file is encrypted with a key Cairn does not have")
    }
}

impl std::error::Error for OpenError {}

/// The cipher object inside a body: the body itself, or the `cipherText` of a signed
/// wrapper (`@stacks/storage` with `encrypt` and `sign`).
fn cipher_of(body: &str) -> Option<(CipherObject, bool)> {
    let trimmed = body.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    if let Ok(obj) = CipherObject::from_json(body) {
        return Some((obj, false));
    }
    let v: Value = crate::support::json::from_str(body).ok()?;
    if v.get("signature").is_some() && v.get("publicKey").is_some() {
        let inner = v.get("cipherText")?.as_str()?;
        return CipherObject::from_json(inner).ok().map(|o| (o, true));
    }
    None
}

/// Opens a body with the first of `keys` (tried from the last to the first: pass
/// collection generations oldest first, so the current one is tried first) that
/// decrypts it. A body that is not encrypted comes back as it is.
pub fn open_body(body: &str, keys: &[PrivateKey]) -> Result<Opened, OpenError> {
    bulk::now(|b| open_body_async(b, body, keys))
}

/// [`open_body`] with the MAC checks and AES run by `bulk`.
pub async fn open_body_async(
    bulk: &impl Bulk,
    body: &str,
    keys: &[PrivateKey],
) -> Result<Opened, OpenError> {
    let Some((obj, signed)) = cipher_of(body) else {
        return Ok(Opened {
            plain: Plaintext::Text(body.to_string()),
            key_index: None,
            signed: false,
        });
    };
    for (i, key) in keys.iter().enumerate().rev() {
        if let Ok(plain) = ecies::decrypt_async(bulk, key, &obj).await {
            return Ok(Opened {
                plain,
                key_index: Some(i),
                signed,
            });
        }
    }
    Err(OpenError::NoKey)
}

/// What the file view shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// JSON: the parsed value (shown as a collapsible tree) and its pretty text.
    Json {
        /// The value.
        value: Value,
        /// Pretty-printed (2 spaces), for diffs.
        pretty: String,
    },
    /// Plain text.
    Text(String),
    /// An image: its type and the bytes as base64 (for a `data:` URL).
    Image {
        /// `image/png`, …
        mime: String,
        /// Base64 of the bytes.
        base64: String,
    },
    /// Anything else: size and the first bytes in hex.
    Binary {
        /// Size in bytes.
        size: usize,
        /// Hex of the first 64 bytes.
        head: String,
    },
}

/// Image type from the first bytes (magic numbers).
fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Decides how to show a plaintext, from the stored content type and the bytes
/// themselves (encrypted files are stored as `application/json` whatever they hold).
pub fn classify(content_type: &str, plain: &Plaintext) -> Preview {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let bytes: &[u8] = match plain {
        Plaintext::Text(t) => t.as_bytes(),
        Plaintext::Bytes(b) => b,
    };
    if let Some(mime) = sniff_image(bytes) {
        return Preview::Image {
            mime: mime.into(),
            base64: Base64::encode_string(bytes),
        };
    }
    if ct == "image/svg+xml" {
        // SVG can carry script: shown as text, never rendered.
        return Preview::Text(String::from_utf8_lossy(bytes).into_owned());
    }
    let text = match plain {
        Plaintext::Text(t) => Some(t.as_str()),
        Plaintext::Bytes(b) => std::str::from_utf8(b).ok(),
    };
    match text {
        Some(t) => {
            let first = t.trim_start().chars().next();
            if matches!(first, Some('{') | Some('['))
                && let Ok(value) = crate::support::json::from_str(t)
            {
                let pretty = crate::support::json::to_string_pretty(&value);
                return Preview::Json { value, pretty };
            }
            if t.chars()
                .all(|c| !c.is_control() || c == '\n' || c == '\r' || c == '\t')
            {
                Preview::Text(t.to_string())
            } else {
                Preview::Binary {
                    size: bytes.len(),
                    head: to_hex(&bytes[..bytes.len().min(64)]),
                }
            }
        }
        None => Preview::Binary {
            size: bytes.len(),
            head: to_hex(&bytes[..bytes.len().min(64)]),
        },
    }
}

/// The text compared by "Compare with current": pretty JSON, text, or a note.
pub fn diff_text(preview: &Preview) -> String {
    match preview {
        Preview::Json { pretty, .. } => pretty.clone(),
        Preview::Text(t) => t.clone(),
        Preview::Image { mime, base64 } => format!("({mime}, {} bytes base64)", base64.len()),
        Preview::Binary { size, head } => format!("(binary, {size} bytes: {head}…)"),
    }
}

/// Human size: "512 bytes", "1.5 KB", "2.0 MB".
pub fn format_size(bytes: u64) -> String {
    // One decimal, rounded half up, in integers (no float printer in the page's wasm).
    let tenths = |unit: u64| {
        let t = (bytes / unit) * 10 + ((bytes % unit) * 10 + unit / 2) / unit;
        format!("{}.{}", t / 10, t % 10)
    };
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KB", tenths(1024)),
        _ => format!("{} MB", tenths(1_048_576)),
    }
}

/// The name shown for a path: without the collection's `collection/` prefix.
pub fn display_name(path: &str, prefix: &str) -> String {
    path.strip_prefix(prefix).unwrap_or(path).to_string()
}

/// Whether a listed entry is a history file, shown only as a version of its file
/// ([`is_history_file`], the real hub's rule).
pub fn is_history(path: &str) -> bool {
    is_history_file(path)
}

/// Indices of the rows to show: deleted files only with `show_deleted`, names
/// containing `filter` when it is not empty, both compared after `lower` (a Unicode
/// lower-casing: `str::to_lowercase` natively; the page passes the browser's
/// `toLowerCase`, which saves the wasm module Rust's case tables).
pub fn visible_rows(
    histories: &[FileHistory],
    show_deleted: bool,
    filter: &str,
    lower: &dyn Fn(&str) -> String,
) -> Vec<usize> {
    let needle = lower(filter.trim());
    histories
        .iter()
        .enumerate()
        .filter(|(_, h)| show_deleted || !h.is_deleted())
        .filter(|(_, h)| needle.is_empty() || lower(&h.path).contains(&needle))
        .map(|(i, _)| i)
        .collect()
}

/// The rows of a virtualised list to render: `[start, end)` for a viewport at
/// `scroll_top` of `height` pixels with rows of `row_height`, plus `overscan` rows
/// either side.
pub fn window(
    scroll_top: f64,
    height: f64,
    row_height: f64,
    total: usize,
    overscan: usize,
) -> (usize, usize) {
    if total == 0 || row_height <= 0.0 {
        return (0, 0);
    }
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let count = (height.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(overscan).min(total);
    let end = (first + count + overscan).min(total);
    (start, end)
}

/// The history files of a file (every version except the current one): what "Delete
/// old versions" removes.
pub fn old_version_paths(history: &FileHistory) -> Vec<String> {
    history
        .versions
        .iter()
        .filter(|v| !v.current)
        .map(|v| v.path.clone())
        .collect()
}

/// An "undo changes since" in progress, kept in the settings journal so it resumes
/// after a closed tab (like a revocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoJob {
    /// Collection name.
    pub collection: String,
    /// The chosen time, ms.
    pub since_ms: i64,
    /// The app chosen under "Changed by", if any.
    pub app: Option<String>,
    /// The changes, in order.
    pub plan: Vec<Change>,
    /// How many changes are done (the first `done` of `plan`).
    pub done: usize,
    /// When it started, ms.
    pub started_at: i64,
}

impl UndoJob {
    /// A new job.
    pub fn new(
        collection: &str,
        since_ms: i64,
        app: Option<&str>,
        plan: Vec<Change>,
        now_ms: i64,
    ) -> UndoJob {
        UndoJob {
            collection: collection.into(),
            since_ms,
            app: app.map(str::to_string),
            plan,
            done: 0,
            started_at: now_ms,
        }
    }

    /// The journal form.
    pub fn to_value(&self) -> Value {
        let mut m = crate::support::json::Map::new();
        m.insert("collection".into(), self.collection.as_str().into());
        m.insert("sinceMs".into(), self.since_ms.into());
        m.insert_opt("app", self.app.as_deref());
        m.insert(
            "plan".into(),
            Value::Array(self.plan.iter().map(Change::to_value).collect()),
        );
        m.insert("done".into(), self.done.into());
        m.insert("startedAt".into(), self.started_at.into());
        Value::Object(m)
    }

    /// Reads the journal form.
    pub fn from_value(v: &Value) -> Result<UndoJob, FieldError> {
        let f = Fields::of(v, "an undo job")?;
        Ok(UndoJob {
            collection: f.str("collection")?.to_string(),
            since_ms: f.i64("sinceMs")?,
            app: f.opt_str("app")?.map(str::to_string),
            plan: f
                .array("plan")?
                .iter()
                .map(Change::from_value)
                .collect::<Result<_, _>>()?,
            done: f.req("done", "a whole number", |v| {
                v.as_u64().and_then(|n| usize::try_from(n).ok())
            })?,
            started_at: f.i64("startedAt")?,
        })
    }

    /// Undo jobs found in the journal.
    pub fn pending(settings: &Settings) -> Vec<UndoJob> {
        settings.journal.undos().cloned().collect()
    }

    /// Writes this job (with its progress) into the journal.
    pub fn save_progress(&self, settings: &mut Settings) {
        settings.journal.save(Job::Undo(self.clone()));
    }

    /// Removes the job from the journal; logs it when `completed`.
    pub fn finish(&self, settings: &mut Settings, now_ms: i64, completed: bool) {
        settings.journal.remove(&Job::Undo(self.clone()));
        settings.log.push(LogEntry {
            at: now_ms,
            event: "undo".into(),
            collection: Some(self.collection.clone()),
            app: self.app.clone(),
            detail: Some(format!(
                "changes since {} ms undone: {} of {} file(s){}",
                self.since_ms,
                self.done,
                self.plan.len(),
                if completed { "" } else { " (stopped)" }
            )),
        });
    }

    /// The next change to make.
    pub fn next(&self) -> Option<&Change> {
        self.plan.get(self.done)
    }
}

/// What one change of an undo plan does, for the preview list: the version brought back
/// (its write time) or `None` for a removal.
pub fn change_target<'a>(
    change: &Change,
    histories: &'a [FileHistory],
) -> Option<&'a crate::collections::history::Version> {
    match change {
        Change::Restore { path, from, .. } => histories
            .iter()
            .find(|h| &h.path == path)
            .and_then(|h| h.versions.iter().find(|v| &v.path == from)),
        Change::Remove { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::collections::history::{ListedFile, build_histories};
    use crate::crypto::ecies::CipherTextEncoding;

    #[test]
    fn parses_pages() {
        let p = parse_list_page(
            r#"{"entries":[{"name":"collection/a","etag":"e","contentLength":3,"contentType":"application/json","lastModifiedDate":5,"writer":"s"},null],"page":"1"}"#,
        )
        .unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].writer.as_deref(), Some("s"));
        assert_eq!(p.next.as_deref(), Some("1"));
        let end = parse_list_page(r#"{"entries":[],"page":"5"}"#).unwrap();
        assert_eq!(end.next, None);
        let plain = parse_list_page(r#"{"entries":["x"],"page":null}"#).unwrap();
        assert_eq!((plain.entries[0].name.as_str(), plain.next), ("x", None));
        // A page emptied by history filtering still goes on.
        assert_eq!(
            parse_list_page(r#"{"entries":[null],"page":"2"}"#)
                .unwrap()
                .next
                .as_deref(),
            Some("2")
        );
        assert!(parse_list_page("nope").is_err());
    }

    #[test]
    fn opens_with_the_right_key() {
        let g0 = PrivateKey::random().unwrap();
        let g1 = PrivateKey::random().unwrap();
        let body = ecies::encrypt(
            &g0.public_key(),
            b"{\"a\":1}",
            true,
            CipherTextEncoding::Hex,
        )
        .unwrap()
        .to_json();
        let o = open_body(&body, &[g0.clone(), g1.clone()]).unwrap();
        assert_eq!(o.key_index, Some(0));
        assert_eq!(o.plain, Plaintext::Text("{\"a\":1}".into()));
        assert_eq!(
            open_body(&body, std::slice::from_ref(&g1)),
            Err(OpenError::NoKey)
        );
        // Signed wrapper.
        let signed =
            crate::json!({"signature": "00", "publicKey": "02", "cipherText": body}).to_string();
        let o = open_body(&signed, &[g0]).unwrap();
        assert!(o.signed);
        // Clear text.
        let o = open_body("hello", &[g1]).unwrap();
        assert_eq!(
            (o.key_index, o.plain),
            (None, Plaintext::Text("hello".into()))
        );
    }

    #[test]
    fn classifies_previews() {
        assert!(matches!(
            classify("application/json", &Plaintext::Text("{\"a\":[1,2]}".into())),
            Preview::Json { .. }
        ));
        assert_eq!(
            classify("text/plain", &Plaintext::Text("hi\nthere".into())),
            Preview::Text("hi\nthere".into())
        );
        let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
        assert!(matches!(
            classify("application/json", &Plaintext::Bytes(png)),
            Preview::Image { ref mime, .. } if mime == "image/png"
        ));
        assert!(matches!(
            classify(
                "application/octet-stream",
                &Plaintext::Bytes(vec![0, 1, 2, 255])
            ),
            Preview::Binary { size: 4, .. }
        ));
        assert!(matches!(
            classify("image/svg+xml", &Plaintext::Text("<svg/>".into())),
            Preview::Text(_)
        ));
        assert_eq!(format_size(10), "10 bytes");
        assert_eq!(format_size(1536), "1.5 KB");
        assert_eq!(format_size(1024), "1.0 KB");
        assert_eq!(format_size(1_048_575), "1024.0 KB");
        assert_eq!(format_size(1_048_576), "1.0 MB");
        assert_eq!(format_size(2_621_440), "2.5 MB");
        assert_eq!(format_size(u64::MAX), "17592186044416.0 MB");
    }

    #[test]
    fn rows_and_windows() {
        let l = |n: &str| ListedFile {
            name: n.into(),
            etag: "e".into(),
            content_length: 1,
            content_type: String::new(),
            last_modified_date: 1,
            writer: None,
        };
        let hs = build_histories(&[
            l("collection/a"),
            l("collection/.history.1700000000000.AAAAAAAAAA.b"),
            l("collection/c"),
        ]);
        assert_eq!(visible_rows(&hs, false, "", &str::to_lowercase), vec![0, 2]);
        assert_eq!(
            visible_rows(&hs, true, "", &str::to_lowercase),
            vec![0, 1, 2]
        );
        assert_eq!(visible_rows(&hs, true, "B", &str::to_lowercase), vec![1]);
        // Case-insensitive beyond ASCII, with whatever lower-casing the caller gives.
        let hs2 = build_histories(&[l("collection/Café.txt"), l("collection/cafe.txt")]);
        assert_eq!(
            visible_rows(&hs2, false, " CAFÉ ", &str::to_lowercase),
            vec![0]
        );
        assert_eq!(
            visible_rows(&hs2, false, "CAF", &str::to_lowercase),
            vec![0, 1]
        );
        assert_eq!(old_version_paths(&hs[1]).len(), 1);
        assert_eq!(window(0.0, 400.0, 40.0, 10_000, 5), (0, 16));
        assert_eq!(window(4000.0, 400.0, 40.0, 10_000, 5), (95, 116));
        assert_eq!(window(0.0, 400.0, 40.0, 3, 5), (0, 3));
        assert_eq!(window(0.0, 400.0, 40.0, 0, 5), (0, 0));
    }

    #[test]
    fn undo_jobs_are_journaled() {
        let mut s = Settings::default();
        let mut job = UndoJob::new(
            "contact",
            1000,
            None,
            vec![Change::Remove {
                path: "collection/x".into(),
            }],
            5,
        );
        job.save_progress(&mut s);
        job.done = 1;
        job.save_progress(&mut s);
        let p = UndoJob::pending(&s);
        assert_eq!(p, vec![job.clone()]);
        assert!(p[0].next().is_none());
        job.finish(&mut s, 9, true);
        assert!(UndoJob::pending(&s).is_empty());
        assert_eq!(s.log.last().unwrap().event, "undo");
    }
}
