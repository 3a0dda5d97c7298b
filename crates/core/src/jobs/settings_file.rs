//! An identity's settings file on its hub (COLLECTIONS.md §3): reading it, replacing it,
//! and changing it through the one read → change → conditional-write loop — which is
//! also how every job's progress reaches the journal ([`SettingsFile::save_job`]).

use super::Job;
use super::calls::{self, FileSpot, FileWrite, Rewrite, Stored};
use super::hub_io::{Condition, Hub, HubResponse, JobError};
use crate::collections::settings::{SETTINGS_PATH, Settings};
use crate::crypto::bulk::Bulk;
use crate::keys::PrivateKey;
use crate::keys::keychain::Identity;
use crate::protocol::gaia::{HubInfo, bucket_token};
use crate::protocol::hub_urls::{read_url, store_url};
use std::cell::Cell;

/// Attempts of a settings write on 412 before giving up.
pub const SETTINGS_ATTEMPTS: u32 = 3;

/// The file's name in errors.
const WHAT: &str = "your settings file";

/// One identity's settings file on one hub.
#[derive(Debug)]
pub struct SettingsFile {
    key: PrivateKey,
    token: String,
    read_url: String,
    store_url: String,
    /// False once a listing showed there is no file (spares a 404 in the console).
    may_exist: Cell<bool>,
}

impl SettingsFile {
    /// The settings file of `identity` on the hub at `hub_url` (`info` its `/hub_info`);
    /// `may_exist` false when a listing showed there is none yet.
    pub fn new(identity: &Identity, hub_url: &str, info: &HubInfo, may_exist: bool) -> Self {
        let token = bucket_token(&identity.key, &info.challenge_text, hub_url);
        SettingsFile {
            key: identity.key.clone(),
            read_url: read_url(&info.read_url_prefix, &identity.address, SETTINGS_PATH),
            store_url: store_url(hub_url, &identity.address, SETTINGS_PATH),
            token,
            may_exist: Cell::new(may_exist),
        }
    }

    /// As [`SettingsFile::new`], learning whether the file exists from a listing of the
    /// identity bucket (when the listing fails, the file is read to find out).
    pub async fn probe<H: Hub>(
        hub: &H,
        identity: &Identity,
        hub_url: &str,
        info: &HubInfo,
    ) -> Self {
        let file = SettingsFile::new(identity, hub_url, info, true);
        let exists = calls::list_names(hub, hub_url, &identity.address, &file.token)
            .await
            .map(|names| names.iter().any(|n| n == SETTINGS_PATH))
            .unwrap_or(true);
        file.set_may_exist(exists);
        file
    }

    /// The identity bucket's unscoped token (made once, for this file's calls).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether the file may exist (false when a listing showed it does not).
    pub fn may_exist(&self) -> bool {
        self.may_exist.get()
    }

    /// Records what a listing showed about the file's existence.
    pub(crate) fn set_may_exist(&self, exists: bool) {
        self.may_exist.set(exists);
    }

    fn spot(&self) -> FileSpot<'_> {
        FileSpot {
            read_url: &self.read_url,
            write: FileWrite {
                url: &self.store_url,
                token: &self.token,
                content_type: "application/json",
                what: WHAT,
            },
        }
    }

    /// The file as stored (`None` when there is none), unchecked.
    pub async fn read_raw<H: Hub>(&self, hub: &H) -> Result<Option<HubResponse>, H::Error> {
        if !self.may_exist.get() {
            return Ok(None);
        }
        calls::read(hub, &self.read_url, WHAT).await
    }

    /// The settings (a missing file is the default settings) and the stored version's
    /// ETag.
    pub async fn load<H: Hub>(
        &self,
        hub: &H,
        bulk: &impl Bulk,
    ) -> Result<(Settings, Option<String>), H::Error> {
        match self.read_raw(hub).await? {
            None => Ok((Settings::default(), None)),
            Some(a) => Ok((
                Settings::open_async(bulk, &a.body, &self.key).await?,
                a.etag,
            )),
        }
    }

    /// Replaces the file with `settings`, signed, if it is still the version with
    /// `etag` (`None`: if there is none).
    pub async fn replace<H: Hub>(
        &self,
        hub: &H,
        bulk: &impl Bulk,
        settings: &Settings,
        etag: Option<&str>,
    ) -> Result<(), H::Error> {
        let body = settings.seal_async(bulk, &self.key).await?;
        let condition = Condition::on_version(etag.is_some(), etag);
        match calls::store(hub, &self.spot().write, body, condition).await? {
            Stored::Done => {
                self.may_exist.set(true);
                Ok(())
            }
            Stored::Changed | Stored::Busy => Err(JobError::Changed {
                file: WHAT.to_string(),
            }
            .into()),
        }
    }

    /// Reads the settings, applies `change`, seals and stores them conditionally, again
    /// from a fresh read when they changed meanwhile (at most [`SETTINGS_ATTEMPTS`]
    /// times). Returns the settings as stored.
    pub async fn update<H: Hub>(
        &self,
        hub: &H,
        bulk: &impl Bulk,
        change: &mut dyn FnMut(&mut Settings) -> Result<(), H::Error>,
    ) -> Result<Settings, H::Error> {
        let key = &self.key;
        let stored = calls::update_file(
            hub,
            &self.spot(),
            self.may_exist.get(),
            SETTINGS_ATTEMPTS,
            async |existing| {
                let mut settings = match existing {
                    None => Settings::default(),
                    Some(a) => Settings::open_async(bulk, &a.body, key).await?,
                };
                change(&mut settings)?;
                let body = settings.seal_async(bulk, key).await?;
                Ok(Rewrite::Write {
                    body,
                    out: settings,
                })
            },
        )
        .await;
        if stored.is_ok() {
            self.may_exist.set(true);
        }
        stored
    }

    /// Journals `entry` (a job's progress) in the file: the only way jobs write it.
    pub async fn save_job<H: Hub>(
        &self,
        hub: &H,
        bulk: &impl Bulk,
        entry: &Job,
    ) -> Result<Settings, H::Error> {
        self.update(hub, bulk, &mut |s| {
            s.journal.save(entry.clone());
            Ok(())
        })
        .await
    }
}
