//! The tokens used on a collection bucket: the app's scoped archival token, and the
//! authenticator's own (unscoped, archival) tokens with their `iat`.

use super::ITEM_SCOPE;
use crate::collections::settings::Settings;
use crate::keys::PrivateKey;
use crate::protocol::gaia::{Scope, ScopeKind, V1TokenOptions, make_v1_token};

/// What the runner learned from the hub (`/hub_info`) and where it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubContext {
    /// Hub write URL.
    pub hub_url: String,
    /// `read_url_prefix`.
    pub read_url_prefix: String,
    /// `challenge_text`.
    pub challenge_text: String,
}

/// The token an app gets for a collection bucket: signed by the bucket key, scoped to
/// archival writes under `collection` (every overwrite keeps a history copy), with an
/// `iat` so a later revoke-all kills it, and a per-app salt.
pub fn app_collection_token(
    bucket_key: &PrivateKey,
    hub: &HubContext,
    iat: u64,
    salt: [u8; 16],
) -> String {
    make_v1_token(
        bucket_key,
        &hub.challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub.hub_url.clone()),
            scopes: vec![Scope::of(ScopeKind::PutFileArchivalPrefix, ITEM_SCOPE)],
            iat: Some(iat),
            salt: Some(salt),
            ..Default::default()
        },
    )
}

/// The authenticator's own token for a bucket: unscoped (it may rewrite in place and see
/// history files), with an `iat`.
pub fn owner_token(key: &PrivateKey, hub: &HubContext, iat: u64) -> String {
    make_v1_token(
        key,
        &hub.challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub.hub_url.clone()),
            iat: Some(iat),
            ..Default::default()
        },
    )
}

/// The authenticator's archival token for a bucket (rollback, restore, undo): every
/// write it makes keeps the replaced version as history.
pub fn owner_archival_token(key: &PrivateKey, hub: &HubContext, iat: u64) -> String {
    make_v1_token(
        key,
        &hub.challenge_text,
        &V1TokenOptions {
            hub_url: Some(hub.hub_url.clone()),
            scopes: vec![Scope::of(ScopeKind::PutFileArchivalPrefix, ITEM_SCOPE)],
            iat: Some(iat),
            ..Default::default()
        },
    )
}

/// The `iat` of the authenticator's own tokens for a collection bucket: now, but never
/// before the bucket's revoke-all timestamp.
pub fn owner_iat(settings: &Settings, collection: &str, now_ms: i64) -> u64 {
    let revoked = settings
        .collections
        .get(collection)
        .map(|s| s.revoked_before)
        .unwrap_or(0);
    now_ms.div_euclid(1000).max(revoked).max(0) as u64
}
