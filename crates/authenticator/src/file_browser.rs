//! The file browser's runner (docs/FILES_UI.md): the settings file (read, and
//! conditional updates for the undo journal), progressive `list-files` with `stat`,
//! reads of versions, and the hub writes of rollback, restore, "undo changes since" and
//! "Delete old versions". What to write is decided by [`cairn_core::collections::history`] and
//! [`cairn_core::collections::files`]; this module fetches and stores.

use cairn_browser::http::{self, Stored};
use cairn_browser::jobs::{self, Rewrite, RunEnd};
use cairn_browser::wait::now_ms;
use cairn_browser::webcrypto::WebCrypto;
use cairn_browser::{Call, Error, ErrorKind};
use cairn_core::collections::files::{ListPage, parse_list_page};
use cairn_core::collections::settings::{SETTINGS_PATH, Settings};
use cairn_core::collections::{
    CollectionKeys, HubContext, ITEM_PREFIX, owner_archival_token, owner_token,
};
use cairn_core::jobs::Job;
use cairn_core::jobs::undo::{BucketAccess, UndoRun};
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::gaia::ListFilesRequest;
use cairn_core::protocol::gaia::{HubInfo, V1TokenOptions, make_v1_token};
use cairn_core::protocol::hub_urls::{self, list_files_url};
use cairn_core::protocol::signin::SETTINGS_ATTEMPTS;
use std::cell::RefCell;

/// The hub and the identity the browser works for.
pub struct Session {
    /// Hub write URL.
    pub hub_url: String,
    /// `/hub_info`.
    pub info: HubInfo,
    /// Identity index.
    pub identity: u32,
    /// The identity key (settings file).
    pub identity_key: PrivateKey,
    /// The identity bucket address.
    pub identity_address: String,
}

impl Session {
    /// Asks the hub for its info.
    pub async fn open(keychain: &Keychain, identity: u32, hub_url: &str) -> Result<Self, Error> {
        let id = keychain.identity(identity)?;
        let info = http::hub_info(hub_url).await?;
        Ok(Session {
            hub_url: hub_url.to_string(),
            info,
            identity,
            identity_key: id.key.clone(),
            identity_address: id.address.clone(),
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

    /// Reads the settings file and its ETag (`None` when there is none yet).
    pub async fn settings(&self) -> Result<(Settings, Option<String>), Error> {
        let token = make_v1_token(
            &self.identity_key,
            &self.info.challenge_text,
            &V1TokenOptions {
                hub_url: Some(self.hub_url.clone()),
                ..V1TokenOptions::default()
            },
        );
        if !self.settings_exist(&token).await? {
            return Ok((Settings::default(), None));
        }
        match http::read(&self.read_url(&self.identity_address, SETTINGS_PATH)).await? {
            None => Ok((Settings::default(), None)),
            Some(a) => Ok((
                Settings::open_async(&WebCrypto, &a.body, &self.identity_key).await?,
                a.etag,
            )),
        }
    }

    /// Whether the identity's bucket has a settings file (listing first: a missing file
    /// would otherwise be a 404 in the console).
    async fn settings_exist(&self, token: &str) -> Result<bool, Error> {
        let names = http::list_files(&self.hub_url, &self.identity_address, token).await?;
        Ok(names.iter().any(|n| n == SETTINGS_PATH))
    }

    /// Applies `f` to the settings file through the one read → change → conditional
    /// write loop ([`jobs::update_file`]).
    pub async fn update_settings(&self, f: &dyn Fn(&mut Settings)) -> Result<Settings, Error> {
        let token = self.token(&self.identity_key);
        let key = &self.identity_key;
        jobs::update_file(
            &self.read_url(&self.identity_address, SETTINGS_PATH),
            &hub_urls::store_url(&self.hub_url, &self.identity_address, SETTINGS_PATH),
            &token,
            "application/json",
            self.settings_exist(&token).await?,
            SETTINGS_ATTEMPTS,
            "your settings file",
            async |existing| {
                let mut s = match existing {
                    None => Settings::default(),
                    Some(a) => Settings::open_async(&WebCrypto, &a.body, key).await?,
                };
                f(&mut s);
                let body = s.seal_async(&WebCrypto, key).await?;
                Ok(Rewrite::Write { body, out: s })
            },
        )
        .await
    }

    /// One page of `list-files` with `stat`.
    pub async fn list_page(
        &self,
        address: &str,
        token: &str,
        page: Option<&str>,
    ) -> Result<ListPage, Error> {
        let url = list_files_url(&self.hub_url, address);
        let auth = format!("bearer {token}");
        let body = ListFilesRequest {
            page: page.map(str::to_string),
            stat: true,
        }
        .to_value()
        .to_string();
        let a = http::fetch(
            &url,
            "POST",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", auth.as_str()),
            ],
            Some(&body),
            http::HUB_TIMEOUT_MS,
        )
        .await?;
        if !(200..300).contains(&a.status) {
            return Err(Error::from(ErrorKind::Status {
                call: Call::List,
                status: a.status,
                url,
            }));
        }
        parse_list_page(&a.body).map_err(|reason| {
            Error::from(ErrorKind::Unreadable {
                url,
                reason,
                cause: None,
            })
        })
    }

    /// Reads a file's body (`None` when it is gone).
    pub async fn read(&self, address: &str, path: &str) -> Result<Option<String>, Error> {
        Ok(http::read(&self.read_url(address, path))
            .await?
            .map(|a| a.body))
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
        match http::store(
            &hub_urls::store_url(&self.hub_url, address, path),
            token,
            body,
            content_type,
            None,
        )
        .await?
        {
            Stored::Done => Ok(()),
            Stored::Conflict => Err(Error::from(ErrorKind::Status {
                call: Call::Store,
                status: 412,
                url: hub_urls::store_url(&self.hub_url, address, path),
            })),
        }
    }

    /// Deletes `path` with `token`; a file already gone counts as deleted.
    pub async fn delete(&self, address: &str, path: &str, token: &str) -> Result<(), Error> {
        let auth = format!("bearer {token}");
        let url = hub_urls::delete_url(&self.hub_url, address, path);
        let a = http::fetch(
            &url,
            "DELETE",
            &[("Authorization", auth.as_str())],
            None,
            http::HUB_TIMEOUT_MS,
        )
        .await?;
        match a.status {
            200..=299 | 404 => Ok(()),
            s => Err(Error::from(ErrorKind::Status {
                call: Call::Delete,
                status: s,
                url,
            })),
        }
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
        let end = jobs::run(
            run,
            async |entry: Job| {
                let s = session
                    .update_settings(&|s| s.journal.save(entry.clone()))
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
