//! Revocation and downgrade (COLLECTIONS.md §6): the plan, its journal entry and its
//! steps; the browser runner executes them.

use super::{CollectionError, ITEM_PREFIX};
use crate::collections::settings::{AccessMode, LogEntry, Settings};
use crate::jobs::Job;
use crate::json;
use crate::support::encoding::to_hex;
use crate::support::json::{FieldError, Fields, Value};
use std::collections::BTreeMap;

/// A revocation in progress: one app loses access to one collection (COLLECTIONS.md §6).
/// Stored in the settings journal; every step is safe to repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Collection name.
    pub collection: String,
    /// The app losing access.
    pub app: String,
    /// Its mode before revocation.
    pub mode: AccessMode,
    /// Generation before.
    pub from_generation: u32,
    /// Generation after.
    pub to_generation: u32,
    /// `oldestValidTimestamp` for revoke-all; fresh tokens use it as `iat`.
    pub oldest_valid: i64,
    /// Re-encrypt current files (default true).
    pub reencrypt_current: bool,
    /// Re-encrypt history files too.
    pub reencrypt_history: bool,
    /// Steps completed, in order.
    pub done: Vec<RevocationStep>,
    /// Files re-encrypted so far (for the progress bar; not needed to resume).
    pub files_done: u64,
    /// Files to look at, once listed.
    pub files_total: u64,
    /// When it started, ms.
    pub started_at: i64,
    /// A downgrade to read-only rather than a revocation: the app keeps a read-only
    /// entry (current key, empty token) instead of losing its entry.
    pub downgrade: bool,
    /// Token salts (hex) minted for the apps that keep write access, by origin, so
    /// that a resumed run records the salts of the tokens it actually handed out.
    pub new_salts: BTreeMap<String, String>,
}

/// The fixed steps of a revocation (file re-encryption is one step with its own
/// progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStep {
    /// `POST /revoke-all` on the collection bucket.
    RevokeAll,
    /// Mint a fresh token and rewrite the key file of each remaining app.
    RewriteKeyFiles,
    /// Remove the collection from the revoked app's key file.
    RemoveRevokedEntry,
    /// Re-encrypt files to the new generation.
    ReEncrypt,
    /// Clear the journal entry and log the revocation.
    Finish,
}

impl RevocationStep {
    /// All steps in order.
    pub const ALL: [RevocationStep; 5] = [
        RevocationStep::RevokeAll,
        RevocationStep::RewriteKeyFiles,
        RevocationStep::RemoveRevokedEntry,
        RevocationStep::ReEncrypt,
        RevocationStep::Finish,
    ];

    /// The step's name in the journal entry's `"done"` list.
    fn name(self) -> &'static str {
        match self {
            RevocationStep::RevokeAll => "revoke_all",
            RevocationStep::RewriteKeyFiles => "rewrite_key_files",
            RevocationStep::RemoveRevokedEntry => "remove_revoked_entry",
            RevocationStep::ReEncrypt => "reencrypt",
            RevocationStep::Finish => "finish",
        }
    }

    fn from_name(name: &str) -> Option<RevocationStep> {
        RevocationStep::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl Revocation {
    /// Starts a revocation: bumps the collection's generation and removes the grant in
    /// `settings`, and returns the journal entry to store with them (step 1 of §6).
    /// `oldest_valid` lies past every `iat` handed out for this bucket so far.
    pub fn start(
        settings: &mut Settings,
        collection: &str,
        app: &str,
        now_ms: i64,
        reencrypt_current: bool,
        reencrypt_history: bool,
    ) -> Result<Revocation, CollectionError> {
        Self::begin(
            settings,
            collection,
            app,
            now_ms,
            reencrypt_current,
            reencrypt_history,
            false,
        )
    }

    /// Starts a downgrade of `app` from read-and-write to read-only: the same rotation
    /// as a revocation (its write token must die), but the app keeps a read-only grant
    /// and gets the new key with an empty token.
    pub fn start_downgrade(
        settings: &mut Settings,
        collection: &str,
        app: &str,
        now_ms: i64,
        reencrypt_current: bool,
        reencrypt_history: bool,
    ) -> Result<Revocation, CollectionError> {
        Self::begin(
            settings,
            collection,
            app,
            now_ms,
            reencrypt_current,
            reencrypt_history,
            true,
        )
    }

    fn begin(
        settings: &mut Settings,
        collection: &str,
        app: &str,
        now_ms: i64,
        reencrypt_current: bool,
        reencrypt_history: bool,
        downgrade: bool,
    ) -> Result<Revocation, CollectionError> {
        let no_grant = || CollectionError::NoSuchGrant {
            collection: collection.to_string(),
            app: app.to_string(),
        };
        let state = settings
            .collections
            .get_mut(collection)
            .ok_or_else(no_grant)?;
        let pos = state
            .grants
            .iter()
            .position(|g| g.app == app)
            .ok_or_else(no_grant)?;
        if downgrade && state.grants[pos].mode == AccessMode::Read {
            return Err(CollectionError::Format(format!(
                "{app} already has read-only access to {collection}"
            )));
        }
        let newest_iat = state
            .grants
            .iter()
            .map(|g| g.token_iat)
            .chain([state.revoked_before])
            .max()
            .unwrap_or(0);
        let removed = if downgrade {
            let g = &mut state.grants[pos];
            let before = g.clone();
            g.mode = AccessMode::Read;
            g.token_salt = String::new();
            before
        } else {
            state.grants.remove(pos)
        };
        let oldest_valid = (now_ms.div_euclid(1000)).max(newest_iat + 1);
        let from = state.generation;
        state.generation = from + 1;
        state.revoked_before = oldest_valid;
        let r = Revocation {
            collection: collection.to_string(),
            app: app.to_string(),
            mode: removed.mode,
            from_generation: from,
            to_generation: from + 1,
            oldest_valid,
            reencrypt_current,
            reencrypt_history,
            done: Vec::new(),
            files_done: 0,
            files_total: 0,
            started_at: now_ms,
            downgrade,
            new_salts: BTreeMap::new(),
        };
        settings.journal.save(Job::Revocation(r.clone()));
        Ok(r)
    }

    /// The journal form.
    pub fn to_value(&self) -> Value {
        json!({
            "collection": self.collection.as_str(),
            "app": self.app.as_str(),
            "mode": self.mode.as_str(),
            "fromGeneration": self.from_generation,
            "toGeneration": self.to_generation,
            "oldestValid": self.oldest_valid,
            "reencryptCurrent": self.reencrypt_current,
            "reencryptHistory": self.reencrypt_history,
            "done": Value::Array(self.done.iter().map(|s| s.name().into()).collect()),
            "filesDone": self.files_done,
            "filesTotal": self.files_total,
            "startedAt": self.started_at,
            "downgrade": self.downgrade,
            "newSalts": &self.new_salts,
        })
    }

    /// Reads the journal form.
    pub fn from_value(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "a revocation")?;
        Ok(Revocation {
            collection: f.str("collection")?.to_string(),
            app: f.str("app")?.to_string(),
            mode: AccessMode::read(&f, "mode")?,
            from_generation: f.u32("fromGeneration")?,
            to_generation: f.u32("toGeneration")?,
            oldest_valid: f.i64("oldestValid")?,
            reencrypt_current: f.bool("reencryptCurrent")?,
            reencrypt_history: f.bool("reencryptHistory")?,
            done: f.list("done", "a list of step names", |v| {
                v.as_str().and_then(RevocationStep::from_name)
            })?,
            files_done: f.u64("filesDone")?,
            files_total: f.u64("filesTotal")?,
            started_at: f.i64("startedAt")?,
            downgrade: f
                .opt("downgrade", "true or false", Value::as_bool)?
                .unwrap_or(false),
            new_salts: f.string_map("newSalts")?,
        })
    }

    /// Revocations found in a settings journal (to resume on unlock).
    pub fn pending(settings: &Settings) -> Vec<Revocation> {
        settings.journal.revocations().cloned().collect()
    }

    /// The next step not yet done, or `None` when finished.
    pub fn next_step(&self) -> Option<RevocationStep> {
        RevocationStep::ALL
            .into_iter()
            .find(|s| !self.done.contains(s))
    }

    /// Marks a step done.
    pub fn complete(&mut self, step: &RevocationStep) {
        if !self.done.contains(step) {
            self.done.push(*step);
        }
    }

    /// Whether a listed file needs re-encryption under this revocation's options.
    pub fn wants_file(&self, path: &str) -> bool {
        if !path.starts_with(&format!("{ITEM_PREFIX}/")) {
            return false;
        }
        if crate::collections::history::is_history_file(path) {
            self.reencrypt_history
        } else {
            self.reencrypt_current
        }
    }

    /// Writes this revocation's progress into the settings journal.
    pub fn save_progress(&self, settings: &mut Settings) {
        settings.journal.save(Job::Revocation(self.clone()));
    }

    /// Finishes: removes the journal entry, refreshes the remaining grants' token salts
    /// and `iat`, and logs the revocation.
    pub fn finish(
        &self,
        settings: &mut Settings,
        new_salts: &BTreeMap<String, String>,
        now_ms: i64,
    ) {
        settings.journal.remove(&Job::Revocation(self.clone()));
        if let Some(state) = settings.collections.get_mut(&self.collection) {
            for g in state.grants.iter_mut() {
                if let Some(s) = new_salts.get(&g.app).or_else(|| self.new_salts.get(&g.app)) {
                    g.token_salt = s.clone();
                    g.token_iat = self.oldest_valid;
                }
            }
        }
        settings.log.push(LogEntry {
            at: now_ms,
            event: if self.downgrade {
                "downgrade"
            } else {
                "revoke"
            }
            .into(),
            collection: Some(self.collection.clone()),
            app: Some(self.app.clone()),
            detail: Some(format!(
                "key generation {} → {}; {} file(s) on the new key",
                self.from_generation, self.to_generation, self.files_done
            )),
        });
    }
}

impl Revocation {
    /// What the UI calls this operation: "Revocation" or "Downgrade".
    pub fn kind(&self) -> &'static str {
        if self.downgrade {
            "Making read-only"
        } else {
            "Revocation"
        }
    }

    /// The apps whose key file gets the new generation (step 3): every grant left in
    /// the settings, each with its mode (a downgraded app is among them, read-only).
    pub fn key_file_targets(&self, settings: &Settings) -> Vec<(String, AccessMode)> {
        settings
            .collections
            .get(&self.collection)
            .map(|s| s.grants.iter().map(|g| (g.app.clone(), g.mode)).collect())
            .unwrap_or_default()
    }

    /// The salt of the fresh token for `app`: the one already chosen (a resumed run
    /// reuses it), else `fresh`, remembered in [`Revocation::new_salts`].
    pub fn salt_for(&mut self, app: &str, fresh: [u8; 16]) -> [u8; 16] {
        if let Some(hex) = self.new_salts.get(app)
            && let Ok(bytes) = crate::support::encoding::from_hex(hex)
            && let Ok(salt) = <[u8; 16]>::try_from(bytes.as_slice())
        {
            return salt;
        }
        self.new_salts.insert(app.to_string(), to_hex(&fresh));
        fresh
    }

    /// Progress as (done, total) for the progress bar.
    pub fn progress(&self) -> (u64, u64) {
        (self.files_done.min(self.files_total), self.files_total)
    }

    /// The line the UI shows while it runs; `resumed` says so plainly.
    pub fn status_line(&self, app_name: &str, resumed: bool) -> String {
        let what = if self.downgrade {
            format!("making {app_name} read-only on {}", self.collection)
        } else {
            format!("revocation of {app_name} from {}", self.collection)
        };
        if resumed {
            format!("Resuming {what}…")
        } else {
            let mut s = what;
            if let Some(first) = s.get(..1) {
                let up = first.to_ascii_uppercase();
                s.replace_range(..1, &up);
            }
            format!("{s}…")
        }
    }
}
