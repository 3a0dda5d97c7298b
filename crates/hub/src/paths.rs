//! Bucket addresses and file paths. Pure; no I/O.
//!
//! History (archival) names are the core's, defined once in
//! [`cairn_core::collections::history`] (which the file browser reads them with) and
//! re-exported here: [`history_path`], [`is_history_file`], [`history_id_from_bytes`].
//!
//! Path rules follow the real hub's disk driver (GAIA_HUB.md §9), made stricter where
//! the real hub silently collapses or mangles names:
//! - no `..` anywhere (so `a..b.txt` is refused, as on the real hub);
//! - no empty segment (no leading `/`, no `//`), no `.` segment;
//! - no ASCII control characters;
//! - at most [`MAX_PATH_CHARS`] characters and [`MAX_COMPONENTS`] segments.

use std::fmt;

/// Longest accepted path, in characters.
pub const MAX_PATH_CHARS: usize = 4096;

/// Most path segments accepted.
pub const MAX_COMPONENTS: usize = 100;

/// Longest accepted bucket address.
pub const MAX_ADDRESS_LEN: usize = 128;

pub use cairn_core::collections::history::{
    HISTORY_ID_LEN, HISTORY_PREFIX, history_id_from_bytes, history_path, is_history_file,
};

/// Why a path was refused. Every variant maps to 403 `BadPathError` "Invalid Path".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty.
    Empty,
    /// The path contains `..`.
    DotDot,
    /// The path has an empty segment (leading `/` or `//`).
    EmptySegment,
    /// The path has a `.` segment.
    DotSegment,
    /// The path contains an ASCII control character.
    ControlCharacter,
    /// The path is longer than [`MAX_PATH_CHARS`].
    TooLong,
    /// The path has more than [`MAX_COMPONENTS`] segments.
    TooManyComponents,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            PathError::Empty => "the path is empty",
            PathError::DotDot => "the path contains '..'",
            PathError::EmptySegment => "the path has an empty segment",
            PathError::DotSegment => "the path has a '.' segment",
            PathError::ControlCharacter => "the path contains a control character",
            PathError::TooLong => "the path is too long",
            PathError::TooManyComponents => "the path has too many segments",
        };
        f.write_str(s)
    }
}

impl std::error::Error for PathError {}

/// A bucket address as the hub's write routes accept it: `[A-Za-z0-9]+`.
pub fn is_valid_address(address: &str) -> bool {
    !address.is_empty()
        && address.len() <= MAX_ADDRESS_LEN
        && address.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A top-level name the read route serves: `[A-Za-z0-9_-]+` (so `<address>-auth` too).
pub fn is_valid_read_bucket(bucket: &str) -> bool {
    !bucket.is_empty()
        && bucket.len() <= MAX_ADDRESS_LEN + 8
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Removes one trailing `/`, as the real hub's routes do (`notes/b.txt/` → `notes/b.txt`).
pub fn strip_one_trailing_slash(path: &str) -> &str {
    path.strip_suffix('/').unwrap_or(path)
}

/// Checks a (decoded, trailing-slash-stripped) path against the rules above.
pub fn validate_path(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.contains("..") {
        return Err(PathError::DotDot);
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(PathError::ControlCharacter);
    }
    if path.chars().count() > MAX_PATH_CHARS {
        return Err(PathError::TooLong);
    }
    let mut count = 0usize;
    for segment in path.split('/') {
        count += 1;
        if segment.is_empty() {
            return Err(PathError::EmptySegment);
        }
        if segment == "." {
            return Err(PathError::DotSegment);
        }
    }
    if count > MAX_COMPONENTS {
        return Err(PathError::TooManyComponents);
    }
    Ok(())
}

/// The storage key of a file: `<address>/<path>`.
pub fn object_key(address: &str, path: &str) -> String {
    format!("{address}/{path}")
}

/// The storage key of a bucket's revocation timestamp: `<address>-auth/authTimestamp`.
pub fn auth_timestamp_key(address: &str) -> String {
    format!("{address}-auth/authTimestamp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert!(is_valid_address("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(!is_valid_address(""));
        assert!(!is_valid_address("abc-auth"));
        assert!(!is_valid_address("a/b"));
        assert!(is_valid_read_bucket("abc-auth"));
        assert!(!is_valid_read_bucket("a.b"));
    }

    #[test]
    fn path_rules() {
        assert_eq!(validate_path("a.txt"), Ok(()));
        assert_eq!(validate_path("dir/sub/b.bin"), Ok(()));
        assert_eq!(validate_path("my file.txt"), Ok(()));
        assert_eq!(validate_path(".hidden"), Ok(()));
        assert_eq!(validate_path(""), Err(PathError::Empty));
        assert_eq!(validate_path("../x"), Err(PathError::DotDot));
        assert_eq!(validate_path("a..b.txt"), Err(PathError::DotDot));
        assert_eq!(validate_path("a/../../etc/passwd"), Err(PathError::DotDot));
        assert_eq!(validate_path("/lead.txt"), Err(PathError::EmptySegment));
        assert_eq!(validate_path("a//b"), Err(PathError::EmptySegment));
        assert_eq!(validate_path("a/"), Err(PathError::EmptySegment));
        assert_eq!(validate_path("./a"), Err(PathError::DotSegment));
        assert_eq!(validate_path("a\0b"), Err(PathError::ControlCharacter));
        assert_eq!(validate_path("a\nb"), Err(PathError::ControlCharacter));
        assert_eq!(validate_path(&"a".repeat(4097)), Err(PathError::TooLong));
        assert_eq!(validate_path(&"a".repeat(4096)), Ok(()));
        assert_eq!(
            validate_path(&vec!["a"; 101].join("/")),
            Err(PathError::TooManyComponents)
        );
        assert_eq!(validate_path(&vec!["a"; 100].join("/")), Ok(()));
    }

    #[test]
    fn trailing_slash() {
        assert_eq!(strip_one_trailing_slash("notes/b.txt/"), "notes/b.txt");
        assert_eq!(strip_one_trailing_slash("a//"), "a/");
        assert_eq!(strip_one_trailing_slash("a"), "a");
    }

    #[test]
    fn history_names() {
        // The format itself is tested where it lives (cairn_core::collections::history);
        // here: what the hub writes, the core reads back as a version of the file.
        let h = history_path("c/x.json", 1795215739348, "AKPzqHN0r8");
        let parsed = cairn_core::collections::history::parse_history_path(&h);
        assert_eq!(
            parsed.map(|p| (p.original_path(), p.replaced_at_ms)),
            Some(("c/x.json".to_string(), Some(1795215739348)))
        );
        // Archiving a history file (or any dot-file) yields `..` and is refused.
        let h = history_path("c/.history.1.abcdefghij.a", 2, "0123456789");
        assert_eq!(validate_path(&h), Err(PathError::DotDot));
        assert_eq!(
            validate_path(&history_path("c/.hidden", 2, "0123456789")),
            Err(PathError::DotDot)
        );
        assert_eq!(validate_path(&history_path("c/x", 2, "0123456789")), Ok(()));
    }

    #[test]
    fn history_ids() {
        let id = history_id_from_bytes(&[0, 1, 61, 62, 255, 250, 247, 10, 20, 30, 40, 50]).unwrap();
        assert_eq!(id.len(), 10);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(&id[..4], "01z0");
        assert_eq!(history_id_from_bytes(&[255; 64]), None);
        assert_eq!(history_id_from_bytes(&[1; 3]), None);
    }

    #[test]
    fn keys() {
        assert_eq!(object_key("1A", "x/y"), "1A/x/y");
        assert_eq!(auth_timestamp_key("1A"), "1A-auth/authTimestamp");
    }
}
