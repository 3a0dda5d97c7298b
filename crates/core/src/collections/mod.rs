//! Collections (COLLECTIONS.md): the key file handed to apps (`.collections.keys`), the
//! tokens apps and the authenticator use on a collection bucket, re-encryption of
//! collection files, and the revocation plan.
//!
//! Everything is pure: the browser runner fetches and stores; this module decides what
//! to write.

pub mod files;
pub mod history;
pub mod settings;

mod grants;
mod key_file;
mod permissions;
mod revocation;
mod tokens;

pub use grants::*;
pub use key_file::*;
pub use permissions::*;
pub use revocation::*;
pub use tokens::*;

use crate::crypto::ecies::EciesError;
use crate::keys::keychain::KeychainError;
use std::fmt;

/// The key file's name in each app's bucket (the alpha's name).
pub const KEY_FILE_NAME: &str = ".collections.keys";

/// Items live under `collection/` in a collection bucket (the alpha writes
/// `collection/<identifier>`).
pub const ITEM_PREFIX: &str = "collection";

/// The `putFileArchivalPrefix` domain of collection tokens: [`ITEM_PREFIX`] and a slash.
/// Hubs match scope prefixes as plain string prefixes, so without the slash a token
/// would also allow `collectionX/…` and `collection.json` beside the collection.
pub const ITEM_SCOPE: &str = "collection/";

/// Why a collections operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectionError {
    /// Key derivation failed (bad identity index or collection name).
    Keychain(KeychainError),
    /// The existing key file cannot be decrypted with the app key.
    KeyFile(EciesError),
    /// A file is not a cipher object any generation's key can open.
    Undecryptable(String),
    /// The collection is unknown or the app holds no grant to it.
    NoSuchGrant {
        /// Collection name.
        collection: String,
        /// App origin.
        app: String,
    },
    /// The file is malformed.
    Format(String),
}

impl fmt::Display for CollectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectionError::Keychain(e) => e.fmt(f),
            CollectionError::KeyFile(e) => write!(f, "the app's key file cannot be read: {e}"),
            CollectionError::Undecryptable(path) => write!(
                f,
                "{path} cannot be decrypted with any key of its collection; it was left as it is"
            ),
            CollectionError::NoSuchGrant { collection, app } => {
                write!(f, "{app} has no access to the {collection} collection")
            }
            CollectionError::Format(why) => write!(f, "malformed collection data: {why}"),
        }
    }
}

impl std::error::Error for CollectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CollectionError::Keychain(e) => Some(e),
            CollectionError::KeyFile(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeychainError> for CollectionError {
    fn from(e: KeychainError) -> Self {
        CollectionError::Keychain(e)
    }
}

#[cfg(test)]
mod tests;
