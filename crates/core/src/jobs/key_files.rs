//! Writing collection keys into an app's `.collections.keys` (COLLECTIONS.md §4), in the
//! app's own bucket, through the one read → change → conditional-write loop.

use super::calls::{self, FileSpot, FileWrite, Rewrite};
use super::hub_io::Hub;
use crate::collections::{HandOff, HubContext, KEY_FILE_NAME, KeyFileEntry, update_key_file_async};
use crate::crypto::bulk::Bulk;
use crate::keys::PrivateKey;
use crate::keys::keychain::Keychain;
use crate::protocol::gaia::bucket_token;
use crate::protocol::hub_urls::{read_url, store_url};

/// Attempts of one key-file write on 412/409.
const KEY_FILE_ATTEMPTS: u32 = 4;

/// Sets (`Some`) or removes (`None`) collection entries in the `.collections.keys` of
/// the app whose key is `app_key`.
pub async fn write_key_file<H: Hub>(
    hub: &H,
    bulk: &impl Bulk,
    ctx: &HubContext,
    app_key: &PrivateKey,
    changes: &[(String, Option<KeyFileEntry>)],
) -> Result<(), H::Error> {
    let address = app_key.public_key().address();
    let token = bucket_token(app_key, &ctx.challenge_text, &ctx.hub_url);
    // Listing first spares a 404 (which the browser logs as an error).
    let may_exist = calls::list_names(hub, &ctx.hub_url, &address, &token)
        .await
        .map(|n| n.iter().any(|p| p == KEY_FILE_NAME))
        .unwrap_or(true);
    let changes: Vec<(&str, Option<&KeyFileEntry>)> = changes
        .iter()
        .map(|(n, e)| (n.as_str(), e.as_ref()))
        .collect();
    let read = read_url(&ctx.read_url_prefix, &address, KEY_FILE_NAME);
    let store = store_url(&ctx.hub_url, &address, KEY_FILE_NAME);
    let spot = FileSpot {
        read_url: &read,
        write: FileWrite {
            url: &store,
            token: &token,
            content_type: "application/json",
            what: "the app's key file",
        },
    };
    calls::update_file(hub, &spot, may_exist, KEY_FILE_ATTEMPTS, async |existing| {
        if existing.is_none() && changes.iter().all(|(_, e)| e.is_none()) {
            // Nothing to remove from a file that does not exist.
            return Ok(Rewrite::Keep(()));
        }
        let body =
            update_key_file_async(bulk, existing.map(|a| a.body.as_str()), app_key, &changes)
                .await?;
        Ok(Rewrite::Write { body, out: () })
    })
    .await
}

/// Writes `hand_offs` (what a grant, a sign-in or a revocation decided) into the key
/// file of the app at `origin`, for identity `index`.
pub async fn hand_off<H: Hub>(
    hub: &H,
    bulk: &impl Bulk,
    keychain: &Keychain,
    index: u32,
    ctx: &HubContext,
    origin: &str,
    hand_offs: &[HandOff],
) -> Result<(), H::Error> {
    if hand_offs.is_empty() {
        return Ok(());
    }
    let app_key = keychain.app_private_key(index, origin)?;
    let mut changes = Vec::with_capacity(hand_offs.len());
    for h in hand_offs {
        changes.push((h.collection.clone(), Some(h.entry(keychain, index, ctx)?)));
    }
    write_key_file(hub, bulk, ctx, &app_key, &changes).await
}
