//! `list-files` paging. Pure; no I/O.
//!
//! Unlike the real disk driver (page indexes that never end, `[null]` placeholder
//! pages), entries are sorted by name and the cursor is the last name returned, encoded
//! opaquely. The last page always has `page: null`; history files are filtered out
//! *before* paging for archival-scoped tokens, so no page is ever padded with `null`.
//! A cursor stays valid while files are added or removed: the next page starts strictly
//! after the name it encodes, so no entry is returned twice and paging always ends.
//! The hub pages with [`page_sorted`] over the bucket's sorted listing, which storage
//! keeps between the pages of a listing (`Storage::sorted_listing`), so a page costs a
//! binary search and the page's entries, not a walk of the whole bucket.

use cairn_core::support::encoding::{from_base64url, to_base64url};
use std::fmt;

/// The default page size, as on the real hub.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The largest page size the configuration accepts.
pub const MAX_PAGE_SIZE: usize = 4096;

const CURSOR_PREFIX: &str = "c1.";

/// Why a listing request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListError {
    /// The `page` value is not a cursor this hub issued.
    BadCursor,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::BadCursor => f.write_str("Invalid page cursor"),
        }
    }
}

impl std::error::Error for ListError {}

/// Encodes the name a page ended on as an opaque cursor.
pub fn encode_cursor(last_name: &str) -> String {
    format!("{CURSOR_PREFIX}{}", to_base64url(last_name.as_bytes()))
}

/// Decodes a cursor from [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Result<String, ListError> {
    let body = cursor
        .strip_prefix(CURSOR_PREFIX)
        .ok_or(ListError::BadCursor)?;
    let bytes = from_base64url(body).map_err(|_| ListError::BadCursor)?;
    String::from_utf8(bytes).map_err(|_| ListError::BadCursor)
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The entries on this page, in name order.
    pub entries: Vec<T>,
    /// The cursor for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Picks the page of `items` that follows `after` (a decoded cursor).
///
/// `items` may arrive in any order and may contain duplicates; `hide` drops entries
/// (history files for archival tokens) before paging. `page_size` 0 is treated as 1.
pub fn paginate<T>(
    mut items: Vec<T>,
    name: impl Fn(&T) -> &str,
    after: Option<&str>,
    page_size: usize,
    hide: impl Fn(&str) -> bool,
) -> Page<T> {
    let page_size = page_size.max(1);
    items.retain(|it| {
        let n = name(it);
        !hide(n) && after.is_none_or(|a| n > a)
    });
    items.sort_by(|a, b| name(a).cmp(name(b)));
    items.dedup_by(|a, b| name(a) == name(b));
    if items.len() > page_size {
        items.truncate(page_size);
        let next = items.last().map(|it| encode_cursor(name(it)));
        Page {
            entries: items,
            next,
        }
    } else {
        Page {
            entries: items,
            next: None,
        }
    }
}

/// The page of `items` (sorted by name, no duplicates) that follows `after`: a binary
/// search for the start, then at most `page_size` shown entries (plus the hidden ones
/// between them; `hide` as in [`paginate`]). Same pages as [`paginate`] on the same items.
pub fn page_sorted<'a, T>(
    items: &'a [T],
    name: impl Fn(&T) -> &str,
    after: Option<&str>,
    page_size: usize,
    hide: impl Fn(&str) -> bool,
) -> Page<&'a T> {
    let page_size = page_size.max(1);
    let start = after.map_or(0, |a| items.partition_point(|it| name(it) <= a));
    let mut entries = Vec::with_capacity(page_size.min(items.len() - start));
    let mut more = false;
    for it in &items[start..] {
        if hide(name(it)) {
            continue;
        }
        if entries.len() == page_size {
            more = true;
            break;
        }
        entries.push(it);
    }
    let next = if more {
        entries.last().map(|it| encode_cursor(name(it)))
    } else {
        None
    };
    Page { entries, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::is_history_file;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn all_pages(items: Vec<String>, size: usize, hide_history: bool) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let p = paginate(
                items.clone(),
                |s| s.as_str(),
                after.as_deref(),
                size,
                |n| hide_history && is_history_file(n),
            );
            out.push(p.entries);
            match p.next {
                Some(c) => after = Some(decode_cursor(&c).unwrap()),
                None => break,
            }
            assert!(out.len() < 1000, "listing never ended");
        }
        out
    }

    #[test]
    fn pages_end_with_null() {
        let items = names(&["e", "a", "d", "c", "b", "f", "g"]);
        let pages = all_pages(items, 3, false);
        assert_eq!(
            pages,
            vec![
                names(&["a", "b", "c"]),
                names(&["d", "e", "f"]),
                names(&["g"])
            ]
        );
        // Exactly a multiple of the page size: no trailing empty page.
        let pages = all_pages(names(&["a", "b", "c"]), 3, false);
        assert_eq!(pages, vec![names(&["a", "b", "c"])]);
        // Empty bucket.
        assert_eq!(all_pages(vec![], 3, false), vec![Vec::<String>::new()]);
    }

    #[test]
    fn history_is_filtered_before_paging() {
        let items = names(&[
            "c/.history.1.aaaaaaaaaa.x",
            "c/.history.2.aaaaaaaaaa.x",
            "c/.history.3.aaaaaaaaaa.x",
            "c/.history.4.aaaaaaaaaa.x",
            "c/x",
            "z",
        ]);
        let pages = all_pages(items.clone(), 3, true);
        assert_eq!(pages, vec![names(&["c/x", "z"])]);
        let pages = all_pages(items, 3, false);
        assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 6);
        assert!(pages.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn sorted_pages_match_paginate() {
        let mut items: Vec<String> = (0..57)
            .map(|i| {
                if i % 4 == 0 {
                    format!("c/.history.{i}.aaaaaaaaaa.f{}", i % 9)
                } else {
                    format!("c/f{:02}", (i * 7) % 50)
                }
            })
            .collect();
        items.push("c/f07".into());
        let mut sorted = items.clone();
        sorted.sort();
        sorted.dedup();
        for size in [1, 3, 10, 100] {
            for hide_history in [false, true] {
                let hide = |n: &str| hide_history && is_history_file(n);
                let mut after: Option<String> = None;
                loop {
                    let a = paginate(items.clone(), |s| s.as_str(), after.as_deref(), size, hide);
                    let b = page_sorted(&sorted, |s| s.as_str(), after.as_deref(), size, hide);
                    assert_eq!(
                        a.entries,
                        b.entries.into_iter().cloned().collect::<Vec<_>>()
                    );
                    assert_eq!(a.next, b.next);
                    match a.next {
                        Some(c) => after = Some(decode_cursor(&c).unwrap()),
                        None => break,
                    }
                }
            }
        }
        // A cursor past the end, and an empty listing.
        let p = page_sorted(&sorted, |s| s.as_str(), Some("zzz"), 3, |_| false);
        assert!(p.entries.is_empty() && p.next.is_none());
        let empty: Vec<String> = Vec::new();
        let p = page_sorted(&empty, |s| s.as_str(), None, 3, |_| false);
        assert!(p.entries.is_empty() && p.next.is_none());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for n in ["a", "dir/my file.txt", "ünï/cödé", ""] {
            assert_eq!(decode_cursor(&encode_cursor(n)).unwrap(), n);
        }
        assert_eq!(decode_cursor("1"), Err(ListError::BadCursor));
        assert_eq!(decode_cursor("c1.!!"), Err(ListError::BadCursor));
        assert_eq!(
            decode_cursor(&format!("c1.{}", to_base64url(&[0xff, 0xfe]))),
            Err(ListError::BadCursor)
        );
    }

    #[test]
    fn cursor_survives_concurrent_changes() {
        let p1 = paginate(
            names(&["a", "b", "c", "d"]),
            |s| s.as_str(),
            None,
            2,
            |_| false,
        );
        assert_eq!(p1.entries, names(&["a", "b"]));
        let after = decode_cursor(p1.next.as_deref().unwrap()).unwrap();
        // "b" deleted, "aa" added (before the cursor), "bb" added after it.
        let p2 = paginate(
            names(&["a", "aa", "c", "bb", "d"]),
            |s| s.as_str(),
            Some(&after),
            2,
            |_| false,
        );
        assert_eq!(p2.entries, names(&["bb", "c"]));
    }
}
