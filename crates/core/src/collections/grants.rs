//! Granting collections to apps: recording grants in the settings and the hand-offs
//! written into the app's key file.

use super::CollectionError;
use super::{CollectionKeys, HubContext, KeyFileEntry, app_collection_token};
use crate::collections::settings::{AccessMode, Grant, LogEntry, Settings};
use crate::keys::keychain::Keychain;
use crate::support::encoding::to_hex;

/// A random 16-byte token salt.
pub fn random_salt() -> [u8; 16] {
    let mut s = [0u8; 16];
    // Salts are not secret; a failing RNG leaves zeros, still a valid token.
    let _ = getrandom::fill(&mut s);
    s
}

/// Records a grant in the settings (new or changed mode), returning the token salt and
/// `iat` to mint the app's token with.
pub fn record_grant(
    settings: &mut Settings,
    collection: &str,
    app: &str,
    mode: AccessMode,
    now_ms: i64,
    salt: [u8; 16],
) -> Grant {
    let state = settings
        .collections
        .entry(collection.to_string())
        .or_default();
    let iat = now_ms.div_euclid(1000).max(state.revoked_before);
    let grant = Grant {
        app: app.to_string(),
        mode,
        granted_at: now_ms,
        token_salt: to_hex(&salt),
        token_iat: iat,
    };
    let event = match state.grants.iter_mut().find(|g| g.app == app) {
        Some(existing) => {
            let changed = existing.mode != mode;
            existing.mode = mode;
            existing.token_salt = grant.token_salt.clone();
            existing.token_iat = iat;
            if changed {
                "mode_change"
            } else {
                "grant_refresh"
            }
        }
        None => {
            state.grants.push(grant.clone());
            "grant"
        }
    };
    settings.log.push(LogEntry {
        at: now_ms,
        event: event.into(),
        collection: Some(collection.to_string()),
        app: Some(app.to_string()),
        detail: Some(mode.label().to_string()),
    });
    grant
}

/// One collection handed to an app at sign-in or by "Grant …": what the key file gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOff {
    /// Collection name.
    pub collection: String,
    /// The generation current in the settings.
    pub generation: u32,
    /// The grant as recorded (mode, salt, iat).
    pub grant: Grant,
}

impl HandOff {
    /// The key-file entry of this hand-off: keys of its generation and, for a
    /// read-and-write grant, a fresh archival token with the recorded salt and `iat`.
    pub fn entry(
        &self,
        keychain: &Keychain,
        identity: u32,
        hub: &HubContext,
    ) -> Result<KeyFileEntry, CollectionError> {
        let keys = CollectionKeys::derive(keychain, identity, &self.collection, self.generation)?;
        let token = match self.grant.mode {
            AccessMode::ReadWrite => {
                let salt = crate::support::encoding::from_hex(&self.grant.token_salt)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| CollectionError::Format("bad token salt".into()))?;
                app_collection_token(
                    &keys.bucket_key,
                    hub,
                    self.grant.token_iat.max(0) as u64,
                    salt,
                )
            }
            AccessMode::Read => String::new(),
        };
        Ok(keys.key_file_entry(hub, self.grant.mode, &token))
    }
}

/// Grants `app` each of `collections` in `settings` (sign-in or "Grant … to …") and
/// returns the hand-offs to write into its key file. An app that already has
/// read-and-write access and now asks for read-only keeps read-and-write (taking
/// write away is a downgrade, which needs a rotation: see
/// [`Revocation::start_downgrade`]).
pub fn grant_collections(
    settings: &mut Settings,
    app: &str,
    collections: &[(String, AccessMode)],
    now_ms: i64,
    mut salt: impl FnMut() -> [u8; 16],
) -> Vec<HandOff> {
    collections
        .iter()
        .map(|(name, asked)| {
            let existing = settings
                .collections
                .get(name)
                .and_then(|s| s.grants.iter().find(|g| g.app == app))
                .map(|g| g.mode);
            let mode = match (existing, asked) {
                (Some(AccessMode::ReadWrite), AccessMode::Read) => AccessMode::ReadWrite,
                _ => *asked,
            };
            let grant = record_grant(settings, name, app, mode, now_ms, salt());
            let grant = settings
                .collections
                .get(name)
                .and_then(|s| s.grants.iter().find(|g| g.app == app))
                .cloned()
                .unwrap_or(grant);
            HandOff {
                collection: name.clone(),
                generation: settings
                    .collections
                    .get(name)
                    .map(|s| s.generation)
                    .unwrap_or(0),
                grant,
            }
        })
        .collect()
}
