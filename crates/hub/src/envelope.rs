//! The on-storage format of one file: content and metadata in a single object, so one
//! atomic `put` writes both and a crash can never leave them disagreeing. Pure; no I/O.
//!
//! ```text
//! <content bytes> <metadata JSON> <u32 big-endian length of the JSON> "CAIRNHB1"
//! ```
//!
//! The metadata sits in a trailer (not a header) because the ETag is the MD5 of the
//! content, which is only known once the upload has streamed through. Readers fetch a
//! suffix of the object, parse the trailer, and serve only the first `size` bytes; the
//! trailer is never sent to clients.

use cairn_core::support::json::{self, Fields, Map, Value};
use std::fmt;

/// The last 8 bytes of every object the hub writes.
pub const MAGIC: &[u8; 8] = b"CAIRNHB1";

/// Fixed bytes after the JSON: the length word and the magic.
pub const FIXED_TRAILER_LEN: usize = 4 + MAGIC.len();

/// Longest metadata JSON the hub writes or accepts.
pub const MAX_META_LEN: usize = 4096;

/// A suffix this long always holds the whole trailer.
pub const MAX_TRAILER_LEN: usize = MAX_META_LEN + FIXED_TRAILER_LEN;

/// Longest `Content-Type` the hub stores (the real hub's limit).
pub const MAX_CONTENT_TYPE_LEN: usize = 1024;

/// Metadata stored with each file, as the JSON object
/// `{"contentType","etag","size","writer"?,"vid"?,"hprev"?}` (in that order, compact,
/// the optional members only when known). Written and read with the core's JSON layer ([`Meta::to_json`],
/// [`Meta::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// `Content-Type` as the client sent it.
    pub content_type: String,
    /// Lower-case hex MD5 of the content (unquoted, as the real hub).
    pub etag: String,
    /// Content length in bytes.
    pub size: u64,
    /// The `salt` of the token that wrote this version, when it had one: lets the
    /// owner tell which app (each app's collection token has its own salt) wrote what.
    pub writer: Option<String>,
    /// This version's random id (10 characters of `[0-9A-Za-z]`): tells two versions
    /// with the same content apart, names the version's archive claim (see
    /// `Storage::commit`) and lets a replicated store tell which backend lags. Absent
    /// in files written by older hubs.
    pub vid: Option<String>,
    /// The history number (archival time, ms) under which the version this one
    /// replaced was archived, when it was: the next archival of this version takes a
    /// larger number, so a file's history numbers grow even across clocks.
    pub hprev: Option<u64>,
}

impl Meta {
    /// The metadata JSON stored in the trailer.
    pub fn to_json(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("contentType".into(), self.content_type.as_str().into());
        m.insert("etag".into(), self.etag.as_str().into());
        m.insert("size".into(), self.size.into());
        m.insert_opt("writer", self.writer.as_deref());
        m.insert_opt("vid", self.vid.as_deref());
        if let Some(n) = self.hprev {
            m.insert("hprev".into(), n.into());
        }
        json::to_string(&Value::Object(m)).into_bytes()
    }

    /// Reads the metadata JSON: an object with string `contentType` and `etag`, a whole
    /// `size`, and an optional string (or `null`) `writer`; other members are ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Meta, EnvelopeError> {
        let v = json::from_slice(bytes).map_err(|_| EnvelopeError::BadMeta)?;
        let read = || -> Result<Meta, json::FieldError> {
            let f = Fields::of(&v, "the file's metadata")?;
            Ok(Meta {
                content_type: f.str("contentType")?.to_string(),
                etag: f.str("etag")?.to_string(),
                size: f.u64("size")?,
                writer: f.opt_str("writer")?.map(str::to_string),
                vid: f.opt_str("vid")?.map(str::to_string),
                hprev: f.opt("hprev", "a whole number", Value::as_u64)?,
            })
        };
        read().map_err(|_| EnvelopeError::BadMeta)
    }
}

/// Why an object could not be read as a hub file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The object is shorter than the fixed trailer, or lacks the magic.
    NotAnEnvelope,
    /// The metadata length does not fit the object.
    BadLength,
    /// The metadata is not valid JSON of the expected shape.
    BadMeta,
    /// The suffix handed in is too short to hold the trailer.
    NeedMore,
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            EnvelopeError::NotAnEnvelope => "the object is not a cairn-hub file",
            EnvelopeError::BadLength => "the object's metadata length is inconsistent",
            EnvelopeError::BadMeta => "the object's metadata is not valid",
            EnvelopeError::NeedMore => "the suffix is too short to hold the trailer",
        };
        f.write_str(s)
    }
}

impl std::error::Error for EnvelopeError {}

/// The trailer to append after `meta.size` content bytes.
pub fn encode_trailer(meta: &Meta) -> Vec<u8> {
    let json = meta.to_json();
    let mut out = Vec::with_capacity(json.len() + FIXED_TRAILER_LEN);
    out.extend_from_slice(&json);
    let len = u32::try_from(json.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(MAGIC);
    out
}

/// Parses the trailer from the last bytes of an object.
///
/// `suffix` is the end of the object and `object_len` its full length. Returns the
/// metadata; the content is the first `meta.size` bytes of the object.
pub fn decode_trailer(suffix: &[u8], object_len: u64) -> Result<Meta, EnvelopeError> {
    if suffix.len() < FIXED_TRAILER_LEN || (suffix.len() as u64) > object_len {
        return Err(EnvelopeError::NotAnEnvelope);
    }
    let (rest, magic) = suffix.split_at(suffix.len() - MAGIC.len());
    if magic != MAGIC {
        return Err(EnvelopeError::NotAnEnvelope);
    }
    let (rest, len_bytes) = rest.split_at(rest.len() - 4);
    let len_arr: [u8; 4] = len_bytes
        .try_into()
        .map_err(|_| EnvelopeError::NotAnEnvelope)?;
    let meta_len = u32::from_be_bytes(len_arr) as usize;
    if meta_len > MAX_META_LEN || (meta_len + FIXED_TRAILER_LEN) as u64 > object_len {
        return Err(EnvelopeError::BadLength);
    }
    if rest.len() < meta_len {
        return Err(EnvelopeError::NeedMore);
    }
    let json = &rest[rest.len() - meta_len..];
    let meta = Meta::from_json(json)?;
    if meta.size.checked_add((meta_len + FIXED_TRAILER_LEN) as u64) != Some(object_len) {
        return Err(EnvelopeError::BadLength);
    }
    Ok(meta)
}

/// Builds a whole object in memory (content + trailer).
pub fn encode(content: &[u8], content_type: &str, etag: &str) -> Vec<u8> {
    let meta = Meta {
        content_type: content_type.to_string(),
        etag: etag.to_string(),
        size: content.len() as u64,
        writer: None,
        vid: None,
        hprev: None,
    };
    let mut out = content.to_vec();
    out.extend_from_slice(&encode_trailer(&meta));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let obj = encode(b"hello", "text/plain", "5d41402abc4b2a76b9719d911017c592");
        let m = decode_trailer(&obj, obj.len() as u64).unwrap();
        assert_eq!(m.size, 5);
        assert_eq!(m.content_type, "text/plain");
        assert_eq!(&obj[..m.size as usize], b"hello");
        // Decoding from a suffix only.
        let suffix = &obj[3..];
        assert_eq!(decode_trailer(suffix, obj.len() as u64).unwrap(), m);
    }

    #[test]
    fn metadata_bytes_are_unchanged() {
        // Objects already stored depend on these bytes (and on reading them back).
        let m = Meta {
            content_type: "text/plain; \"x\"\u{1}é".into(),
            etag: "e".into(),
            size: 5,
            writer: Some("00ff".into()),
            vid: None,
            hprev: None,
        };
        assert_eq!(
            String::from_utf8(m.to_json()).unwrap_or_default(),
            r#"{"contentType":"text/plain; \"x\"\u0001é","etag":"e","size":5,"writer":"00ff"}"#
        );
        let versioned = Meta {
            vid: Some("AKPzqHN0r8".into()),
            hprev: Some(1795215739348),
            ..m.clone()
        };
        assert_eq!(
            String::from_utf8(versioned.to_json()).unwrap_or_default(),
            r#"{"contentType":"text/plain; \"x\"\u0001é","etag":"e","size":5,"writer":"00ff","vid":"AKPzqHN0r8","hprev":1795215739348}"#
        );
        assert_eq!(Meta::from_json(&versioned.to_json()), Ok(versioned));
        assert_eq!(Meta::from_json(&m.to_json()), Ok(m.clone()));
        let without = Meta { writer: None, ..m };
        assert!(!String::from_utf8_lossy(&without.to_json()).contains("writer"));
        assert_eq!(
            Meta::from_json(br#"{"contentType":"a","etag":"b","size":1,"writer":null,"x":[]}"#),
            Ok(Meta {
                content_type: "a".into(),
                etag: "b".into(),
                size: 1,
                writer: None,
                vid: None,
                hprev: None,
            })
        );
        for bad in [
            &b"[]"[..],
            br#"{"contentType":"a","etag":"b"}"#,
            br#"{"contentType":"a","etag":"b","size":-1}"#,
            br#"{"contentType":"a","etag":"b","size":1,"hprev":"1"}"#,
            br#"{"contentType":"a","etag":"b","size":1,"vid":5}"#,
            b"\xff",
        ] {
            assert_eq!(Meta::from_json(bad), Err(EnvelopeError::BadMeta));
        }
    }

    #[test]
    fn empty_content() {
        let obj = encode(
            b"",
            "application/octet-stream",
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        let m = decode_trailer(&obj, obj.len() as u64).unwrap();
        assert_eq!(m.size, 0);
    }

    #[test]
    fn content_that_looks_like_a_trailer_is_fine() {
        let inner = encode(b"x", "a", "b");
        let obj = encode(&inner, "c", "d");
        let m = decode_trailer(&obj, obj.len() as u64).unwrap();
        assert_eq!(m.content_type, "c");
        assert_eq!(&obj[..m.size as usize], &inner[..]);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode_trailer(b"", 0), Err(EnvelopeError::NotAnEnvelope));
        assert_eq!(
            decode_trailer(b"plain old file", 14),
            Err(EnvelopeError::NotAnEnvelope)
        );
        let mut obj = encode(b"hello", "t", "e");
        let n = obj.len() as u64;
        assert_eq!(decode_trailer(&obj, n + 1), Err(EnvelopeError::BadLength));
        let short = &obj[obj.len() - FIXED_TRAILER_LEN - 2..];
        assert_eq!(decode_trailer(short, n), Err(EnvelopeError::NeedMore));
        let l = obj.len();
        obj[l - 12..l - 8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode_trailer(&obj, n), Err(EnvelopeError::BadLength));
    }
}
