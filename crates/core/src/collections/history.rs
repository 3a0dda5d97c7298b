//! File history in a collection bucket (COLLECTIONS.md §5, §7): the history file name
//! format (built by `cairn-hub`, read by the file browser), each file's version
//! timeline from a `list-files` listing, the state of the bucket at a past time, the
//! plans for rollback, restore and "undo changes since", and line diffs of text and JSON
//! versions.
//!
//! # History names, the one definition
//!
//! As the real Gaia hub (GAIA_HUB.md §6): a store or delete under an archival scope
//! keeps the replaced version of `<dir><name>` as `<dir>.history.<ms>.<id>.<name>`,
//! where `<ms>` is the time it was replaced (decimal milliseconds since the epoch) and
//! `<id>` is [`HISTORY_ID_LEN`] random characters of `[0-9A-Za-z]`. Built by
//! [`history_path`] (with an id from [`history_id_from_bytes`]), recognised by
//! [`is_history_file`], read back by [`parse_history_path`].
//!
//! *What is a history file* is the real hub's rule: any path whose last segment starts
//! with [`HISTORY_PREFIX`]. Such files are hidden from archival-scoped listings and can't
//! be written through an archival token, whatever follows the prefix. Reading also
//! accepts the collections proposal's `<dir>.history.<n>.<name>` (the n-th replaced
//! version, COLLECTIONS.md §5); a history file in neither form is no version of any
//! file we can name, and is left out of timelines (not shown as a current file).

use crate::support::json::{FieldError, Fields, Value};
use std::collections::BTreeMap;

pub use crate::protocol::gaia::ListedFile;

/// The prefix of the last segment of every history (archived) file.
pub const HISTORY_PREFIX: &str = ".history.";

/// Length of the random id inside a history name.
pub const HISTORY_ID_LEN: usize = 10;

/// The characters of a history id (nanoid's `customAlphabet` on the real hub).
pub const HISTORY_ID_ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `(dir, last segment)`, the directory with its trailing `/` (or empty).
fn split_dir(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Whether `path` is a history file: its last segment starts with [`HISTORY_PREFIX`]
/// (the real hub's listing filter; `c/.history.x` is one, `c/.historyx` and
/// `.history./a` are not).
pub fn is_history_file(path: &str) -> bool {
    split_dir(path).1.starts_with(HISTORY_PREFIX)
}

/// The history name the hub keeps the version of `path` under when it is replaced at
/// `replaced_at_ms` (ms since the epoch): `<dir>.history.<ms>.<id>.<name>` for
/// `<dir><name>`. `id` should come from [`history_id_from_bytes`]. The hub must still
/// check the result as a path: archiving a name that starts with `.` (a history file
/// included) gives `..`, which hubs refuse; that is what protects history files.
pub fn history_path(path: &str, replaced_at_ms: u64, id: &str) -> String {
    let (dir, name) = split_dir(path);
    format!("{dir}{HISTORY_PREFIX}{replaced_at_ms}.{id}.{name}")
}

/// A [`HISTORY_ID_LEN`]-character id over [`HISTORY_ID_ALPHABET`] from random bytes,
/// by rejection sampling (bytes ≥ 248 are skipped so every character is equally
/// likely). `None` when the bytes ran out first: 32 random bytes almost always suffice.
pub fn history_id_from_bytes(bytes: &[u8]) -> Option<String> {
    let mut id = String::with_capacity(HISTORY_ID_LEN);
    for &b in bytes {
        if id.len() == HISTORY_ID_LEN {
            break;
        }
        if b < 248 {
            id.push(char::from(HISTORY_ID_ALPHABET[usize::from(b) % 62]));
        }
    }
    (id.len() == HISTORY_ID_LEN).then_some(id)
}

/// A parsed history file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryName {
    /// Directory part, including the trailing `/` (may be empty).
    pub dir: String,
    /// The file name the version belongs to.
    pub name: String,
    /// When it was replaced (ms), for the hub's form.
    pub replaced_at_ms: Option<i64>,
    /// Sequence number, for the proposal's form.
    pub sequence: Option<u64>,
    /// The random id of the hub's form.
    pub id: Option<String>,
}

impl HistoryName {
    /// The path of the file this is a version of.
    pub fn original_path(&self) -> String {
        format!("{}{}", self.dir, self.name)
    }
}

/// Decimal digits only, at least one.
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a history file name: the hub's form `<dir>.history.<ms>.<id>.<name>` (what
/// [`history_path`] builds, for any `<ms>` up to `i64::MAX`), else the proposal's
/// `<dir>.history.<n>.<name>`. `None` for ordinary files, and for history files (see
/// [`is_history_file`]) in neither form. A name that fits both (`.history.3.abcdefghij.x`)
/// is read as the hub's, which is the one hubs write.
///
/// Never panics; `Some` only for a split of `path` itself (`dir` + the prefix + … +
/// `name`).
pub fn parse_history_path(path: &str) -> Option<HistoryName> {
    let (dir, base) = split_dir(path);
    let rest = base.strip_prefix(HISTORY_PREFIX)?;
    let (num, after) = rest.split_once('.')?;
    if !all_digits(num) {
        return None;
    }
    if let Some((id, name)) = after.split_once('.')
        && id.len() == HISTORY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        && !name.is_empty()
    {
        // The hub's form; a time past `i64::MAX` ms is no time at all.
        return Some(HistoryName {
            dir: dir.to_string(),
            name: name.to_string(),
            replaced_at_ms: Some(num.parse::<i64>().ok()?),
            sequence: None,
            id: Some(id.to_string()),
        });
    }
    if after.is_empty() {
        return None;
    }
    Some(HistoryName {
        dir: dir.to_string(),
        name: after.to_string(),
        replaced_at_ms: None,
        sequence: Some(num.parse().ok()?),
        id: None,
    })
}

/// One version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Where this version's bytes are (the file itself, or a history file).
    pub path: String,
    /// When it was written, ms.
    pub written_at_ms: i64,
    /// When it was replaced or deleted, ms; `None` for the current version.
    pub replaced_at_ms: Option<i64>,
    /// ETag.
    pub etag: String,
    /// Size.
    pub size: u64,
    /// Whether this is the current version.
    pub current: bool,
    /// The salt of the token that wrote it, where the hub records it.
    pub writer: Option<String>,
}

/// A file and its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHistory {
    /// The file's path.
    pub path: String,
    /// Versions, oldest first; the last is current unless the file is deleted.
    pub versions: Vec<Version>,
}

impl FileHistory {
    /// The current version, if the file exists.
    pub fn current(&self) -> Option<&Version> {
        self.versions.last().filter(|v| v.current)
    }

    /// Whether the file was deleted (history exists, current does not).
    pub fn is_deleted(&self) -> bool {
        self.current().is_none()
    }

    /// The version that was current at `t_ms`, if the file existed then.
    pub fn version_at(&self, t_ms: i64) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.written_at_ms <= t_ms && v.replaced_at_ms.is_none_or(|r| r > t_ms))
    }

    /// Whether anything happened to the file after `t_ms`.
    pub fn changed_since(&self, t_ms: i64) -> bool {
        self.versions
            .iter()
            .any(|v| v.written_at_ms > t_ms || v.replaced_at_ms.is_some_and(|r| r > t_ms))
    }
}

/// Groups a listing (current files and history files) into per-file histories, sorted
/// by path. History files of the proposal's form get their write time from the listing
/// and are ordered by sequence number.
pub fn build_histories(listing: &[ListedFile]) -> Vec<FileHistory> {
    // Each version with its sort key: (replaced-at or written-at ms, sequence number).
    type Keyed = (Version, (i64, u64));
    let mut files: BTreeMap<String, Vec<Keyed>> = BTreeMap::new();
    for f in listing {
        let written = f.last_modified_date.saturating_mul(1000);
        match parse_history_path(&f.name) {
            // A history file in no known form is no version of a file we can name.
            None if is_history_file(&f.name) => {}
            Some(h) => {
                let order = (h.replaced_at_ms.unwrap_or(written), h.sequence.unwrap_or(0));
                files.entry(h.original_path()).or_default().push((
                    Version {
                        path: f.name.clone(),
                        written_at_ms: written,
                        replaced_at_ms: Some(h.replaced_at_ms.unwrap_or(written)),
                        etag: f.etag.clone(),
                        size: f.content_length,
                        current: false,
                        writer: f.writer.clone(),
                    },
                    order,
                ));
            }
            None => files.entry(f.name.clone()).or_default().push((
                Version {
                    path: f.name.clone(),
                    written_at_ms: written,
                    replaced_at_ms: None,
                    etag: f.etag.clone(),
                    size: f.content_length,
                    current: true,
                    writer: f.writer.clone(),
                },
                (i64::MAX, u64::MAX),
            )),
        }
    }
    files
        .into_iter()
        .map(|(path, mut versions)| {
            crate::support::sorting::sort_by(&mut versions, |a, b| a.1.cmp(&b.1));
            let mut versions: Vec<Version> = versions.into_iter().map(|(v, _)| v).collect();
            // A version can't have been written after the one that replaced it; the hub's
            // second-granular mtimes can make them look so.
            for i in 1..versions.len() {
                if let Some(prev_replaced) = versions[i - 1].replaced_at_ms
                    && versions[i].written_at_ms < prev_replaced
                {
                    versions[i].written_at_ms = versions[i]
                        .written_at_ms
                        .max(prev_replaced.min(versions[i].replaced_at_ms.unwrap_or(i64::MAX)));
                }
            }
            FileHistory { path, versions }
        })
        .collect()
}

/// One change of an undo or rollback plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Write the bytes of `from` (a history file) as `path` with an archival token, so
    /// the replaced current version is kept.
    Restore {
        /// The file to change.
        path: String,
        /// The version to bring back.
        from: String,
        /// True when the file is currently deleted.
        was_deleted: bool,
    },
    /// Delete `path` with an archival token (it stays in history).
    Remove {
        /// The file created after the chosen time.
        path: String,
    },
}

impl Change {
    /// The journal form: `{"action":"restore","path","from","wasDeleted"}` or
    /// `{"action":"remove","path"}`.
    pub fn to_value(&self) -> Value {
        match self {
            Change::Restore {
                path,
                from,
                was_deleted,
            } => crate::json!({
                "action": "restore",
                "path": path.as_str(),
                "from": from.as_str(),
                "wasDeleted": *was_deleted,
            }),
            Change::Remove { path } => crate::json!({"action": "remove", "path": path.as_str()}),
        }
    }

    /// Reads the journal form.
    pub fn from_value(v: &Value) -> Result<Change, FieldError> {
        let f = Fields::of(v, "a planned change")?;
        let path = f.str("path")?.to_string();
        match f.str("action")? {
            "restore" => Ok(Change::Restore {
                path,
                from: f.str("from")?.to_string(),
                was_deleted: f.bool("wasDeleted")?,
            }),
            "remove" => Ok(Change::Remove { path }),
            _ => Err(f.error("action", "\"restore\" or \"remove\"")),
        }
    }

    /// The file the change applies to.
    pub fn path(&self) -> &str {
        match self {
            Change::Restore { path, .. } | Change::Remove { path } => path,
        }
    }
}

/// "Undo changes since T": for every file changed after `t_ms`, bring back its newest
/// version at or before T, or remove it when it did not exist at T. `only` restricts
/// the plan to the given paths (e.g. the files one app changed).
pub fn plan_undo_since(
    histories: &[FileHistory],
    t_ms: i64,
    only: Option<&[String]>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for h in histories {
        if let Some(paths) = only
            && !paths.iter().any(|p| p == &h.path)
        {
            continue;
        }
        if !h.changed_since(t_ms) {
            continue;
        }
        match (h.version_at(t_ms), h.current()) {
            // Same content now as then (e.g. rewritten identically): nothing to do.
            (Some(then), Some(now)) if then.etag == now.etag => {}
            (Some(then), now) => out.push(Change::Restore {
                path: h.path.clone(),
                from: then.path.clone(),
                was_deleted: now.is_none(),
            }),
            (None, Some(_)) => out.push(Change::Remove {
                path: h.path.clone(),
            }),
            (None, None) => {}
        }
    }
    out
}

/// Paths of the files that a writer (one of an app's token salts) changed after `t_ms`:
/// the "Changed by" filter of undo. Only hubs that record writers (cairn-hub) can tell.
pub fn paths_changed_by(histories: &[FileHistory], t_ms: i64, salts: &[String]) -> Vec<String> {
    histories
        .iter()
        .filter(|h| {
            h.versions.iter().any(|v| {
                v.written_at_ms > t_ms && v.writer.as_ref().is_some_and(|w| salts.contains(w))
            })
        })
        .map(|h| h.path.clone())
        .collect()
}

/// Rolling back (or restoring) one file to one of its versions.
pub fn plan_rollback(history: &FileHistory, version_path: &str) -> Option<Change> {
    let v = history.versions.iter().find(|v| v.path == version_path)?;
    if v.current {
        return None;
    }
    Some(Change::Restore {
        path: history.path.clone(),
        from: v.path.clone(),
        was_deleted: history.is_deleted(),
    })
}

/// A line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// In both.
    Same(String),
    /// Only in the old version.
    Removed(String),
    /// Only in the new version.
    Added(String),
}

/// Above this many line pairs the diff is "replace all" instead of a full LCS.
const DIFF_LIMIT: usize = 4_000_000;

/// Line diff of two texts (longest common subsequence of lines).
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len().saturating_mul(b.len()) > DIFF_LIMIT {
        return a
            .iter()
            .map(|l| DiffLine::Removed((*l).to_string()))
            .chain(b.iter().map(|l| DiffLine::Added((*l).to_string())))
            .collect();
    }
    // lcs[i][j] = LCS length of a[i..] and b[j..], in one flat table.
    let w = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * w + j] = if a[i] == b[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
            out.push(DiffLine::Removed(a[i].to_string()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_string()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::Removed((*l).to_string())));
    out.extend(b[j..].iter().map(|l| DiffLine::Added((*l).to_string())));
    out
}

/// Pretty-prints JSON text (2 spaces) so versions diff line by line; non-JSON text is
/// returned unchanged.
pub fn pretty_json(text: &str) -> String {
    match crate::support::json::from_str(text) {
        Ok(v) => crate::support::json::to_string_pretty(&v),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn listed(name: &str, secs: i64, etag: &str) -> ListedFile {
        ListedFile {
            name: name.into(),
            etag: etag.into(),
            content_length: 1,
            content_type: "application/json".into(),
            last_modified_date: secs,
            writer: None,
        }
    }

    #[test]
    fn parses_both_history_forms() {
        let h =
            parse_history_path("collection/.history.1795215929806.MAbvZDcwT6.Blocky Stackerson")
                .unwrap();
        assert_eq!(h.original_path(), "collection/Blocky Stackerson");
        assert_eq!(h.replaced_at_ms, Some(1795215929806));
        let p = parse_history_path("collection/.history.3.notes.txt").unwrap();
        assert_eq!((p.sequence, p.name.as_str()), (Some(3), "notes.txt"));
        assert_eq!(parse_history_path("collection/a.txt"), None);
        assert_eq!(parse_history_path(".history.x.y"), None);
        assert_eq!(parse_history_path(".history.12."), None);
        // The hub's form whatever the number of digits (the hub's own unit tests use 1).
        let short = parse_history_path(".history.1.0123456789.a.txt").unwrap();
        assert_eq!(
            (
                short.replaced_at_ms,
                short.id.as_deref(),
                short.name.as_str()
            ),
            (Some(1), Some("0123456789"), "a.txt")
        );
        // Past i64::MAX ms: a history file, but no version of anything.
        let far = format!(".history.{}.0123456789.a", u64::MAX);
        assert!(is_history_file(&far));
        assert_eq!(parse_history_path(&far), None);
    }

    #[test]
    fn builds_and_recognises_history_names() {
        assert_eq!(
            history_path("collection/contacts.json", 1795215739348, "AKPzqHN0r8"),
            "collection/.history.1795215739348.AKPzqHN0r8.contacts.json"
        );
        assert_eq!(
            history_path("a.txt", 1, "0123456789"),
            ".history.1.0123456789.a.txt"
        );
        assert!(is_history_file("collection/.history.1.x.a"));
        assert!(is_history_file("collection/.history.garbage"));
        assert!(!is_history_file(".historyx"));
        assert!(!is_history_file(".history/a"));
        assert!(!is_history_file("a.history.1.0123456789.b"));
        let id = history_id_from_bytes(&[0, 1, 61, 62, 255, 250, 247, 10, 20, 30, 40, 50]);
        assert_eq!(id.as_deref(), Some("01z0zAKUeo"));
        assert_eq!(history_id_from_bytes(&[255; 64]), None);
        assert_eq!(history_id_from_bytes(&[1; 3]), None);
    }

    #[test]
    fn unparseable_history_files_are_left_out() {
        let hs = build_histories(&[
            listed("collection/.history.garbage", 1, "g"),
            listed("collection/a", 2, "a"),
        ]);
        assert_eq!(hs.len(), 1);
        assert_eq!(hs[0].path, "collection/a");
    }

    #[test]
    fn timeline_state_at_and_undo_plan() {
        // a: written at 100 s, replaced at 200 s by the current version (written 200 s).
        // b: created at 300 s (after T = 250 s).
        // c: written at 50 s, deleted at 260 s.
        let listing = vec![
            listed("collection/.history.0000000200000.AAAAAAAAAA.a", 100, "a1"),
            listed("collection/a", 200, "a2"),
            listed("collection/b", 300, "b1"),
            listed("collection/.history.0000000260000.BBBBBBBBBB.c", 50, "c1"),
            listed("collection/d", 10, "d1"),
        ];
        let hs = build_histories(&listing);
        assert_eq!(hs.len(), 4);
        let a = &hs[0];
        assert_eq!(a.versions.len(), 2);
        assert_eq!(a.version_at(150_000).unwrap().etag, "a1");
        assert_eq!(a.version_at(250_000).unwrap().etag, "a2");
        let plan = plan_undo_since(&hs, 150_000, None);
        assert_eq!(
            plan,
            vec![
                Change::Restore {
                    path: "collection/a".into(),
                    from: "collection/.history.0000000200000.AAAAAAAAAA.a".into(),
                    was_deleted: false
                },
                Change::Remove {
                    path: "collection/b".into()
                },
                Change::Restore {
                    path: "collection/c".into(),
                    from: "collection/.history.0000000260000.BBBBBBBBBB.c".into(),
                    was_deleted: true
                },
            ]
        );
        let mut by_app = build_histories(&[ListedFile {
            writer: Some("s1".into()),
            ..listed("collection/e", 400, "e1")
        }]);
        by_app.extend(hs.iter().cloned());
        assert_eq!(
            paths_changed_by(&by_app, 150_000, &["s1".to_string()]),
            vec!["collection/e".to_string()]
        );
        let only = vec!["collection/b".to_string()];
        assert_eq!(plan_undo_since(&hs, 150_000, Some(&only)).len(), 1);
        assert!(hs[2].is_deleted());
        assert!(plan_rollback(&hs[0], "collection/a").is_none());
        assert!(plan_rollback(&hs[0], "collection/.history.0000000200000.AAAAAAAAAA.a").is_some());
    }

    #[test]
    fn diffs_lines() {
        let d = diff_lines("a\nb\nc", "a\nc\nd");
        assert_eq!(
            d,
            vec![
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Same("c".into()),
                DiffLine::Added("d".into()),
            ]
        );
        assert_eq!(pretty_json("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty_json("plain"), "plain");
    }
}
