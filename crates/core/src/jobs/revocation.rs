//! Running a revocation (or downgrade) of collection access (COLLECTIONS.md §5–§6): the
//! steps [`Revocation`] plans — revoke-all, new keys into every remaining app's key
//! file, the revoked app's entry removed, re-encryption, finish — performed over the one
//! transport ([`Hub`]), with the progress journaled in the settings file after each
//! step (and every [`SAVE_EVERY`] files while re-encrypting), so a closed tab or a
//! failing hub only pauses it.

pub use super::Monitor;
use super::calls::{self, FileSpot, FileWrite, Rewrite};
use super::hub_io::{Hub, JobError};
use super::key_files::{hand_off, write_key_file};
use super::settings_file::SettingsFile;
use super::{Env, Job};
use crate::collections::settings::{AccessMode, Grant};
use crate::collections::{
    CollectionKeys, HandOff, HubContext, Revocation, RevocationStep, owner_token, random_salt,
};
use crate::crypto::bulk::Bulk;
use crate::protocol::hub_urls::{read_url, store_url};
use crate::support::encoding::to_hex;
use std::collections::BTreeMap;

/// Files re-encrypted between two progress saves.
pub const SAVE_EVERY: u64 = 25;
/// Attempts of one file's re-encryption on 412/409.
const FILE_ATTEMPTS: u32 = 4;

/// Everything a revocation runs with: the hub, the identity's settings file, the keys.
pub struct RevocationRun<'a, H, B> {
    /// Transport, ciphers, keychain, identity.
    pub env: Env<'a, H, B>,
    /// The hub, as the collection keys and tokens want it.
    pub ctx: &'a HubContext,
    /// The identity's settings file (the journal).
    pub settings: &'a SettingsFile,
    /// The screen showing it.
    pub monitor: &'a dyn Monitor,
}

impl<H: Hub, B: Bulk> RevocationRun<'_, H, B> {
    /// Performs the steps of `r` not yet done, journaling after each; returns it
    /// finished. On an error (or [`JobError::Cancelled`]) the progress is journaled as
    /// far as it got, and the run can resume from the journal later.
    pub async fn execute(&self, mut r: Revocation) -> Result<Revocation, H::Error> {
        let keys = CollectionKeys::derive(
            self.env.keychain,
            self.env.index,
            &r.collection,
            r.to_generation,
        )?;
        // Past the revoke-all: the authenticator's own bucket token must survive it.
        let oldest_valid = r.oldest_valid.max(0) as u64;
        let owner = owner_token(&keys.bucket_key, self.ctx, oldest_valid);
        while let Some(step) = r.next_step() {
            match step {
                RevocationStep::RevokeAll => {
                    self.monitor
                        .say("Stopping every old token of the collection…");
                    calls::revoke_all(
                        self.env.hub,
                        &self.ctx.hub_url,
                        &keys.address,
                        &owner,
                        oldest_valid,
                    )
                    .await?;
                }
                RevocationStep::RewriteKeyFiles => self.rewrite_key_files(&mut r).await?,
                RevocationStep::RemoveRevokedEntry => {
                    if !r.downgrade {
                        self.monitor
                            .say("Removing the collection from the app's key file…");
                        let key = self.env.keychain.app_private_key(self.env.index, &r.app)?;
                        write_key_file(
                            self.env.hub,
                            self.env.bulk,
                            self.ctx,
                            &key,
                            &[(r.collection.clone(), None)],
                        )
                        .await?;
                    }
                }
                RevocationStep::ReEncrypt => {
                    if r.reencrypt_current || r.reencrypt_history {
                        self.reencrypt(&keys, &owner, &mut r).await?;
                    }
                }
                RevocationStep::Finish => {
                    let now = self.monitor.now_ms();
                    self.settings
                        .update(self.env.hub, self.env.bulk, &mut |s| {
                            r.finish(s, &BTreeMap::new(), now);
                            Ok(())
                        })
                        .await?;
                    r.complete(&step);
                    break;
                }
            }
            r.complete(&step);
            self.save(&r).await?;
        }
        Ok(r)
    }

    async fn save(&self, r: &Revocation) -> Result<(), H::Error> {
        self.settings
            .save_job(self.env.hub, self.env.bulk, &Job::Revocation(r.clone()))
            .await
            .map(|_| ())
    }

    /// Step 3: a fresh token (new salt, `iat` past the revoke-all) and the new key
    /// generation into the key file of every app that keeps access.
    async fn rewrite_key_files(&self, r: &mut Revocation) -> Result<(), H::Error> {
        let (settings, _) = self.settings.load(self.env.hub, self.env.bulk).await?;
        for (origin, mode) in r.key_file_targets(&settings) {
            let salt = match mode {
                AccessMode::ReadWrite => to_hex(&r.salt_for(&origin, random_salt())),
                AccessMode::Read => String::new(),
            };
            // Keep the chosen salts in the journal before handing tokens out.
            self.save(r).await?;
            let h = HandOff {
                collection: r.collection.clone(),
                generation: r.to_generation,
                grant: Grant {
                    app: origin.clone(),
                    mode,
                    granted_at: 0,
                    token_salt: salt,
                    token_iat: r.oldest_valid,
                },
            };
            let name = settings
                .app(&origin)
                .map(|a| a.display_name().to_string())
                .unwrap_or_else(|| origin.clone());
            self.monitor.say(&format!("Giving the new key to {name}…"));
            hand_off(
                self.env.hub,
                self.env.bulk,
                self.env.keychain,
                self.env.index,
                self.ctx,
                &origin,
                &[h],
            )
            .await?;
        }
        Ok(())
    }

    /// Re-encrypts every wanted file of the collection bucket in place (unscoped owner
    /// token, `If-Match` of what was read); files already at the new generation are
    /// skipped, so a resumed run only does what is left.
    async fn reencrypt(
        &self,
        keys: &CollectionKeys,
        owner: &str,
        r: &mut Revocation,
    ) -> Result<(), H::Error> {
        let names =
            calls::list_names(self.env.hub, &self.ctx.hub_url, &keys.address, owner).await?;
        let wanted: Vec<String> = names.into_iter().filter(|n| r.wants_file(n)).collect();
        self.monitor.say(&format!(
            "Re-encrypting the files of {} with the new key…",
            r.collection
        ));
        r.files_total = wanted.len() as u64;
        r.files_done = 0;
        self.monitor.files(0, r.files_total);
        let mut left_alone = 0u64;
        for (i, path) in wanted.iter().enumerate() {
            if self.monitor.cancelled() {
                self.save(r).await?;
                return Err(JobError::Cancelled.into());
            }
            if !self.reencrypt_one(keys, owner, path).await? {
                left_alone += 1;
            }
            r.files_done = i as u64 + 1;
            self.monitor.files(r.files_done, r.files_total);
            if r.files_done.is_multiple_of(SAVE_EVERY) {
                self.save(r).await?;
            }
        }
        if left_alone > 0 {
            self.monitor.say(&format!(
                "{left_alone} file(s) could not be decrypted with any key of the collection and were left as they are."
            ));
        }
        Ok(())
    }

    /// One file: read, re-encrypt if older, write back with `If-Match`. `Ok(false)` when
    /// it cannot be decrypted at all (left as it is); a file deleted meanwhile needs
    /// nothing.
    async fn reencrypt_one(
        &self,
        keys: &CollectionKeys,
        owner: &str,
        path: &str,
    ) -> Result<bool, H::Error> {
        let read = read_url(&self.ctx.read_url_prefix, &keys.address, path);
        let store = store_url(&self.ctx.hub_url, &keys.address, path);
        let spot = FileSpot {
            read_url: &read,
            write: FileWrite {
                url: &store,
                token: owner,
                content_type: "application/json",
                what: path,
            },
        };
        calls::update_file(self.env.hub, &spot, true, FILE_ATTEMPTS, async |existing| {
            let Some(a) = existing else {
                return Ok(Rewrite::Keep(true));
            };
            Ok(
                match keys.reencrypt_async(self.env.bulk, path, &a.body).await {
                    Ok(None) => Rewrite::Keep(true),
                    Ok(Some(body)) => Rewrite::Write { body, out: true },
                    Err(_) => Rewrite::Keep(false),
                },
            )
        })
        .await
    }
}
