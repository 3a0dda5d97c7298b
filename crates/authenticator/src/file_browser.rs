//! The file browser's runner (docs/FILES_UI.md): the settings file (read, and
//! conditional updates for the undo journal), progressive `list-files` with `stat`,
//! reads of versions, and the hub writes of rollback, restore, "undo changes since" and
//! "Delete old versions". What to write is decided by [`cairn_core::collections::history`] and
//! [`cairn_core::collections::files`]; this module fetches and stores.

use cairn_browser::Error;
use cairn_browser::jobs::{BrowserHub, RunEnd};
use cairn_browser::wait::now_ms;
use cairn_browser::webcrypto::WebCrypto;
use cairn_core::collections::files::{ListPage, parse_list_page};
use cairn_core::collections::settings::Settings;
use cairn_core::collections::{
    CollectionKeys, HubContext, ITEM_PREFIX, owner_archival_token, owner_token,
};
use cairn_core::jobs::calls::{self, FileWrite, Stored};
use cairn_core::jobs::settings_file::SettingsFile;
use cairn_core::jobs::undo::{BucketAccess, UndoRun};
use cairn_core::jobs::{Job, JobError, drive};
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::{Identity, Keychain};
use cairn_core::protocol::gaia::{HubInfo, ListFilesRequest};
use cairn_core::protocol::hub_urls::{self, list_files_url};
use std::cell::RefCell;

/// The hub and the identity the browser works for.
pub struct Session {
    /// Hub write URL.
    pub hub_url: String,
    /// `/hub_info`.
    pub info: HubInfo,
    /// Identity index.
    pub identity: u32,
    /// The identity (its key signs the settings file; its address is the bucket).
    id: Identity,
}

impl Session {
    /// Asks the hub for its info.
    pub async fn open(keychain: &Keychain, identity: u32, hub_url: &str) -> Result<Self, Error> {
        let id = keychain.identity(identity)?;
        let info = calls::hub_info(&BrowserHub, hub_url).await?;
        Ok(Session {
            hub_url: hub_url.to_string(),
            info,
            identity,
            id,
        })
    }

    /// The collections context.
    pub fn context(&self) -> HubContext {
        HubContext {
            hub_url: self.hub_url.clone(),
            read_url_prefix: self.info.read_url_prefix.clone(),
            challenge_text: self.info.challenge_text.clone(),
        }
    }

    /// An unscoped token signed by `key`.
    pub fn token(&self, key: &PrivateKey) -> String {
        owner_token(key, &self.context(), (now_ms() / 1000.0) as u64)
    }

    /// The read URL of `path` in bucket `address`.
    pub fn read_url(&self, address: &str, path: &str) -> String {
        hub_urls::read_url(&self.info.read_url_prefix, address, path)
    }

    /// The identity's settings file, after a fresh listing of its bucket (a missing
    /// file would otherwise be a 404 in the console).
    async fn settings_file(&self) -> SettingsFile {
        SettingsFile::probe(&BrowserHub, &self.id, &self.hub_url, &self.info).await
    }

    /// Reads the settings file and its ETag (`None` when there is none yet).
    pub async fn settings(&self) -> Result<(Settings, Option<String>), Error> {
        self.settings_file()
            .await
            .load(&BrowserHub, &WebCrypto)
            .await
    }

    /// Applies `f` to the settings file through the core's one read → change →
    /// conditional write loop.
    pub async fn update_settings(&self, f: &dyn Fn(&mut Settings)) -> Result<Settings, Error> {
        self.settings_file()
            .await
            .update(&BrowserHub, &WebCrypto, &mut |s| {
                f(s);
                Ok(())
            })
            .await
    }

    /// One page of `list-files` with `stat`.
    pub async fn list_page(
        &self,
        address: &str,
        token: &str,
        page: Option<&str>,
    ) -> Result<ListPage, Error> {
        let body = ListFilesRequest {
            page: page.map(str::to_string),
            stat: true,
        }
        .to_value()
        .to_string();
        let a = calls::post_json(
            &BrowserHub,
            list_files_url(&self.hub_url, address),
            token,
            body,
        )
        .await?;
        if !(200..300).contains(&a.status) {
            return Err(JobError::Refused {
                doing: format!("listing the files of {address}"),
                status: a.status,
            }
            .into());
        }
        parse_list_page(&a.body).map_err(|reason| {
            JobError::Unreadable {
                what: format!("the hub's listing of {address} ({reason})"),
            }
            .into()
        })
    }

    /// Reads a file's body (`None` when it is gone).
    pub async fn read(&self, address: &str, path: &str) -> Result<Option<String>, Error> {
        Ok(
            calls::read(&BrowserHub, &self.read_url(address, path), path)
                .await?
                .map(|a| a.body),
        )
    }

    /// Stores `body` at `path` with `token`.
    pub async fn store(
        &self,
        address: &str,
        path: &str,
        token: &str,
        body: &str,
        content_type: &str,
    ) -> Result<(), Error> {
        let url = hub_urls::store_url(&self.hub_url, address, path);
        let write = FileWrite {
            url: &url,
            token,
            content_type,
            what: path,
        };
        match calls::store(&BrowserHub, &write, body.to_string(), None).await? {
            Stored::Done => Ok(()),
            Stored::Changed | Stored::Busy => Err(JobError::Changed {
                file: path.to_string(),
            }
            .into()),
        }
    }

    /// Deletes `path` with `token`; a file already gone counts as deleted.
    pub async fn delete(&self, address: &str, path: &str, token: &str) -> Result<(), Error> {
        calls::delete(&BrowserHub, &self.hub_url, address, path, token).await
    }
}

/// A collection bucket opened for browsing.
pub struct CollectionBucket {
    /// Keys (bucket key and every generation).
    pub keys: CollectionKeys,
    /// Unscoped owner token (listing sees history files; permanent deletion).
    pub owner: String,
    /// Archival owner token (rollback, restore, undo: the replaced version is kept).
    pub archival: String,
}

impl CollectionBucket {
    /// Derives the keys and mints the tokens.
    pub fn open(
        keychain: &Keychain,
        session: &Session,
        name: &str,
        generation: u32,
    ) -> Result<Self, Error> {
        let keys = CollectionKeys::derive(keychain, session.identity, name, generation)?;
        let iat = (now_ms() / 1000.0) as u64;
        let ctx = session.context();
        Ok(CollectionBucket {
            owner: owner_token(&keys.bucket_key, &ctx, iat),
            archival: owner_archival_token(&keys.bucket_key, &ctx, iat),
            keys,
        })
    }

    /// Where the bucket is and its archival token, for the core's jobs.
    pub fn access(&self, session: &Session) -> BucketAccess {
        BucketAccess {
            hub_url: session.hub_url.clone(),
            read_url_prefix: session.info.read_url_prefix.clone(),
            address: self.keys.address.clone(),
            archival_token: self.archival.clone(),
        }
    }

    /// Runs a rollback, restore or undo (planned in the core as an [`UndoRun`]) through
    /// the one job runner. Journaled runs save their progress in the settings file's
    /// journal; the settings as last written are returned with the run's end.
    pub async fn run(
        &self,
        session: &Session,
        run: &mut UndoRun,
        on_progress: impl FnMut(u64, u64),
        cancelled: impl Fn() -> bool,
    ) -> (RunEnd, Option<Settings>) {
        let latest: RefCell<Option<Settings>> = RefCell::new(None);
        let end = drive(
            &BrowserHub,
            run,
            async |entry: Job| {
                let s = session
                    .settings_file()
                    .await
                    .save_job(&BrowserHub, &WebCrypto, &entry)
                    .await?;
                *latest.borrow_mut() = Some(s);
                Ok(())
            },
            on_progress,
            cancelled,
        )
        .await;
        (end, latest.into_inner())
    }
}

/// The `collection/` prefix shown stripped in collection buckets.
pub fn collection_prefix() -> String {
    format!("{ITEM_PREFIX}/")
}
