//! [`Error`], the one error type of the browser layer and of the authenticator page's
//! UI: what a hub call, a browser API or a core step can fail with.
//!
//! Its `Display` text is what the user reads (the screens put it after "Could not …:"),
//! so it is plain, lower-case and names no Rust types; code never looks inside that
//! text: it matches the variants or asks [`Error::status`], [`Error::is_conflict`],
//! [`Error::is_unreachable`]. A core error is wrapped as it is (via `From`) and stays
//! reachable through [`std::error::Error::source`].

use cairn_core::collections::CollectionError;
use cairn_core::collections::files::OpenError;
use cairn_core::collections::settings::SettingsError;
use cairn_core::jobs::JobError;
use cairn_core::keys::keychain::KeychainError;
use cairn_core::protocol::auth::AuthResponseError;
use std::fmt;
use wasm_bindgen::JsValue;

/// The browser API that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Api {
    /// `fetch` (building the request; a refused connection is [`ErrorKind::Network`]).
    Fetch,
    /// IndexedDB.
    IndexedDb,
    /// WebCrypto (`crypto.subtle`) outside the core's bulk steps.
    WebCrypto,
    /// `sessionStorage`, Web Locks or another part of the page's environment.
    Page,
    /// A JS exception from any other call.
    Js,
}

/// Why a step of the browser layer or of the authenticator page failed: an
/// [`ErrorKind`], boxed so that a `Result` costs one pointer in every async state machine
/// of the page (the unboxed enum added 11 KB of moves to the page's module).
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What went wrong (see [`Error`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A server answered a plain `GET` (an app manifest, `config.json`) with a status
    /// other than 200. Hub answers are judged by the core's jobs ([`ErrorKind::Job`]).
    Status {
        /// The HTTP status.
        status: u16,
        /// The URL asked.
        url: String,
    },
    /// No answer before the call's timeout.
    Timeout {
        /// The URL asked.
        url: String,
    },
    /// The request did not reach the server (refused connection, DNS, CORS, offline).
    Network {
        /// The URL asked.
        url: String,
        /// The browser's words (e.g. "Failed to fetch").
        message: String,
    },
    /// The answer is larger than the call accepts.
    TooLarge {
        /// The URL asked.
        url: String,
        /// Its length in bytes (announced by `Content-Length`, or as read).
        len: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// The answer arrived but is not what was asked for.
    Unreadable {
        /// The URL asked.
        url: String,
        /// What is wrong, in plain words (e.g. "the hub's listing is unreadable").
        reason: String,
        /// The JSON error behind it, if any.
        cause: Option<cairn_core::support::json::Error>,
    },
    /// A browser API threw or is missing.
    Browser {
        /// Which API.
        api: Api,
        /// The JS exception's message.
        message: String,
    },
    /// A file changed between Cairn's read and its conditional write (412).
    Changed {
        /// The file, in words ("your settings file", a path …).
        file: String,
        /// Whether Cairn already read it again and retried, in vain.
        retried: bool,
    },
    /// A file (or one of its versions) that was listed is gone.
    Gone {
        /// The file, in words ("the file", "the version …").
        what: String,
    },
    /// The page is locked: no keychain.
    Locked,
    /// Another collection operation is running on this page.
    Busy,
    /// The user cancelled the operation.
    Cancelled,
    /// A key could not be derived.
    Keychain(KeychainError),
    /// The settings file could not be opened or sealed.
    Settings(SettingsError),
    /// A collection step failed (key files, grants, revocations).
    Collection(CollectionError),
    /// The sign-in response could not be made.
    AuthResponse(AuthResponseError),
    /// A stored file could not be opened with any key.
    Open(OpenError),
    /// A step of a multi-step job failed as the job judged the hub's answer.
    Job(JobError),
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// A JS exception thrown by `api`.
    pub fn js(api: Api, e: &JsValue) -> Error {
        ErrorKind::Browser {
            api,
            message: crate::wait::message(e),
        }
        .into()
    }

    /// The HTTP status, when the server answered with one the call does not accept.
    pub fn status(&self) -> Option<u16> {
        match &*self.0 {
            ErrorKind::Status { status, .. } | ErrorKind::Job(JobError::Refused { status, .. }) => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The URL of the HTTP call that failed, when it is one.
    pub fn url(&self) -> Option<&str> {
        match &*self.0 {
            ErrorKind::Status { url, .. }
            | ErrorKind::Timeout { url }
            | ErrorKind::Network { url, .. }
            | ErrorKind::TooLarge { url, .. }
            | ErrorKind::Unreadable { url, .. } => Some(url),
            _ => None,
        }
    }

    /// Whether the hub answered 409 Conflict: another write of the same file is in
    /// flight (worth a short wait and a retry).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// Whether the server could not be reached at all (no connection, or no answer in
    /// time).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            *self.0,
            ErrorKind::Network { .. } | ErrorKind::Timeout { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Status { status, .. } => write!(f, "the server answered {status}"),
            ErrorKind::Timeout { .. } => f.write_str("no answer in time"),
            ErrorKind::Network { message, .. } => f.write_str(message),
            ErrorKind::TooLarge { len, limit, .. } => write!(
                f,
                "the answer is too large ({len} bytes; the limit is {limit})"
            ),
            ErrorKind::Unreadable { reason, .. } => f.write_str(reason),
            ErrorKind::Browser { message, .. } => f.write_str(message),
            ErrorKind::Changed {
                file,
                retried: true,
            } => write!(f, "{file} kept changing while Cairn wrote it"),
            ErrorKind::Changed {
                file,
                retried: false,
            } => write!(f, "{file} changed meanwhile: try again"),
            ErrorKind::Gone { what } => write!(f, "{what} is gone"),
            ErrorKind::Locked => f.write_str("Cairn is locked"),
            ErrorKind::Busy => f.write_str("another operation is running; wait for it to end"),
            ErrorKind::Cancelled => f.write_str("cancelled"),
            ErrorKind::Keychain(e) => e.fmt(f),
            ErrorKind::Settings(e) => e.fmt(f),
            ErrorKind::Collection(e) => e.fmt(f),
            ErrorKind::AuthResponse(e) => e.fmt(f),
            ErrorKind::Open(e) => e.fmt(f),
            ErrorKind::Job(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            ErrorKind::Unreadable { cause: Some(e), .. } => Some(e),
            ErrorKind::Keychain(e) => Some(e),
            ErrorKind::Settings(e) => Some(e),
            ErrorKind::Collection(e) => Some(e),
            ErrorKind::AuthResponse(e) => Some(e),
            ErrorKind::Open(e) => Some(e),
            ErrorKind::Job(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeychainError> for Error {
    fn from(e: KeychainError) -> Self {
        ErrorKind::Keychain(e).into()
    }
}

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Self {
        ErrorKind::Settings(e).into()
    }
}

impl From<CollectionError> for Error {
    fn from(e: CollectionError) -> Self {
        ErrorKind::Collection(e).into()
    }
}

impl From<AuthResponseError> for Error {
    fn from(e: AuthResponseError) -> Self {
        ErrorKind::AuthResponse(e).into()
    }
}

/// A job's own verdicts keep their browser-layer kinds (so `is_conflict`, `status`
/// and the screens' words work the same for every job); the rest stay [`ErrorKind::Job`].
impl From<JobError> for Error {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Changed { file } => ErrorKind::Changed {
                file,
                retried: true,
            },
            JobError::Cancelled => ErrorKind::Cancelled,
            e => ErrorKind::Job(e),
        }
        .into()
    }
}

impl From<OpenError> for Error {
    fn from(e: OpenError) -> Self {
        ErrorKind::Open(e).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }
}

/// A JS exception from a call with no more specific [`Api`].
impl From<JsValue> for Error {
    fn from(e: JsValue) -> Self {
        Error::js(Api::Js, &e)
    }
}

/// A JS `Error` with the message, for `wasm-bindgen` exports.
impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        js_sys::Error::new(&e.to_string()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::keys::keychain::Keychain;
    use std::error::Error as _;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn status(status: u16) -> Error {
        ErrorKind::Status {
            status,
            url: "http://app.example/manifest.json".into(),
        }
        .into()
    }

    fn refused(status: u16) -> Error {
        JobError::Refused {
            doing: "the write of collection/a".into(),
            status,
        }
        .into()
    }

    /// The texts users (and the end-to-end tests) read are the ones before the type.
    #[wasm_bindgen_test]
    fn texts() {
        assert_eq!(
            refused(500).to_string(),
            "the hub refused the write of collection/a (500)"
        );
        assert_eq!(status(404).to_string(), "the server answered 404");
        let timeout = Error::from(ErrorKind::Timeout { url: "u".into() });
        assert_eq!(timeout.to_string(), "no answer in time");
        let changed = Error::from(ErrorKind::Changed {
            file: "your settings file".into(),
            retried: true,
        });
        assert_eq!(
            changed.to_string(),
            "your settings file kept changing while Cairn wrote it"
        );
    }

    /// Code asks the variants, not the text.
    #[wasm_bindgen_test]
    fn checks() {
        assert!(refused(409).is_conflict());
        assert!(!refused(412).is_conflict());
        assert_eq!(refused(403).status(), Some(403));
        assert_eq!(status(403).status(), Some(403));
        assert_eq!(status(500).url(), Some("http://app.example/manifest.json"));
        let changed = Error::from(JobError::Changed { file: "f".into() });
        assert!(matches!(
            changed.kind(),
            ErrorKind::Changed { retried: true, .. }
        ));
        assert!(Error::from(ErrorKind::Timeout { url: "u".into() }).is_unreachable());
        let network = Error::from(ErrorKind::Network {
            url: "u".into(),
            message: "Failed to fetch".into(),
        });
        assert!(network.is_unreachable() && !network.is_conflict());
        assert!(!refused(500).is_unreachable());
    }

    /// A core error keeps its text and stays reachable through `source()`.
    #[wasm_bindgen_test]
    fn core_errors_are_sources() {
        let Err(core) = Keychain::from_mnemonic("abandon") else {
            panic!("a bad Secret Key is refused");
        };
        let text = core.to_string();
        let e = Error::from(core);
        assert_eq!(e.to_string(), text);
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<KeychainError>().is_some());
        let js: JsValue = e.into();
        assert!(js.is_instance_of::<js_sys::Error>());
    }
}
