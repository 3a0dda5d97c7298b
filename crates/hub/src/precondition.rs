//! `If-Match` / `If-None-Match` rules for stores, as the real hub applies them
//! (GAIA_HUB.md §7). Pure; the caller supplies the current ETag while holding the
//! per-path lock, so the check and the write are atomic.

use std::fmt;

/// What a store request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Precondition {
    /// No conditional header (or `If-Match: *`): overwrite unconditionally.
    None,
    /// `If-Match: <etag>`: the current ETag must equal this raw string.
    IfMatch(String),
    /// `If-None-Match: *`: the file must not exist.
    IfNoneMatchAny,
}

/// Why a precondition failed; maps to 412 `PreconditionFailedError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PreconditionError {
    /// Both headers were sent.
    BothHeaders,
    /// `If-None-Match` with anything but `*`.
    IfNoneMatchMisuse,
    /// `If-None-Match: *` and the file exists.
    AlreadyExists,
    /// `If-Match` differs from the current ETag, or there is no current file.
    EtagMismatch,
}

impl PreconditionError {
    /// The real hub's message for this failure.
    pub fn message(&self) -> &'static str {
        match self {
            PreconditionError::BothHeaders => {
                "Request should not contain both if-match and if-none-match headers"
            }
            PreconditionError::IfNoneMatchMisuse => {
                "Misuse of the if-none-match header. Expected to be * on write requests."
            }
            PreconditionError::AlreadyExists => {
                "The entity you are trying to create already exists"
            }
            PreconditionError::EtagMismatch => {
                "The provided ETag does not match that of the resource on the server"
            }
        }
    }
}

impl fmt::Display for PreconditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for PreconditionError {}

/// Interprets the two headers (empty values count as absent, as in JS).
pub fn parse(
    if_match: Option<&str>,
    if_none_match: Option<&str>,
) -> Result<Precondition, PreconditionError> {
    let if_match = if_match.filter(|s| !s.is_empty());
    let if_none_match = if_none_match.filter(|s| !s.is_empty());
    match (if_match, if_none_match) {
        (Some(_), Some(_)) => Err(PreconditionError::BothHeaders),
        (Some("*"), None) => Ok(Precondition::None),
        (Some(tag), None) => Ok(Precondition::IfMatch(tag.to_string())),
        (None, Some("*")) => Ok(Precondition::IfNoneMatchAny),
        (None, Some(_)) => Err(PreconditionError::IfNoneMatchMisuse),
        (None, None) => Ok(Precondition::None),
    }
}

impl Precondition {
    /// Whether checking needs the current state of the file.
    pub fn needs_current(&self) -> bool {
        !matches!(self, Precondition::None)
    }

    /// Checks the precondition against the current ETag (`None`: no file).
    pub fn check(&self, current_etag: Option<&str>) -> Result<(), PreconditionError> {
        match self {
            Precondition::None => Ok(()),
            Precondition::IfMatch(tag) => match current_etag {
                Some(cur) if cur == tag => Ok(()),
                _ => Err(PreconditionError::EtagMismatch),
            },
            Precondition::IfNoneMatchAny => match current_etag {
                Some(_) => Err(PreconditionError::AlreadyExists),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: &str = "d41d8cd98f00b204e9800998ecf8427e";

    #[test]
    fn table_from_the_spec() {
        let none = parse(None, None).unwrap();
        assert_eq!(none.check(Some(E)), Ok(()));
        assert_eq!(none.check(None), Ok(()));

        let inm = parse(None, Some("*")).unwrap();
        assert_eq!(inm.check(None), Ok(()));
        assert_eq!(inm.check(Some(E)), Err(PreconditionError::AlreadyExists));

        assert_eq!(
            parse(None, Some(E)),
            Err(PreconditionError::IfNoneMatchMisuse)
        );
        assert_eq!(
            parse(Some(E), Some("*")),
            Err(PreconditionError::BothHeaders)
        );

        let im = parse(Some(E), None).unwrap();
        assert_eq!(im.check(Some(E)), Ok(()));
        assert_eq!(
            im.check(Some("other")),
            Err(PreconditionError::EtagMismatch)
        );
        assert_eq!(im.check(None), Err(PreconditionError::EtagMismatch));

        let quoted = parse(Some(&format!("\"{E}\"")), None).unwrap();
        assert_eq!(quoted.check(Some(E)), Err(PreconditionError::EtagMismatch));

        let star = parse(Some("*"), None).unwrap();
        assert_eq!(star, Precondition::None);
        assert_eq!(star.check(None), Ok(()));
    }

    #[test]
    fn empty_headers_are_absent() {
        assert_eq!(parse(Some(""), Some("")), Ok(Precondition::None));
        assert_eq!(parse(Some(""), Some("*")), Ok(Precondition::IfNoneMatchAny));
    }

    #[test]
    fn messages() {
        assert!(
            PreconditionError::AlreadyExists
                .to_string()
                .contains("already exists")
        );
    }
}
